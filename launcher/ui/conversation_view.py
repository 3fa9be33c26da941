"""The transcript as a person uses it: hover and keyboard actions on a message, its
links (thinking, versions) and context menu, on top of `TranscriptDocument`.

Its plain text is the transcript: "You", the user's text, "Assistant (model)",
the reply, and a line that says how the reply ended (see `transcript_document`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QUrl, Signal
from PySide6.QtGui import QContextMenuEvent, QMouseEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QWidget

from launcher.core.conversation import Conversation
from launcher.ui.earlier_messages import EarlierMessages
from launcher.ui.message_actions import MessageActions
from launcher.ui.transcript_document import (
    MAX_SHOWN_CHARS,
    THINKING_SCHEME,
    VERSION_SCHEME,
    ReplyExtrasHook,
    TranscriptDocument,
)
from launcher.ui.transcript_style import stats_text, thinking_text

__all__ = [
    "MAX_SHOWN_CHARS",
    "ConversationView",
    "ReplyExtrasHook",
    "stats_text",
    "thinking_text",
]


class ConversationView(TranscriptDocument):
    """Signals (the argument is the message's index):
    copyRequested, editRequested, regenerateRequested, continueRequested: an action.
    versionRequested(int, int): show version N of a reply.
    branchRequested(int): start a new conversation from the history up to this message.
    thinkingToggled(): a reply's thinking was opened or closed (render again).
    """

    copyRequested = Signal(int)
    editRequested = Signal(int)
    regenerateRequested = Signal(int)
    continueRequested = Signal(int)
    versionRequested = Signal(int, int)
    branchRequested = Signal(int)
    thinkingToggled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions_bar = MessageActions(self.viewport())
        self.actions_bar.triggered.connect(self._on_action)
        self.anchorClicked.connect(self._on_link)
        #: "Show earlier messages (N)" and the writer behind it (long conversations).
        self.earlier = EarlierMessages(self)

    def show_conversation(self, conversation: Conversation, *, upto: int | None = None) -> None:
        """Render `conversation` again (see `TranscriptDocument`); the action bar goes."""
        self.actions_bar.hide()
        again = self.earlier.loading and conversation is self.conversation
        self.earlier.reset()
        super().show_conversation(conversation, upto=upto)
        if again:  # written again (a thinking block opened...): the batch asked for comes
            self.earlier.load()

    def before_writing(self) -> None:
        """The button over the transcript comes or goes before the document is filled:
        the viewport's new size then costs no second layout of it."""
        self.earlier.sync()
        self._fit_column()

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
        if current + step < self.first_shown:
            self.earlier.load()  # past the first message shown: the earlier ones come in
        index = min(count - 1, max(self.first_shown, current + step))
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
        elif action == "branch":
            self.branchRequested.emit(index)
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
            menu.addAction("Branch from here", lambda: self.branchRequested.emit(index))
            if role == "user":
                menu.addAction("Edit and resend…", lambda: self.editRequested.emit(index))
        # popup(), not exec(): no nested event loop inside the asyncio-driven one.
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(event.globalPos())
