"""Paints a log-intelligence hint (`core/loghints.hint_for`) under the log line it explains."""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor

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
    fmt.setToolTip(hint)
    cursor.insertText("\n" + HINT_PREFIX + hint, fmt)
    cursor.setCharFormat(QTextCharFormat())
    return True
