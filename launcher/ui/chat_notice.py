"""A failure said in words above the composer, with Retry: what happened and what to do.

The headline comes from `explain()`; the technical text waits behind a Details
button (and is in the log), never in the headline.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QToolButton, QWidget

from launcher.core.explain import Explanation


class NoticeBar(QWidget):
    """Shows one Explanation; `retry_button` is wired by the chat panel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(self)
        self.text.setAccessibleName("Chat notice")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QToolButton(self)
        self.details_button.setText("Details")
        self.details_button.setAccessibleName("Error details")
        self.details_button.setCheckable(True)
        self.details_button.setAutoRaise(True)
        self.details = QLabel(self)
        self.details.setAccessibleName("Technical details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setAccessibleName("Retry")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 0, 0)
        layout.addWidget(self.details_button, 0, 1)
        layout.addWidget(self.retry_button, 0, 2)
        layout.addWidget(self.details, 1, 0, 1, 3)
        layout.setColumnStretch(0, 1)
        self.details_button.toggled.connect(self.details.setVisible)
        self.hide()

    def show_explanation(self, explanation: Explanation, *, can_retry: bool) -> None:
        self.text.setText(f"⚠ {explanation.headline}")
        self.details.setText(explanation.details)
        self.details_button.setChecked(False)
        self.details_button.setVisible(bool(explanation.details))
        self.retry_button.setVisible(can_retry)
        self.show()
