"""Paints a log-intelligence hint (`core/loghints.hint_for`) under the log line it explains,
and shows it as the tooltip of that line."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtGui import QColor, QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QToolTip

from launcher.core.loghints import hint_for

HINT_COLOUR = "#1565c0"
HINT_PREFIX = "  → "


def insert_hint(cursor: QTextCursor, line: str) -> bool:
    """Insert "→ hint" on its own line, in a distinct colour, when `line` shows a known problem.

    Returns whether a hint was inserted. The caller has just inserted `line`.
    """
    hint = hint_for(line)
    if hint is None:
        return False
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(HINT_COLOUR))
    fmt.setFontItalic(True)
    cursor.insertText("\n" + HINT_PREFIX + hint, fmt)
    cursor.setCharFormat(QTextCharFormat())
    return True


class HintTooltips(QObject):
    """Shows a line's hint as its tooltip (installed on a log view's viewport)."""

    def __init__(self, view: QPlainTextEdit) -> None:
        super().__init__(view)
        self.view = view
        view.viewport().installEventFilter(self)

    def hint_at(self, pos: QPoint) -> str | None:
        """The hint for the log line under `pos` (viewport coordinates), if any."""
        block = self.view.cursorForPosition(pos).block()
        text = block.text()
        if text.startswith(HINT_PREFIX):
            return text[len(HINT_PREFIX) :]
        return hint_for(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            hint = self.hint_at(event.pos())
            if hint:
                QToolTip.showText(event.globalPos(), hint, self.view.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)
