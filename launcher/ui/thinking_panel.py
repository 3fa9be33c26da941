"""The live view of a model's thinking while it streams, collapsed unless asked for.

Once a reply has ended, its thinking lives inside its own message in the
transcript ("Thought for 12 s — show" expands it there); this panel shows the
thinking of the reply being written, live, when the user opens it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QToolButton, QWidget

from launcher.ui.format import human_duration


class ThinkingPanel:
    """A toggle (for the actions row) and the text pane it opens.

    Not a widget itself: its two widgets sit in different rows of the chat panel.
    """

    def __init__(self, parent: QWidget) -> None:
        self.toggle = QToolButton(parent)
        self.toggle.setText("Show thinking")
        self.toggle.setAccessibleName("Show thinking")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.toggle.hide()
        self.text = QPlainTextEdit(parent)
        self.text.setAccessibleName("Thinking")
        self.text.setReadOnly(True)
        self.text.setVisible(False)
        self.text.setMaximumHeight(140)
        self.seconds: float | None = None
        self.toggle.toggled.connect(self._on_toggled)

    def append(self, text: str) -> None:
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.update()

    def set_text(self, text: str, seconds: float | None) -> None:
        self.text.setPlainText(text)
        self.seconds = seconds
        self.update()

    def clear(self) -> None:
        self.text.clear()
        self.seconds = None
        self.update()

    def update(self) -> None:
        """The toggle says how long the model thought, and whether clicking shows or hides."""
        shown = self.toggle.isChecked()
        has = bool(self.text.toPlainText())
        self.toggle.setVisible(has)
        verb = "hide" if shown else "show"
        if self.seconds is not None:
            took = f"{self.seconds:.1f} s" if self.seconds < 10 else human_duration(self.seconds)
            self.toggle.setText(f"Thought for {took} — {verb}")
        else:
            self.toggle.setText(f"Thinking… — {verb}" if has else "Show thinking")

    def _on_toggled(self, shown: bool) -> None:
        self.text.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.toggle.setArrowType(arrow)
        self.update()
