"""Paints a streaming reply on a timer, within a time budget, so a burst never freezes the window.

The turn only accumulates text; this painter drains it every 80 ms (every 5 ms while a
backlog is waiting) and renders at most `RENDER_BUDGET_SECONDS` of it per tick, in
pieces of `RENDER_PIECE_CHARS` (a piece is not started when one more, taking as long
as the last, would end past the budget: the window's own repaint still follows).
A server sending thousands of chunks a second therefore costs at most a few small
paints a second, and a 10 MB reply is shown progressively instead of in one long stall.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from launcher.core.chat import ChatTurn
from launcher.ui.conversation_view import MAX_SHOWN_CHARS, ConversationView
from launcher.ui.markdown import MarkdownStream

#: A model writes 20-200 tokens a second: 12 paints a second still show every few words
#: as they come, and each paint re-renders the unfinished block (half the CPU of 25).
PAINT_INTERVAL_MS = 80
#: While text is waiting to be rendered, paint again as soon as the window has had its
#: turn (its repaint, input, the network), each paint spending at most the budget: a
#: burst is shown progressively instead of freezing the window. The budget leaves room,
#: within the 35 ms the window may stall, for a last piece that runs past it (a piece
#: takes 1-15 ms), the repaint the paint causes (1-9 ms) and a network read's turn (up
#: to 2 ms, see ollama/stream.py). Measured on 100,000 chunks (tests/benchmarks/bench_ui,
#: the main thread's own CPU between two 5 ms ticks): 18 ms every 25 ms held the loop for
#: up to 30-39 ms and showed it all in 5.8-6.1 s; 10 ms every 5 ms, 20-24 ms and 3.7-4.4 s
#: (a paint no longer waits out the interval).
BACKLOG_INTERVAL_MS = 5
RENDER_BUDGET_SECONDS = 0.010
RENDER_PIECE_CHARS = 1500


class ReplyPainter(QObject):
    """Drains one ChatTurn into the conversation view: its thinking, then its text.

    Args:
        view: the transcript (its open reply is the turn's).
        on_progress: called after every paint (to say how the turn is going).

    Signals:
        drained(object): the turn has ended and everything it produced is painted.
    """

    drained = Signal(object)

    def __init__(
        self,
        view: ConversationView,
        on_progress: Callable[[ChatTurn], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._view = view
        self._on_progress = on_progress
        self._timer = QTimer(self)
        self._timer.setInterval(PAINT_INTERVAL_MS)
        self._timer.timeout.connect(self.paint)
        self.turn: ChatTurn | None = None
        self.index = -1  # the reply's message index
        self._backlog = ""  # received, not yet rendered
        self._room = MAX_SHOWN_CHARS  # how much more of the reply the view shows
        self._backlog_pos = 0
        self._ending = False

    def start(self, turn: ChatTurn, index: int) -> None:
        self.turn, self.index = turn, index
        self._room = MAX_SHOWN_CHARS - (len(turn.reply.content) if turn.continuation else 0)
        self._backlog, self._backlog_pos = "", 0
        self._ending = False
        self._timer.setInterval(PAINT_INTERVAL_MS)
        self._timer.start()

    def end(self, *, flush: bool) -> None:
        """The turn ended: paint what is left (all at once when `flush`), then `drained`."""
        if self.turn is None:
            return
        self._ending = True
        self.paint(flush=flush)

    def release(self) -> None:
        """Forget the turn (the view moved on); nothing more is painted."""
        self._timer.stop()
        self.turn = None
        self._backlog, self._backlog_pos = "", 0
        self._ending = False

    def paint(self, *, flush: bool = False) -> None:
        """Render what arrived, within a time budget unless `flush`; the rest waits."""
        turn, view = self.turn, self._view
        if turn is None:
            return
        thinking, content = turn.take_new_text()
        if thinking and view.open_stream is None:  # live, under the reply's header
            view.show_thinking(self.index, turn.thinking, seconds=None, live=True)
        if content and view.open_stream is None:
            if turn.thinking:  # the thinking is over: say how long it took
                view.show_thinking(
                    self.index, turn.thinking, seconds=turn.thinking_seconds, live=False
                )
            view.content_stream()
        stream: MarkdownStream | None = view.open_stream
        if content and self._room > 0:
            content = content[: self._room]  # beyond it, the end line says what is not shown
            self._room -= len(content)
            self._backlog = self._backlog[self._backlog_pos :] + content
            self._backlog_pos = 0
        if self._backlog_pos < len(self._backlog) and stream is not None:
            follow = view.at_bottom()
            now = time.perf_counter()
            deadline = now + RENDER_BUDGET_SECONDS
            piece = 0.0  # what the last piece took: the next one is not started past
            while self._backlog_pos < len(self._backlog) and (flush or now + piece < deadline):
                end = self._backlog_pos + RENDER_PIECE_CHARS
                stream.append(self._backlog[self._backlog_pos : end])
                self._backlog_pos = min(end, len(self._backlog))
                stream.render()
                done = time.perf_counter()
                piece, now = done - now, done
            if follow:
                view.scroll_to_bottom()
        waiting = self._backlog_pos < len(self._backlog)
        self._timer.setInterval(BACKLOG_INTERVAL_MS if waiting else PAINT_INTERVAL_MS)
        self._on_progress(turn)
        if self._ending and not waiting:
            self._timer.stop()
            self.drained.emit(turn)
