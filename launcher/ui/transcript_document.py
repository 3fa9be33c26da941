"""The transcript's document: messages written at its end, safe Markdown for replies.

Its plain text is the transcript: "You", the user's text, "Assistant (model)",
the reply, and a line that says how the reply ended. Your messages sit in a
tinted box, replies flow under their header, lines stay readable (about 80
characters) on wide windows. Status lines (Stopped, Interrupted, errors) are
plain blocks written after the Markdown is finished, so they never land inside
a list or a table. The view remembers which document range belongs to which
message, so the hover actions and the context menu can act on it.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Signal
from PySide6.QtGui import (
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QWidget

from launcher.core.attachments import split_message
from launcher.core.conversation import Conversation, Message
from launcher.ui.format import human_bytes
from launcher.ui.markdown import MarkdownStream
from launcher.ui.thumbnails import ThumbnailCache
from launcher.ui.transcript_budget import batch_start
from launcher.ui.transcript_scroll import TranscriptView
from launcher.ui.transcript_style import (
    ASSISTANT_COLOURS,
    ERROR_COLOURS,
    NOTE_COLOURS,
    QUIET_COLOURS,
    THINKING_COLOURS,
    USER_COLOURS,
    line_format,
    stats_text,
    thinking_frame_format,
    thinking_text,
    tone,
    user_frame_format,
    write_versions,
)


class ReplyExtrasHook(Protocol):
    """Writes what a reply shows besides its text (ui/chatplus_wiring.py)."""

    def before_content(self, view: TranscriptDocument, index: int) -> None: ...

    def after_content(self, view: TranscriptDocument, index: int, message: Message) -> None: ...

    def after_reply(self, view: TranscriptDocument, index: int, message: Message) -> None: ...


THINKING_SCHEME = "thinking"
VERSION_SCHEME = "version"
#: A reply longer than this shows only its beginning (Copy still copies all of it): a
#: multi-megabyte document makes every layout and paint slow, whatever the painter does.
MAX_SHOWN_CHARS = 1_000_000
#: Copy-link ids of code in earlier messages (written apart, then moved in) start here,
#: far from the ids the live transcript allocates from 0: the two never meet.
EARLIER_CODE_IDS = 1 << 40


class TranscriptDocument(TranscriptView):
    """Writes messages into the document and remembers which range is which message;
    `ConversationView` adds what a person does with them (hover actions, links, menu).

    A long conversation is written from `first_shown` on (its newest messages); older
    ones are written apart (`write_messages` on another instance) and put in front with
    `prepend_from`. Signal `closed()`: a message was finished (no message is open now).
    """

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: The conversation shown, and the index of its first message in the document.
        self.conversation: Conversation | None = None
        self.first_shown = 0
        self._earlier_codes = EARLIER_CODE_IDS  # the next id for code in earlier messages
        #: Where image resources go (another transcript's document, when writing for it).
        self.resources_into: QTextDocument | None = None
        self.setAccessibleName("Conversation")
        self.setMinimumHeight(160)
        self.setMouseTracking(True)
        # The scroll bar changes with every paint of a streaming reply. Its container is
        # transparent by default, so each change repainted every widget behind it up to
        # the window, each through the style sheet: opaque, only the bar is painted.
        bar_box = self.verticalScrollBar().parentWidget()
        if bar_box is not None:
            bar_box.setAutoFillBackground(True)
        self._ranges: list[tuple[int, int, int, str]] = []  # start, end, index, role
        self._open: tuple[int, int, str] | None = None  # start, index, role
        self._messages: list[Message] = []
        self.open_stream: MarkdownStream | None = None
        self._thinking_from: int | None = None  # where the open reply's thinking starts
        self._thinking_written = False
        #: Replies whose thinking is shown inside the message (by index).
        self.expanded_thinking: set[int] = set()
        self.thumbnails = ThumbnailCache(self)
        #: What replies show besides their text (tool steps, token probabilities, cut
        #: context): see ui/chatplus_wiring.py; None: nothing.
        self.extras: ReplyExtrasHook | None = None

    # ---- building the document -------------------------------------------

    def _end(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def append_line(
        self,
        text: str,
        *,
        bold: bool = False,
        colour: str = "",
        italic: bool = False,
        href: str = "",
        top_margin: float = 0,
        small: bool = False,
    ) -> None:
        """A paragraph of plain (never interpreted) text at the end of the document.

        A fresh block format: the line is never part of a list, quote or code block
        the Markdown before it left open."""
        cursor = self._end()
        block = QTextBlockFormat()
        block.setTopMargin(top_margin)
        if self.document().isEmpty():
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block, QTextCharFormat())
        fmt = line_format(bold=bold, colour=colour, italic=italic, href=href, small=small)
        cursor.insertText(text, fmt)

    def _begin_message(self, index: int, role: str) -> None:
        self._open = (self._end().position(), index, role)

    def _close_message(self) -> None:
        if self._open is not None:
            start, index, role = self._open
            self._ranges.append((start, self._end().position(), index, role))
            self._open = None
            self.closed.emit()

    def append_user(self, message: Message, index: int) -> None:
        """The user's message, in a tinted box."""
        self._begin_message(index, "user")
        cursor = self._end()
        if not self.document().isEmpty():
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        cursor.insertFrame(user_frame_format())
        cursor.insertText("You", line_format(bold=True, colour=tone(USER_COLOURS)))
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        text, files = split_message(message.content)
        if files:
            chips = "  ".join(f"[File: {f.chip()}]" for f in files)
            text = f"{text}\n{chips}" if text else chips
        if message.images:
            count = len(message.images)
            text += "\n[" + (f"{count} image" if count == 1 else f"{count} images") + " attached]"
        cursor.insertText(text, QTextCharFormat())
        if message.images:
            target = self.resources_into or self.document()
            self.thumbnails.insert(cursor, message.images, target)
        self._messages_at(index, message)
        self._close_message()

    def begin_reply(self, model: str, index: int) -> None:
        """The reply's header; its thinking (if any) and its text follow."""
        self._begin_message(index, "assistant")
        self.append_line(
            f"Assistant ({model})" if model else "Assistant",
            bold=True,
            colour=tone(ASSISTANT_COLOURS),
            top_margin=10,
        )
        self.open_stream = None
        self._thinking_from = self._end().position()
        self._thinking_written = False

    def show_thinking(
        self, index: int, thinking: str, *, seconds: float | None, live: bool
    ) -> None:
        """(Re)write the reply's thinking under its header: a link that says how long the
        model thought (or that it is thinking), and the text itself when opened. Only
        before the reply's text began (thinking comes first); live while it streams."""
        if self.open_stream is not None or self._thinking_from is None or not thinking:
            return
        cursor = self._end()
        cursor.setPosition(self._thinking_from, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        shown = index in self.expanded_thinking
        verb = "hide" if shown else "show"
        if live and seconds is None:
            label = f"Thinking… ({len(thinking.split())} words) — {verb}"
        else:
            stats = {} if seconds is None else {"thinking_seconds": seconds}
            label = thinking_text(Message("assistant", "", thinking, stats=stats), shown=shown)
        self.append_line(
            label, italic=True, colour=tone(THINKING_COLOURS), href=f"{THINKING_SCHEME}:{index}"
        )
        if shown:
            self._thinking_block(thinking)
        self._thinking_written = True

    def content_stream(self) -> MarkdownStream:
        """The stream for the reply's text (the thinking above it is final from now on)."""
        if self.open_stream is None:
            if self.extras is not None and self._open is not None:
                self.extras.before_content(self, self._open[1])
            self.open_stream = MarkdownStream(self)
        return self.open_stream

    def end_reply(self, message: Message, index: int) -> None:
        """The lines under a reply: how it ended, versions, its speed."""
        if self.open_stream is None and message.thinking:  # stopped while thinking
            seconds = message.stats.get("thinking_seconds")
            self.show_thinking(index, message.thinking, seconds=seconds, live=False)
        self.content_stream().finish()
        self.open_stream = None
        if self.extras is not None:
            self.extras.after_content(self, index, message)
        if message.thinking and not self._thinking_written:
            # Thinking that came after the text began (rare): its link goes under it.
            self.append_line(
                thinking_text(message, shown=index in self.expanded_thinking),
                italic=True,
                colour=tone(THINKING_COLOURS),
                href=f"{THINKING_SCHEME}:{index}",
            )
            if index in self.expanded_thinking:
                self._thinking_block(message.thinking)
        self._thinking_from = None
        if len(message.content) > MAX_SHOWN_CHARS:
            self.append_line(
                f"Only the first {human_bytes(MAX_SHOWN_CHARS)} of this "
                f"{human_bytes(len(message.content))} reply is shown; Copy copies all of it.",
                italic=True,
                colour=tone(NOTE_COLOURS),
            )
        if message.state == "error":
            self.append_line(f"⚠ {message.note}", colour=tone(ERROR_COLOURS))
        elif message.state in ("stopped", "interrupted"):
            default = "Stopped." if message.state == "stopped" else "Interrupted."
            self.append_line(f"■ {message.note or default}", italic=True, colour=tone(NOTE_COLOURS))
        elif message.note:
            self.append_line(message.note, italic=True, colour=tone(NOTE_COLOURS))
        if message.version_count > 1:
            self._version_line(message, index)
        stats = stats_text(message)
        if stats and message.state == "complete":
            self.append_line(stats, italic=True, colour=tone(QUIET_COLOURS), small=True)
        if self.extras is not None:
            self.extras.after_reply(self, index, message)
        self._messages_at(index, message)
        self._close_message()

    def _thinking_block(self, thinking: str) -> None:
        """The reply's thinking, inside its message: plain text in a tinted box."""
        cursor = self._end()
        cursor.insertFrame(thinking_frame_format())
        cursor.insertText(thinking, line_format(italic=True, colour=tone(QUIET_COLOURS)))

    def _version_line(self, message: Message, index: int) -> None:
        """'‹ 2/3 ›': links to the neighbouring versions of a reply."""
        cursor = self._end()
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        write_versions(cursor, message, f"{VERSION_SCHEME}:{index}")

    def _messages_at(self, index: int, message: Message) -> None:
        while len(self._messages) <= index:
            self._messages.append(message)
        self._messages[index] = message

    def is_writing(self) -> bool:
        """A message is open (a reply is being written): nothing may move in front."""
        return self._open is not None

    def shows_messages(self, count: int) -> bool:
        """The view shows messages first_shown .. count-1 (all closed; the earlier ones
        are there to be written on request): a send may append."""
        indexes = [index for _start, _end, index, _role in self._ranges]
        return self._open is None and indexes == list(range(self.first_shown, count))

    def show_conversation(self, conversation: Conversation, *, upto: int | None = None) -> None:
        """Render a conversation (history) through the same paths as live replies: its
        newest messages (see `transcript_budget`), or, when it is the one already shown,
        from the same message as before (the reader's place stays where it was).

        `upto`: render only the messages before this index.
        """
        keep = self.first_shown if conversation is self.conversation else None
        self.clear()
        self.forget_codes()
        self._fit_column()
        self._ranges.clear()
        self._messages.clear()
        self._open = None
        self.open_stream = None
        self.conversation = conversation
        stop = len(conversation.messages) if upto is None else upto
        first = batch_start(conversation.messages, stop)
        self.first_shown = first if keep is None else min(first, keep)
        self.before_writing()
        self.write_messages(conversation, self.first_shown, stop)
        if conversation.messages and upto is None:
            self.scroll_to_bottom()

    def before_writing(self) -> None:
        """Called by `show_conversation` on the empty document, before the messages are
        written: a change of the view's geometry here costs no layout."""

    def write_messages(self, conversation: Conversation, start: int, stop: int) -> None:
        """Write messages start .. stop-1 at the end, in one edit block: the layout runs
        once at its end instead of after every insertion (quadratic in a long one)."""
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        try:
            for index in range(start, min(stop, len(conversation.messages))):
                message = conversation.messages[index]
                if message.role == "user":
                    self.append_user(message, index)
                elif message.role == "assistant":
                    self.begin_reply(conversation.settings.model, index)
                    if message.thinking:
                        seconds = message.stats.get("thinking_seconds")
                        self.show_thinking(index, message.thinking, seconds=seconds, live=False)
                    self.content_stream().append(message.content[:MAX_SHOWN_CHARS])
                    self.end_reply(message, index)
        finally:
            cursor.endEditBlock()

    def start_earlier(self, source: TranscriptDocument) -> None:
        """Make this (hidden) instance ready to write `source`'s earlier messages."""
        self.clear()
        self.forget_codes(source._earlier_codes)
        self._ranges.clear()
        self._messages.clear()
        self._open = None
        self.open_stream = None
        self.expanded_thinking = source.expanded_thinking
        self.thumbnails = source.thumbnails
        self.extras = source.extras
        self.resources_into = source.document()

    def as_fragment(self) -> QTextDocumentFragment:
        """All that was written, ending in a block separator (for `prepend_from`)."""
        self._end().insertBlock(QTextBlockFormat(), QTextCharFormat())
        return QTextDocumentFragment(self.document())

    def prepend_from(
        self, earlier: TranscriptDocument, first: int, fragment: QTextDocumentFragment
    ) -> None:
        """Put what `earlier` wrote (messages first .. first_shown-1, its `as_fragment`)
        in front of the document, keeping the reader where they are. Not while a message
        is open."""
        assert self._open is None, "prepend_from while a message is being written"
        document = self.document()
        bar = self.verticalScrollBar()
        value, height = bar.value(), document.size().height()
        length = document.characterCount()
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        cursor.setPosition(0)
        cursor.insertFragment(fragment)
        cursor.endEditBlock()
        shift = document.characterCount() - length
        ranges = [r for r in earlier._ranges if first <= r[2] < self.first_shown]
        self._ranges = ranges + [(a + shift, b + shift, i, r) for a, b, i, r in self._ranges]
        for index in range(first, self.first_shown):
            self._messages[index] = earlier._messages[index]
        self.adopt_codes(earlier)
        self._earlier_codes = earlier.code_block_count
        self.first_shown = first
        bar.setValue(value + round(document.size().height() - height))
