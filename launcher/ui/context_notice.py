"""The notice shown when the start of a conversation no longer fits in the context.

It says which messages the model did not see, and offers the two fixes in one
click each: a larger context for this conversation (as large as the model
supports, and no larger), or a new chat that starts from a summary.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from launcher.core.context import Truncation


class ContextNotice(QWidget):
    """Signals:
    raiseRequested(int): give the conversation this context length.
    summaryRequested(): start a new chat from a summary of this one.
    """

    raiseRequested = Signal(int)
    summaryRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Context notice")
        self.text = QLabel(self)
        self.text.setAccessibleName("Context warning")
        self.text.setWordWrap(True)
        self.raise_button = QPushButton(self)
        self.raise_button.setAccessibleName("Raise context length")
        self.summary_button = QPushButton("New chat from a summar&y", self)
        self.summary_button.setAccessibleName("New chat from a summary")
        self.summary_button.setToolTip(
            "Ask the model for a summary of this conversation and continue in a new chat"
        )
        self.dismiss = QPushButton("Dismiss", self)
        self.dismiss.setAccessibleName("Dismiss context notice")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.raise_button)
        row.addWidget(self.summary_button)
        row.addWidget(self.dismiss)
        self.cut: Truncation | None = None
        self.raise_button.clicked.connect(self._raise)
        self.summary_button.clicked.connect(self.summaryRequested.emit)
        self.dismiss.clicked.connect(self.hide)
        self.hide()

    def show_cut(self, cut: Truncation) -> None:
        self.cut = cut
        self.text.setText(cut.notice() + ".")
        size = cut.suggested_ctx
        self.raise_button.setVisible(size is not None and size > cut.limit)
        if size is not None:
            self.raise_button.setText(f"&Raise the context to {size:,} tokens")
            self.raise_button.setToolTip(
                "Use a larger context for this conversation (needs more memory); "
                "the next message uses it"
            )
        self.show()

    def _raise(self) -> None:
        if self.cut is not None and self.cut.suggested_ctx is not None:
            self.raiseRequested.emit(self.cut.suggested_ctx)
            self.hide()
