"""The current conversation and its one running turn: send, stop, regenerate, edit, continue.

The controller is the one owner of "busy" and of what an attempt replaces:
Regenerate and edit-and-resend never destroy the reply they replace until the
new one has produced text. Regenerate adds a version to the same assistant
message (`Message.versions`); edit-and-resend keeps the old tail of the
conversation aside. An attempt that fails or is stopped before its first
word puts back what it replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from launcher.core.conversation import (
    Conversation,
    ConversationSettings,
    Message,
    ReplyVersion,
)
from launcher.core.guard import GuardSettings, RunawayGuard
from launcher.core.heaptrim import HeapTrimmer
from launcher.core.turn import STOPPED_NOTE, ChatTurn, Prepare
from launcher.core.turnextras import TurnExtras
from launcher.ollama import OllamaClient

__all__ = ["STOPPED_NOTE", "ChatController", "ChatTurn"]


@dataclass
class _Replaced:
    """What a running attempt replaces, to put back if it produces no text.

    `tail`: edit-and-resend: the messages from `index` on, as they were.
    `version_at`: regenerate: where the version shown before sits in `versions`.
    """

    index: int
    tail: list[Message] | None = None
    version_at: int | None = None


def _as_version(message: Message) -> ReplyVersion:
    return ReplyVersion(
        message.content,
        message.thinking,
        message.state,
        message.note,
        dict(message.stats),
        message.created_at,
        message.tool_steps,
        message.tokens,
    )


def _show_version(message: Message, version: ReplyVersion) -> None:
    message.content = version.content
    message.thinking = version.thinking
    message.state = version.state
    message.note = version.note
    message.stats = dict(version.stats)
    message.created_at = version.created_at
    message.tool_steps, message.tokens = version.tool_steps, version.tokens


class ChatController(QObject):
    """The current conversation and its one running turn.

    Signals:
        turnStarted(object): a ChatTurn began and its messages belong in the store
            (for edit-and-resend: once the new reply produced text).
        turnEnded(object): a ChatTurn's reply settled (complete, stopped or error;
            what it replaced is already put back when it produced nothing); the UI's
            one end-of-turn path.
        turnFinished(object): a ChatTurn's task is over.
        messagesRemoved(object, list): messages dropped from a conversation (by
            edit-and-resend, once the new reply produced text); the store forgets them too.
        messageChanged(object, object): a message changed outside a turn (another
            version shown): (conversation, message), to be saved.
        conversationChanged(object): another conversation is now the current one.

    Attributes:
        prepare: awaited by each turn before its request (the launcher starts the
            local server there); None: nothing to prepare.
    """

    turnStarted = Signal(object)
    turnEnded = Signal(object)
    turnFinished = Signal(object)
    messagesRemoved = Signal(object, list)
    messageChanged = Signal(object, object)
    conversationChanged = Signal(object)

    def __init__(
        self,
        client: OllamaClient,
        guard_settings: Callable[[], GuardSettings] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self._guard_settings = guard_settings or GuardSettings
        self.conversation = Conversation(None, "", ConversationSettings())
        self.turn: ChatTurn | None = None
        self.prepare: Prepare | None = None
        #: Builds a turn's tools/token-probability extras from its conversation and reply
        #: (see core/chatplus.py); None: every turn is a plain one.
        self.extras_for: Callable[[Conversation, Message], TurnExtras | None] | None = None
        self._replaced: _Replaced | None = None
        #: A left conversation's memory goes back to the system, not only to malloc.
        self.heap_trimmer = HeapTrimmer(self, busy=lambda: self.busy)
        self.conversationChanged.connect(self.heap_trimmer.schedule)

    @property
    def busy(self) -> bool:
        """A reply is streaming (one being stopped no longer counts)."""
        return self.turn is not None and not self.turn.ended

    def new_conversation(self, conversation: Conversation | None = None) -> None:
        """Make `conversation` (or a new, empty one) the current one."""
        self.stop()
        if self.turn is not None and not self.turn.running:
            # Over: it need not outlive the conversation it wrote (one still unwinding
            # stays until the next turn, so that `aclose` waits for it).
            done, self.turn = self.turn, None
            self._release(done)
        if conversation is None:
            settings = ConversationSettings(model=self.conversation.settings.model)
            conversation = Conversation(None, "", settings)
        self.conversation = conversation
        self.conversationChanged.emit(conversation)

    # ---- what can be done now -------------------------------------------

    def can_regenerate(self) -> bool:
        messages = self.conversation.messages
        return not self.busy and len(messages) >= 2 and messages[-1].role == "assistant"

    def can_continue(self) -> bool:
        messages = self.conversation.messages
        return (
            not self.busy
            and bool(messages)
            and messages[-1].role == "assistant"
            and messages[-1].state in ("stopped", "interrupted")
            and bool(messages[-1].content)
        )

    def can_edit(self, index: int) -> bool:
        messages = self.conversation.messages
        return not self.busy and 0 <= index < len(messages) and messages[index].role == "user"

    # ---- actions --------------------------------------------------------

    def send(self, text: str, model: str, images: list[str] | None = None) -> ChatTurn | None:
        """Add the user's message and stream the reply; None when a turn is running."""
        if self.busy or not text.strip() or not model:
            return None
        conv = self.conversation
        conv.settings.model = model
        conv.messages.append(Message("user", text, images=list(images or [])))
        conv.messages.append(Message("assistant", "", state="streaming"))
        return self._launch(continuation=False)

    def regenerate(self) -> ChatTurn | None:
        """Write the last reply again, as a new version of it (the old one is kept)."""
        if not self.can_regenerate():
            return None
        reply = self.conversation.messages[-1]
        replaced: _Replaced | None = None
        if reply.content.strip() or reply.thinking.strip():
            shown_at = reply.version_index
            reply.versions.insert(shown_at, _as_version(reply))
            replaced = _Replaced(len(self.conversation.messages) - 1, version_at=shown_at)
        # else: a reply that failed before its first word is not worth keeping (Retry).
        reply.version_index = len(reply.versions)
        _show_version(reply, ReplyVersion("", state="streaming"))
        return self._launch(continuation=False, replaced=replaced)

    def edit_and_resend(self, index: int, text: str) -> ChatTurn | None:
        """Replace user message `index` with `text` and send; what followed is dropped once
        the new reply produced text, and put back if it fails before that."""
        if not self.can_edit(index) or not text.strip():
            return None
        messages = self.conversation.messages
        tail = messages[index:]
        images = tail[0].images
        del messages[index:]
        messages.append(Message("user", text, images=list(images)))
        messages.append(Message("assistant", "", state="streaming"))
        return self._launch(continuation=False, replaced=_Replaced(index, tail=tail))

    def continue_reply(self) -> ChatTurn | None:
        """Go on writing a stopped or interrupted reply where it ended."""
        if not self.can_continue():
            return None
        reply = self.conversation.messages[-1]
        reply.state = "streaming"
        reply.note = ""
        return self._launch(continuation=True)

    def select_version(self, message_index: int, version_index: int) -> bool:
        """Show another version of an assistant reply; False when there is none to show."""
        messages = self.conversation.messages
        if self.busy or not 0 <= message_index < len(messages):
            return False
        message = messages[message_index]
        if message.role != "assistant" or not 0 <= version_index < message.version_count:
            return False
        if version_index == message.version_index:
            return True
        every = list(message.versions)
        every.insert(message.version_index, _as_version(message))
        chosen = every.pop(version_index)
        message.versions = every
        message.version_index = version_index
        _show_version(message, chosen)
        self.messageChanged.emit(self.conversation, message)
        return True

    def stop(self, note: str = STOPPED_NOTE) -> None:
        if self.turn is not None:
            self.turn.stop(note)

    async def aclose(self) -> None:
        if self.turn is not None:
            self.turn.stop()
            await self.turn.wait()

    # ---- the turn's life ------------------------------------------------

    def _launch(self, *, continuation: bool, replaced: _Replaced | None = None) -> ChatTurn:
        settings = self._guard_settings()
        guard = RunawayGuard(settings) if settings.enabled else None
        if guard is not None and continuation:
            guard.feed(self.conversation.messages[-1].content)
        turn = ChatTurn(
            self.client,
            self.conversation,
            guard,
            parent=self,
            continuation=continuation,
            prepare=self.prepare,
        )
        if self.extras_for is not None:
            turn.extras = self.extras_for(self.conversation, turn.reply)
        turn.firstText.connect(self._on_first_text)
        turn.settled.connect(self._on_settled)
        turn.finished.connect(self.turnFinished.emit)
        turn.finished.connect(self._release)  # after every listener heard it
        previous, self.turn = self.turn, turn
        if previous is not None:
            self._release(previous)
        self._replaced = replaced
        turn.start()
        if replaced is None or replaced.tail is None:
            self.turnStarted.emit(turn)
        return turn

    def _release(self, turn: ChatTurn) -> None:
        """Delete a turn once its task is over and it is no longer the current one: it is
        this controller's child and holds every chunk of its reply and its whole
        conversation, so keeping it would keep every conversation ever replied to (about
        0.7 MB for a 10,000-chunk reply)."""
        if turn is not self.turn and not turn.running:
            turn.deleteLater()

    def _on_first_text(self, turn: ChatTurn) -> None:
        """The new reply exists: what it replaces may go now."""
        replaced, self._replaced = self._replaced, None
        if turn is not self.turn or replaced is None or replaced.tail is None:
            return
        self.messagesRemoved.emit(turn.conversation, replaced.tail)
        self.turnStarted.emit(turn)

    def _on_settled(self, turn: ChatTurn) -> None:
        replaced = self._replaced
        if turn is self.turn and replaced is not None and not turn.produced_text:
            self._replaced = None
            self._put_back(turn, replaced)
        self.turnEnded.emit(turn)

    def _put_back(self, turn: ChatTurn, replaced: _Replaced) -> None:
        """The attempt produced nothing: show again what it was meant to replace."""
        messages = turn.conversation.messages
        if replaced.tail is not None:
            del messages[replaced.index :]
            messages.extend(replaced.tail)
            return
        if replaced.version_at is not None:
            reply = turn.reply
            _show_version(reply, reply.versions.pop(replaced.version_at))
            reply.version_index = replaced.version_at
