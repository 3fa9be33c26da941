"""The Server log tab: the child's output, batched, coloured, filtered, searchable, savable.

Which lines are our own polling and which are warnings or errors is decided
by the Qt-free rules in `launcher.core.logfilter`; this module only paints.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QGuiApplication,
    QHideEvent,
    QKeySequence,
    QPalette,
    QShortcut,
    QShowEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from launcher.core.explain import explain
from launcher.core.logbuffer import LogBuffer
from launcher.core.logfilter import LineKind, classify, matches
from launcher.core.loghints import hint_for
from launcher.ui.file_dialog import FileDialogSlot
from launcher.ui.log_hints import HintTooltips, insert_hint

MAX_LINES = 5000
COLOURS = {LineKind.WARNING: "#b26a00", LineKind.ERROR: "#c62828"}
DARK_COLOURS = {LineKind.WARNING: "#ffb74d", LineKind.ERROR: "#ef7070"}
Spawn = Callable[[Coroutine[Any, Any, None]], object]


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


class LogView(QWidget):
    """The log text (accessible name "Server log") with its toolbar.

    Lines arrive from any listener call but are painted on a timer, so a
    chatty server cannot flood the UI. The view keeps the last MAX_LINES lines
    itself, so the "Show launcher requests" toggle can repaint without asking
    the server again.

    Signals:
        message(str): a short note for the status bar ("Saved to …").
    """

    message = Signal(str)

    def __init__(
        self, log: LogBuffer, parent: QWidget | None = None, *, spawn: Spawn | None = None
    ) -> None:
        super().__init__(parent)
        self._spawn: Spawn = spawn or (lambda coro: asyncio.ensure_future(coro))
        self.text = QPlainTextEdit(self)
        self.text.setAccessibleName("Server log")
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.show_polls = QCheckBox("Show &launcher requests", self)
        self.show_polls.setAccessibleName("Show launcher requests")
        self.show_polls.setToolTip(
            "Show the launcher's own status checks (GET /api/version, /api/ps, HEAD /)"
        )
        self.search = QLineEdit(self)
        self.search.setAccessibleName("Search log")
        self.search.setPlaceholderText("Search the log (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search_result = QLabel(self)
        self.search_result.setAccessibleName("Search log result")
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setAccessibleName("Copy log")
        self.copy_button.setToolTip("Copy the selected lines, or the whole visible log")
        self.save_button = QPushButton("&Save…", self)
        self.save_button.setAccessibleName("Save log")
        self.save_button.setToolTip("Save the visible log to a text file")
        self.file_dialog = FileDialogSlot()
        self.saving: asyncio.Task[None] | None = None

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.search_result)
        bar.addWidget(self.show_polls)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        self.setTabOrder(self.search, self.show_polls)
        self.setTabOrder(self.show_polls, self.copy_button)
        self.setTabOrder(self.copy_button, self.save_button)
        self.setTabOrder(self.save_button, self.text)

        self._lines: deque[str] = deque(log.lines(), maxlen=MAX_LINES)
        self._pending: list[str] = list(self._lines)
        # One paint per 100 ms at most, and only when lines arrived: an idle log costs
        # no wake-ups (a repeating timer cost ~0.1 % of a core doing nothing).
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._flush)
        self._log = log
        self._viewing = False  # counted in log.viewers: the file tail polls faster
        self._unsubscribe = log.subscribe(self._on_line)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        if self._pending:
            self._timer.start()
        self.hint_tooltips = HintTooltips(self.text)  # a problem line's fix as its tooltip

        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.focus_search)
        find_next = QShortcut(QKeySequence.StandardKey.FindNext, self)
        find_next.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find_next.activated.connect(self.find_next)
        self.show_polls.toggled.connect(lambda _on: self._repaint())
        self.search.textChanged.connect(lambda _t: self._highlight())
        self.search.returnPressed.connect(self.find_next)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self.ask_save)

    # ---- lines ----------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Shown: the server's log file is read promptly while somebody looks."""
        super().showEvent(event)
        self._set_viewing(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._set_viewing(False)

    def _set_viewing(self, viewing: bool) -> None:
        if viewing != self._viewing:
            self._viewing = viewing
            self._log.viewers += 1 if viewing else -1

    def _on_line(self, line: str) -> None:
        self._lines.append(line)
        self._pending.append(line)
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        self._append(lines)

    def _append(self, lines: list[str]) -> None:
        show_polls = self.show_polls.isChecked()
        bar = self.text.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        colours = DARK_COLOURS if _dark(self.palette()) else COLOURS
        plain = QTextCharFormat()
        formats = {kind: plain for kind in LineKind}
        for kind, colour in colours.items():
            formats[kind] = QTextCharFormat()
            formats[kind].setForeground(QColor(colour))
        # Consecutive lines of one colour go in as one insert: a repaint of the whole
        # log is one insert per colour change, not one per line. A line with a hint
        # (log intelligence: "→ how to fix it") ends its run, so the hint goes under it.
        runs: list[tuple[QTextCharFormat, list[str]]] = []
        open_run = False
        for line in lines:
            kind = classify(line)
            if kind is LineKind.POLL and not show_polls:
                continue
            fmt = formats[kind]
            if open_run and runs[-1][0] is fmt:
                runs[-1][1].append(line)
            else:
                runs.append((fmt, [line]))
            open_run = hint_for(line) is None
        first = self.text.document().isEmpty()
        for fmt, run in runs:
            if not first:
                cursor.insertText("\n", plain)
            cursor.insertText("\n".join(run), fmt)
            insert_hint(cursor, run[-1])
            first = False
        if at_bottom:
            bar.setValue(bar.maximum())
        if self.search.text():
            self._highlight()

    def _repaint(self) -> None:
        """Paint every kept line again (after the filter changed)."""
        self._pending.clear()
        self.text.clear()
        self._append(list(self._lines))

    def visible_text(self) -> str:
        return self.text.toPlainText()

    # ---- search ---------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _highlight(self) -> None:
        """Mark every match; say how many there are."""
        query = self.search.text()
        selections: list[QTextEdit.ExtraSelection] = []
        if query:
            fmt = QTextCharFormat()
            fmt.setBackground(self.palette().color(QPalette.ColorRole.Highlight).lighter(150))
            document = self.text.document()
            cursor = document.find(query, 0)
            while not cursor.isNull() and len(selections) < 1000:
                selection = QTextEdit.ExtraSelection()
                selection.cursor = cursor
                selection.format = fmt
                selections.append(selection)
                cursor = document.find(query, cursor)
        self.text.setExtraSelections(selections)
        lines = self.visible_text().splitlines() if query else []
        count = sum(1 for line in lines if matches(line, query))
        if not query:
            self.search_result.clear()
        elif count:
            self.search_result.setText(f"{count} line{'s' if count != 1 else ''}")
        else:
            self.search_result.setText("No match")

    def find_next(self) -> bool:
        """Select the next match after the cursor, wrapping round; False when none."""
        query = self.search.text()
        if not query:
            return False
        if self.text.find(query):
            return True
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Start)
        self.text.setTextCursor(cursor)
        return self.text.find(query, QTextDocument.FindFlag(0))

    # ---- copy and save --------------------------------------------------

    def copy(self) -> None:
        """The selection, or the whole visible log, to the clipboard."""
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        QGuiApplication.clipboard().setText(selected or self.visible_text())
        self.message.emit("Log copied.")

    def ask_save(self) -> None:
        """Choose a file (window-modal dialog, opened, never exec'd), then save to it."""
        home = str(Path.home() / "ollama-server.log")
        dialog = self.file_dialog.new(self, "Save the server log", home)
        if dialog is None:
            return
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["Log files (*.log *.txt)", "All files (*)"])
        dialog.fileSelected.connect(lambda path: self.save(Path(path)))
        dialog.open()

    def save(self, path: Path) -> None:
        """Write the visible log to `path` in a worker thread; say how it went."""
        self._spawn(self._save(path, self.visible_text() + "\n"))

    async def _save(self, path: Path, text: str) -> None:
        try:
            await asyncio.to_thread(_write, path, text)
        except OSError as exc:
            self.message.emit(f"The log was not saved. {explain(exc).headline}")
            return
        self.message.emit(f"Log saved to {path}.")


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128
