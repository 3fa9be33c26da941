"""The server log view: the child's stdout and stderr, appended in batches."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from launcher.core.logbuffer import LogBuffer
from launcher.ui.log_hints import HintTooltips, insert_hint

MAX_LINES = 5000


class LogView(QPlainTextEdit):
    """Read-only, bounded, and fed on a timer so a chatty server cannot flood the UI."""

    def __init__(self, log: LogBuffer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Server log")
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._pending: list[str] = list(log.lines())
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._flush)
        self._unsubscribe = log.subscribe(self._on_line)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self._timer.start()
        self.hint_tooltips = HintTooltips(self)  # a problem line's fix as its tooltip (doctor)

    def _on_line(self, line: str) -> None:
        self._pending.append(line)

    def _flush(self) -> None:
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        first = self.document().isEmpty()
        for line in lines:
            cursor.insertText(line if first else "\n" + line, QTextCharFormat())
            insert_hint(cursor, line)  # log intelligence: "→ how to fix it" (doctor)
            first = False
        if at_bottom:
            bar.setValue(bar.maximum())
