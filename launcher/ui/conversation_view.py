"""The transcript: one document, messages appended at its end, safe Markdown for replies.

Its plain text is the transcript: "You", the user's text, "Assistant (model)",
the reply, and a line that says how the reply ended. The view remembers which
document range belongs to which message, so a right-click can act on it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QWidget

from launcher.core.conversation import Conversation, Message
from launcher.ui.markdown import MarkdownStream, SafeTextBrowser

THINKING_SCHEME = "thinking"
USER_COLOUR = "#1565c0"
ASSISTANT_COLOUR = "#2e7d32"


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


class ConversationView(SafeTextBrowser):
    """Signals:
    copyRequested(int), editRequested(int): a message's context-menu action (its index).
    """

    copyRequested = Signal(int)
    editRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversation")
        self.setMinimumHeight(200)
        self._ranges: list[tuple[int, int, int, str]] = []  # start, end, index, role
        self._open: tuple[int, int, str] | None = None  # start, index, role

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
    ) -> None:
        """A paragraph of plain (never interpreted) text at the end of the document."""
        cursor = self._end()
        if not self.document().isEmpty():
            cursor.insertBlock()
        fmt = QTextCharFormat()
        if bold:
            fmt.setFontWeight(700)
        if italic:
            fmt.setFontItalic(True)
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
        self._begin_message(index, "user")
        self.append_line("You", bold=True, colour=USER_COLOUR)
        cursor = self._end()
        cursor.insertBlock()
        text = message.content
        if message.images:
            text += f"\n[{len(message.images)} image(s) attached]"
        cursor.insertText(text, QTextCharFormat())
        self._close_message()

    def begin_reply(self, model: str, index: int) -> MarkdownStream:
        self._begin_message(index, "assistant")
        self.append_line(
            f"Assistant ({model})" if model else "Assistant", bold=True, colour=ASSISTANT_COLOUR
        )
        return MarkdownStream(self)

    def end_reply(self, message: Message, index: int) -> None:
        """The lines under a reply: its thinking link, how it ended, its speed."""
        if message.thinking:
            words = len(message.thinking.split())
            self.append_line(
                f"Thought for {words} words (show)",
                italic=True,
                colour="#6a1b9a",
                href=f"{THINKING_SCHEME}:{index}",
            )
        if message.state == "error":
            self.append_line(f"⚠ {message.note}", colour="#c62828")
        elif message.state in ("stopped", "interrupted"):
            default = "Stopped." if message.state == "stopped" else "Interrupted."
            self.append_line(f"■ {message.note or default}", italic=True, colour="#6d4c41")
        elif message.note:
            self.append_line(message.note, italic=True, colour="#6d4c41")
        stats = stats_text(message)
        if stats and message.state == "complete":
            self.append_line(stats, italic=True, colour="#757575")
        self._close_message()

    def show_conversation(self, conversation: Conversation, *, upto: int | None = None) -> None:
        """Render a whole conversation (history) through the same paths as live replies.

        `upto`: render only the messages before this index.
        """
        self.clear()
        self._ranges.clear()
        self._open = None
        messages = conversation.messages if upto is None else conversation.messages[:upto]
        for index, message in enumerate(messages):
            if message.role == "user":
                self.append_user(message, index)
            elif message.role == "assistant":
                stream = self.begin_reply(conversation.settings.model, index)
                stream.append(message.content)
                stream.finish()
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
