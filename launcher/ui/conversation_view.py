"""The transcript: one document, messages appended at its end, safe Markdown for replies.

Its plain text is the transcript: "You", the user's text, "Assistant (model)",
the reply, and a line that says how the reply ended. Your messages sit in a
tinted box, replies flow under their header, lines stay readable (about 80
characters) on wide windows. Status lines (Stopped, Interrupted, errors) are
plain blocks written after the Markdown is finished, so they never land inside
a list or a table. The view remembers which document range belongs to which
message, so the hover actions and the context menu can act on it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QGuiApplication,
    QMouseEvent,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrameFormat,
    QTextImageFormat,
    QTextLength,
)
from PySide6.QtWidgets import QApplication, QWidget

from launcher.core.conversation import Conversation, Message
from launcher.ui.format import human_bytes, human_duration
from launcher.ui.markdown import MarkdownStream, SafeTextBrowser
from launcher.ui.message_actions import MessageActions
from launcher.ui.thumbnails import ThumbnailCache

THINKING_SCHEME = "thinking"
VERSION_SCHEME = "version"
#: (on a light background, on a dark background)
USER_COLOURS = ("#1565c0", "#8ab4f8")
ASSISTANT_COLOURS = ("#2e7d32", "#81c995")
NOTE_COLOURS = ("#6d4c41", "#c8a99a")
ERROR_COLOURS = ("#c62828", "#f28b82")
THINKING_COLOURS = ("#6a1b9a", "#d7aefb")
QUIET_COLOURS = ("#757575", "#9aa0a6")
USER_BACKGROUND = QColor(66, 133, 244, 28)  # a tint readable on light and dark palettes
#: A reply longer than this shows only its beginning (Copy still copies all of it): a
#: multi-megabyte document makes every layout and paint slow, whatever the painter does.
MAX_SHOWN_CHARS = 1_000_000
#: Readable line length: text is kept to about this many average characters.
MAX_LINE_CHARS = 88


def stats_text(message: Message) -> str:
    """'62.5 tokens/s · first token 120 ms' from a reply's stats."""
    parts = []
    tps = message.stats.get("tokens_per_second")
    if tps:
        parts.append(f"{tps:.1f} tokens/s")
    ttft = message.stats.get("ttft_ms")
    if ttft is not None:
        parts.append(f"first token {ttft:.0f} ms")
    return " · ".join(parts)


def thinking_text(message: Message, *, shown: bool = False) -> str:
    """'Thought for 12 s — show' (or in words for replies saved without a duration)."""
    verb = "hide" if shown else "show"
    seconds = message.stats.get("thinking_seconds")
    if seconds is not None:
        took = f"{seconds:.1f} s" if seconds < 10 else human_duration(seconds)
        return f"Thought for {took} — {verb}"
    return f"Thought for {len(message.thinking.split())} words — {verb}"


def _tone(colours: tuple[str, str]) -> str:
    """The colour for the current palette: light or dark background."""
    dark = QGuiApplication.palette().base().color().lightness() < 128
    return colours[1] if dark else colours[0]


class ConversationView(SafeTextBrowser):
    """Signals (the argument is the message's index):
    copyRequested, editRequested, regenerateRequested, continueRequested: an action.
    versionRequested(int, int): show version N of a reply.
    thinkingToggled(): a reply's thinking was opened or closed (render again).
    """

    copyRequested = Signal(int)
    editRequested = Signal(int)
    regenerateRequested = Signal(int)
    continueRequested = Signal(int)
    versionRequested = Signal(int, int)
    thinkingToggled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversation")
        self.setMinimumHeight(160)
        self.setMouseTracking(True)
        self._ranges: list[tuple[int, int, int, str]] = []  # start, end, index, role
        self._open: tuple[int, int, str] | None = None  # start, index, role
        self._messages: list[Message] = []
        self.open_stream: MarkdownStream | None = None
        self._thinking_from: int | None = None  # where the open reply's thinking starts
        self._thinking_written = False
        #: Replies whose thinking is shown inside the message (by index).
        self.expanded_thinking: set[int] = set()
        self.thumbnails = ThumbnailCache(self)
        self._thumb_names: dict[str, int] = {}
        self.actions_bar = MessageActions(self.viewport())
        self.actions_bar.triggered.connect(self._on_action)
        self.anchorClicked.connect(self._on_link)

    # ---- layout: a readable column ----------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_column()

    def _fit_column(self) -> None:
        """Centre a column of about MAX_LINE_CHARS characters (the page's own margins)."""
        column = self.fontMetrics().averageCharWidth() * MAX_LINE_CHARS
        side = max(8, (self.viewport().width() - column) // 2)
        root = self.document().rootFrame()
        fmt = root.frameFormat()
        if fmt.leftMargin() != side or fmt.rightMargin() != side:
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            root.setFrameFormat(fmt)

    # ---- scrolling: follow only a reader who is already at the bottom ----

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def scroll_to_bottom(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

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
        fmt = QTextCharFormat()
        if bold:
            fmt.setFontWeight(700)
        if italic:
            fmt.setFontItalic(True)
        if small:
            fmt.setProperty(QTextCharFormat.Property.FontSizeAdjustment, -1)
        if colour:
            fmt.setForeground(QColor(colour))
        if href:
            fmt.setAnchor(True)
            fmt.setAnchorHref(href)
            fmt.setFontUnderline(True)
        cursor.insertText(text, fmt)

    def _begin_message(self, index: int, role: str) -> None:
        self._open = (self._end().position(), index, role)

    def _close_message(self) -> None:
        if self._open is not None:
            start, index, role = self._open
            self._ranges.append((start, self._end().position(), index, role))
            self._open = None

    def append_user(self, message: Message, index: int) -> None:
        """The user's message, in a tinted box."""
        self._begin_message(index, "user")
        cursor = self._end()
        if not self.document().isEmpty():
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        frame = QTextFrameFormat()
        frame.setBackground(USER_BACKGROUND)
        frame.setPadding(8)
        frame.setTopMargin(14)
        frame.setBottomMargin(6)
        frame.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
        cursor.insertFrame(frame)
        header = QTextCharFormat()
        header.setFontWeight(700)
        header.setForeground(QColor(_tone(USER_COLOURS)))
        cursor.insertText("You", header)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        text = message.content
        if message.images:
            count = len(message.images)
            text += "\n[" + (f"{count} image" if count == 1 else f"{count} images") + " attached]"
        cursor.insertText(text, QTextCharFormat())
        if message.images:
            self._insert_thumbnails(cursor, message.images)
        self._messages_at(index, message)
        self._close_message()

    def _insert_thumbnails(self, cursor: QTextCursor, images: list[str]) -> None:
        """Previews under the text; images not decoded yet are asked for (then `ready`)."""
        missing = [encoded for encoded in images if self.thumbnails.get(encoded) is None]
        if missing:
            self.thumbnails.request(missing)
        shown = [(e, self.thumbnails.get(e)) for e in images]
        previews = [(e, image) for e, image in shown if image is not None and not image.isNull()]
        if not previews:
            return
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        for encoded, image in previews:
            name = QUrl(f"thumb:{self._thumb_names.setdefault(encoded, len(self._thumb_names))}")
            self.document().addResource(QTextDocument.ResourceType.ImageResource, name, image)
            fmt = QTextImageFormat()
            fmt.setName(name.toString())
            fmt.setWidth(image.width())
            fmt.setHeight(image.height())
            cursor.insertImage(fmt)
            cursor.insertText(" ", QTextCharFormat())

    def begin_reply(self, model: str, index: int) -> None:
        """The reply's header; its thinking (if any) and its text follow."""
        self._begin_message(index, "assistant")
        self.append_line(
            f"Assistant ({model})" if model else "Assistant",
            bold=True,
            colour=_tone(ASSISTANT_COLOURS),
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
            label, italic=True, colour=_tone(THINKING_COLOURS), href=f"{THINKING_SCHEME}:{index}"
        )
        if shown:
            self._thinking_block(thinking)
        self._thinking_written = True

    def content_stream(self) -> MarkdownStream:
        """The stream for the reply's text (the thinking above it is final from now on)."""
        if self.open_stream is None:
            self.open_stream = MarkdownStream(self)
        return self.open_stream

    def end_reply(self, message: Message, index: int) -> None:
        """The lines under a reply: how it ended, versions, its speed."""
        if self.open_stream is None and message.thinking:  # stopped while thinking
            seconds = message.stats.get("thinking_seconds")
            self.show_thinking(index, message.thinking, seconds=seconds, live=False)
        self.content_stream().finish()
        self.open_stream = None
        if message.thinking and not self._thinking_written:
            # Thinking that came after the text began (rare): its link goes under it.
            self.append_line(
                thinking_text(message, shown=index in self.expanded_thinking),
                italic=True,
                colour=_tone(THINKING_COLOURS),
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
                colour=_tone(NOTE_COLOURS),
            )
        if message.state == "error":
            self.append_line(f"⚠ {message.note}", colour=_tone(ERROR_COLOURS))
        elif message.state in ("stopped", "interrupted"):
            default = "Stopped." if message.state == "stopped" else "Interrupted."
            self.append_line(
                f"■ {message.note or default}", italic=True, colour=_tone(NOTE_COLOURS)
            )
        elif message.note:
            self.append_line(message.note, italic=True, colour=_tone(NOTE_COLOURS))
        if message.version_count > 1:
            self._version_line(message, index)
        stats = stats_text(message)
        if stats and message.state == "complete":
            self.append_line(stats, italic=True, colour=_tone(QUIET_COLOURS), small=True)
        self._messages_at(index, message)
        self._close_message()

    def _thinking_block(self, thinking: str) -> None:
        """The reply's thinking, inside its message: plain text in a tinted box."""
        cursor = self._end()
        frame = QTextFrameFormat()
        frame.setBackground(QColor(106, 27, 154, 20))
        frame.setPadding(6)
        cursor.insertFrame(frame)
        fmt = QTextCharFormat()
        fmt.setFontItalic(True)
        fmt.setForeground(QColor(_tone(QUIET_COLOURS)))
        cursor.insertText(thinking, fmt)

    def _version_line(self, message: Message, index: int) -> None:
        """'‹ 2/3 ›': links to the neighbouring versions of a reply."""
        shown, count = message.version_index, message.version_count
        cursor = self._end()
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        plain = QTextCharFormat()
        plain.setForeground(QColor(_tone(QUIET_COLOURS)))
        for label, target in (("‹", shown - 1), (None, None), ("›", shown + 1)):
            if label is None:
                cursor.insertText(f" {shown + 1}/{count} ", plain)
                continue
            assert target is not None
            if 0 <= target < count:
                link = QTextCharFormat()
                link.setAnchor(True)
                link.setAnchorHref(f"{VERSION_SCHEME}:{index}/{target}")
                link.setToolTip("Previous version" if label == "‹" else "Next version")
                cursor.insertText(label, link)
            else:
                cursor.insertText(label, plain)

    def _messages_at(self, index: int, message: Message) -> None:
        while len(self._messages) <= index:
            self._messages.append(message)
        self._messages[index] = message

    def shows_messages(self, count: int) -> bool:
        """The view shows exactly messages 0 .. count-1 (all closed): a send may append."""
        indexes = [index for _start, _end, index, _role in self._ranges]
        return self._open is None and indexes == list(range(count))

    def show_conversation(self, conversation: Conversation, *, upto: int | None = None) -> None:
        """Render a whole conversation (history) through the same paths as live replies.

        `upto`: render only the messages before this index.
        """
        self.clear()
        self._fit_column()
        self._ranges.clear()
        self._messages.clear()
        self._open = None
        self.open_stream = None
        self.actions_bar.hide()
        messages = conversation.messages if upto is None else conversation.messages[:upto]
        for index, message in enumerate(messages):
            if message.role == "user":
                self.append_user(message, index)
            elif message.role == "assistant":
                self.begin_reply(conversation.settings.model, index)
                if message.thinking:
                    seconds = message.stats.get("thinking_seconds")
                    self.show_thinking(index, message.thinking, seconds=seconds, live=False)
                self.content_stream().append(message.content[:MAX_SHOWN_CHARS])
                self.end_reply(message, index)
        if conversation.messages and upto is None:
            self.scroll_to_bottom()

    # ---- acting on a message -------------------------------------------

    def message_at(self, point: QPoint) -> tuple[int, str] | None:
        """(index, role) of the message under a viewport point, if any."""
        position = self.cursorForPosition(point).position()
        for start, end, index, role in self._ranges:
            if start <= position <= end:
                return index, role
        return None

    def thinking_index(self, url: QUrl) -> int | None:
        """The message index of a 'Thought for …' link, else None."""
        if url.scheme() != THINKING_SCHEME:
            return None
        try:
            return int(url.path())
        except ValueError:
            return None

    def _on_link(self, url: QUrl) -> None:
        thinking = self.thinking_index(url)
        if thinking is not None:
            self.expanded_thinking ^= {thinking}
            self.thinkingToggled.emit()
            return
        if url.scheme() != VERSION_SCHEME:
            return
        try:
            index, version = (int(part) for part in url.path().split("/"))
        except ValueError:
            return
        self.versionRequested.emit(index, version)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        found = self.message_at(event.position().toPoint())
        if found is None:
            return
        self.show_actions(found[0])

    def leaveEvent(self, event: QEvent) -> None:
        """The pointer left the transcript: its action bar goes, unless it has the focus."""
        super().leaveEvent(event)
        focused = QApplication.focusWidget()
        if focused is None or not self.actions_bar.isAncestorOf(focused):
            self.actions_bar.hide()

    def show_actions(self, index: int) -> None:
        """Show the action bar on message `index` (hover, or Alt+Up/Down from the keyboard)."""
        for start, _end, found, role in self._ranges:
            if found != index:
                continue
            message = self._messages[index] if index < len(self._messages) else None
            last = index == len(self._messages) - 1
            cursor = QTextCursor(self.document())
            cursor.setPosition(start)
            top = self.cursorRect(cursor).top()
            right = self.viewport().width() - int(
                self.document().rootFrame().frameFormat().rightMargin()
            )
            self.actions_bar.show_for(index, role, message, last=last, top=top, right=right)
            return

    def step_actions(self, step: int) -> None:
        """Alt+Up/Down: the action bar moves to the previous/next message and takes focus."""
        count = len(self._messages)
        if not count:
            return
        current = self.actions_bar.index if self.actions_bar.isVisible() else count
        index = min(count - 1, max(0, current + step))
        for start, _end, found, _role in self._ranges:
            if found == index:  # bring the message into view first
                cursor = QTextCursor(self.document())
                cursor.setPosition(start)
                self.setTextCursor(cursor)
                self.ensureCursorVisible()
                break
        self.show_actions(index)
        self.actions_bar.focus_first()

    def _on_action(self, action: str, index: int) -> None:
        if action == "copy":
            self.copyRequested.emit(index)
        elif action == "edit":
            self.editRequested.emit(index)
        elif action == "regenerate":
            self.regenerateRequested.emit(index)
        elif action == "continue":
            self.continueRequested.emit(index)
        elif action in ("previous", "next"):
            message = self._messages[index]
            step = -1 if action == "previous" else 1
            self.versionRequested.emit(index, message.version_index + step)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu(event.pos())
        found = self.message_at(event.pos())
        if found is not None:
            index, role = found
            menu.addSeparator()
            menu.addAction("Copy message", lambda: self.copyRequested.emit(index))
            if role == "user":
                menu.addAction("Edit and resend…", lambda: self.editRequested.emit(index))
        # popup(), not exec(): no nested event loop inside the asyncio-driven one.
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(event.globalPos())
