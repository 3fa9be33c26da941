"""Writes a long conversation's earlier messages on request, a few milliseconds at a time.

Opening a conversation writes only its newest messages (`transcript_budget`), so the
first paint does not wait for thousands of Markdown renders. The older ones come in
batches, from the "Show earlier messages (N)" button above the transcript, from
scrolling to its top, or from Alt+Up past the first message shown. A batch is written
into a hidden transcript in slices of at most `SLICE_SECONDS` (the event loop runs
between them), then moved in front of the shown messages in one step, the reader's
place kept. While a reply is being written that step waits until it is done.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QPushButton

from launcher.core.conversation import Conversation
from launcher.ui.transcript_budget import BATCH_CHARS, BATCH_MESSAGES, batch_start
from launcher.ui.transcript_document import TranscriptDocument

#: The longest the writing of earlier messages keeps the event loop in one go (a single
#: message is never cut, so one huge message can take longer).
SLICE_SECONDS = 0.012
#: Scrolled to within this many pixels of the top: the next batch is written.
NEAR_TOP = 40


class EarlierMessages(QObject):
    """The control and the writer of the earlier messages of one transcript.

    Attributes:
        button: "Show earlier messages (N)" (accessible name "Show earlier messages"),
            shown above the transcript while some are not written yet.
    """

    def __init__(self, view: TranscriptDocument) -> None:
        super().__init__(view)
        self._view = view
        self.button = QPushButton(view)
        self.button.setAccessibleName("Show earlier messages")
        self.button.setToolTip("Show the messages before these (or scroll to the top)")
        self.button.clicked.connect(self.load)
        self.button.hide()
        self._writer: TranscriptDocument | None = None
        #: (conversation, first index of the batch, next index to write, first shown)
        self._job: tuple[Conversation, int, int, int] | None = None
        #: The batch, complete, waiting to be moved in (built in a turn of its own).
        self._fragment: QTextDocumentFragment | None = None
        self._slices = QTimer(self)
        self._slices.setSingleShot(True)
        self._slices.setInterval(0)
        self._slices.timeout.connect(self._write_slice)
        self._move_in = QTimer(self)  # after a reply closes: out of the writer's call
        self._move_in.setSingleShot(True)
        self._move_in.setInterval(0)
        self._move_in.timeout.connect(self._prepend)
        self._near_top = QTimer(self)
        self._near_top.setSingleShot(True)
        self._near_top.setInterval(0)
        self._near_top.timeout.connect(self._check_top)
        view.closed.connect(self._on_closed)
        view.verticalScrollBar().valueChanged.connect(lambda _value: self._near_top.start())
        view.installEventFilter(self)

    @property
    def loading(self) -> bool:
        """A batch is being written (or waits to be moved in)."""
        return self._job is not None

    def reset(self) -> None:
        """Another conversation (or the same one again) is being shown: drop the batch."""
        self._job = None
        self._fragment = None
        self._slices.stop()
        self._move_in.stop()
        if self._writer is not None:
            self._writer.clear()
            self._writer.forget_codes()

    def sync(self) -> None:
        """Show the button (and the strip it sits in) while earlier messages are not written."""
        view = self._view
        waiting = view.first_shown
        follow = view.at_bottom()
        if waiting and view.conversation is not None:
            self.button.setText(
                "Loading earlier messages…"
                if self.loading
                else f"Show earlier messages ({waiting:,})"
            )
            self.button.setEnabled(not self.loading)
            view.setViewportMargins(0, self.button.sizeHint().height() + 4, 0, 0)
            self._place()
            self.button.show()
        else:
            self.button.hide()
            view.setViewportMargins(0, 0, 0, 0)
        if follow:
            view.scroll_to_bottom()

    def load(self) -> None:
        """Write the next batch of earlier messages (no-op while one is on its way)."""
        view = self._view
        conversation = view.conversation
        if self._job is not None or conversation is None or view.first_shown <= 0:
            return
        first = view.first_shown
        start = batch_start(conversation.messages, first, chars=BATCH_CHARS, count=BATCH_MESSAGES)
        if self._writer is None:
            self._writer = TranscriptDocument(view)
            self._writer.hide()
            self._writer.resize(view.viewport().size())
        self._writer.start_earlier(view)
        self._job = (conversation, start, start, first)
        self._fragment = None
        self.sync()
        self._slices.start()

    # ---- the batch, slice by slice ----------------------------------------

    def _current(self) -> tuple[Conversation, int, int, int] | None:
        """The job, if the view still shows what it was started for (and is shown at all:
        a closed window writes nothing)."""
        job, view = self._job, self._view
        if (
            job is None
            or job[0] is not view.conversation
            or job[3] != view.first_shown
            or not view.isVisible()
        ):
            self.reset()
            self.sync()
            return None
        return job

    def _write_slice(self) -> None:
        job = self._current()
        if job is None or self._writer is None:
            return
        conversation, start, index, first = job
        deadline = time.perf_counter() + SLICE_SECONDS
        while index < first and time.perf_counter() < deadline:
            self._writer.write_messages(conversation, index, index + 1)
            index += 1
        self._job = (conversation, start, index, first)
        if index < first:
            self._slices.start()
            return
        self._fragment = self._writer.as_fragment()
        self._move_in.start()

    def _on_closed(self) -> None:
        if self._fragment is not None:
            self._move_in.start()

    def _prepend(self) -> None:
        """Move the written batch in front (not while a message is being written)."""
        job = self._current()
        if job is None or self._fragment is None or self._writer is None:
            return
        if self._view.is_writing():
            return  # `closed` brings us back
        self._view.prepend_from(self._writer, job[1], self._fragment)
        self._job = None
        self._fragment = None
        self.sync()

    # ---- where the button sits; scrolling to the top -------------------------

    def _place(self) -> None:
        view, button = self._view, self.button
        hint = button.sizeHint()
        width = min(hint.width(), view.width())
        button.setGeometry((view.width() - width) // 2, view.frameWidth() + 2, width, hint.height())

    def _check_top(self) -> None:
        bar = self._view.verticalScrollBar()
        if self._view.isVisible() and bar.maximum() > 0 and bar.value() <= NEAR_TOP:
            self.load()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._view and event.type() == QEvent.Type.Resize and self.button.isVisible():
            self._place()
        return False
