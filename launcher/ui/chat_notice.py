"""A failure said in words above the composer, with Retry: what happened and what to do.

The headline comes from `explain()`; the technical text is in the tooltip (and the
log), never the headline.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from launcher.core.explain import Explanation


class NoticeBar(QWidget):
    """Shows one Explanation; `retry_button` is wired by the chat panel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(self)
        self.text.setAccessibleName("Chat notice")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setAccessibleName("Retry")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry_button)
        self.hide()

    def show_explanation(self, explanation: Explanation, *, can_retry: bool) -> None:
        self.text.setText(f"⚠ {explanation.headline}")
        self.text.setToolTip(explanation.details)
        self.retry_button.setVisible(can_retry)
        self.show()
