"""A conversation turn: stream one reply, keep every byte of it, and stop it for real.

Stop means: cancel the task that sits inside the stream's `async with`. The
cancellation unwinds through the block, which closes the HTTP connection at
once; Ollama sees the disconnect and stops generating. Whatever arrived
before stays in the reply, marked as stopped.

The turn only accumulates text; the UI drains it on a paint timer
(`take_new_text`), so a server sending thousands of chunks a second costs one
list append per chunk here and one document append per frame there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from launcher.core.conversation import Conversation, ConversationSettings, Message, MessageState
from launcher.core.guard import GuardSettings, RunawayGuard
from launcher.ollama import (
    OllamaClient,
    OllamaConnectionError,
    OllamaError,
    OllamaProtocolError,
    OllamaResponseError,
    OllamaStreamError,
)

STOPPED_NOTE = "Stopped."


def describe_error(exc: OllamaError) -> str:
    """A message for the conversation, specific to what went wrong."""
    if isinstance(exc, OllamaStreamError):
        return f"The server reported an error mid-reply: {exc.error}"
    if isinstance(exc, OllamaResponseError):
        if exc.status_code == 404:
            return f"Error: {exc.error}. Pull the model first (Models tab)."
        return f"Error from the server: {exc.error} (HTTP {exc.status_code})"
    if isinstance(exc, OllamaProtocolError):
        return f"Unexpected reply: {exc}"
    if isinstance(exc, OllamaConnectionError):
        return f"Connection problem: {exc}"
    return f"Error: {exc}"


class ChatTurn(QObject):
    """One streamed assistant reply.

    Args:
        client: the host's client.
        conversation: the conversation; its last message is the reply being
            written (role assistant, state streaming); the request carries
            everything before it.
        guard: watches the reply for loops and runaway length (None: off).

    Signals:
        finished(object): the turn ended; the argument is this ChatTurn.

    Attributes:
        reply: the assistant Message, updated as the turn ends.
        ttft_ms: time to first token (content or thinking), in milliseconds.
        tokens_per_second: Ollama's own figure from the last chunk.
    """

    finished = Signal(object)

    def __init__(
        self,
        client: OllamaClient,
        conversation: Conversation,
        guard: RunawayGuard | None = None,
        parent: QObject | None = None,
        *,
        continuation: bool = False,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self.conversation = conversation
        self.reply = conversation.messages[-1]
        self.continuation = continuation
        # A continuation sends the partial reply as the last message: Ollama then
        # goes on writing it instead of starting a new one.
        history = conversation.messages if continuation else conversation.messages[:-1]
        self._request_messages = Conversation(
            conversation.id, conversation.title, conversation.settings, history
        ).api_messages()
        self._guard = guard
        self._content: list[str] = [self.reply.content] if self.reply.content else []
        self._thinking: list[str] = [self.reply.thinking] if self.reply.thinking else []
        self._drained_content = len(self._content)
        self._drained_thinking = len(self._thinking)
        self._stop_note = STOPPED_NOTE
        self._ended = False
        self._task: asyncio.Task[None] | None = None
        self.ttft_ms: float | None = None
        self.tokens_per_second: float | None = None
        self.started_at = 0.0
        self.chunks = 0

    # ---- control ---------------------------------------------------------

    def start(self) -> None:
        """Start streaming (inside the running event loop)."""
        self.started_at = time.perf_counter()
        self._task = asyncio.ensure_future(self._run())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def ended(self) -> bool:
        """The reply is settled (complete, stopped or failed), even if the task is still
        unwinding: from here on the conversation may take the next turn."""
        return self._ended

    def stop(self, note: str = STOPPED_NOTE) -> None:
        """Cancel the stream now; the connection closes as the task unwinds.

        The reply is settled at once (no text can arrive after a cancel), so
        the conversation is consistent before the task has even unwound and
        the next message can be sent straight away.
        """
        # Once the reply is settled (complete, failed, or already stopped) there is
        # nothing to stop, even if the task has not finished unwinding yet.
        if self.running and self._task is not None and not self._ended:
            self._stop_note = note
            self._task.cancel()
            self._settle("stopped", note)

    async def wait(self) -> None:
        """Wait until the turn has ended (never raises)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    # ---- text ------------------------------------------------------------

    @property
    def content(self) -> str:
        return "".join(self._content)

    @property
    def thinking(self) -> str:
        return "".join(self._thinking)

    def take_new_text(self) -> tuple[str, str]:
        """(thinking, content) that arrived since the last call: for the paint timer."""
        thinking = "".join(self._thinking[self._drained_thinking :])
        content = "".join(self._content[self._drained_content :])
        self._drained_thinking = len(self._thinking)
        self._drained_content = len(self._content)
        return thinking, content

    # ---- the stream ------------------------------------------------------

    async def _run(self) -> None:
        settings = self.conversation.settings
        guard_note = ""
        end_note = ""
        try:
            async with self._client.chat(
                settings.model,
                self._request_messages,
                options=settings.options() or None,
                think=settings.think,
                keep_alive=settings.keep_alive,
            ) as chunks:
                async for chunk in chunks:
                    self.chunks += 1
                    if self.ttft_ms is None and (chunk.content or chunk.thinking):
                        self.ttft_ms = (time.perf_counter() - self.started_at) * 1000
                    if chunk.thinking:
                        self._thinking.append(chunk.thinking)
                    if chunk.content:
                        self._content.append(chunk.content)
                        if self._guard is not None:
                            trip = self._guard.feed(chunk.content)
                            if trip is not None:
                                guard_note = trip.message
                                break  # leaving the block closes the connection
                    if chunk.done and chunk.metrics is not None:
                        self.tokens_per_second = chunk.metrics.tokens_per_second
                        self.reply.stats.update(
                            eval_count=float(chunk.metrics.eval_count),
                            eval_duration_ns=float(chunk.metrics.eval_duration),
                            prompt_eval_count=float(chunk.metrics.prompt_eval_count),
                        )
                        if chunk.done_reason == "length":
                            end_note = "The reply reached the model's length limit."
        except asyncio.CancelledError:
            self._finish("stopped", self._stop_note)
            raise
        except OllamaError as exc:
            self._finish("error", describe_error(exc))
            return
        if guard_note:
            self._finish("stopped", guard_note)
        else:
            self._finish("complete", end_note)

    def _finish(self, state: MessageState, note: str = "") -> None:
        self._settle(state, note)
        self.finished.emit(self)

    def _settle(self, state: MessageState, note: str) -> None:
        """Write the final text and state into the reply message."""
        self._ended = True
        reply = self.reply
        reply.content = self.content
        reply.thinking = self.thinking
        reply.state = state
        reply.note = note
        if self.ttft_ms is not None:
            reply.stats["ttft_ms"] = round(self.ttft_ms, 1)
        if self.tokens_per_second is not None:
            reply.stats["tokens_per_second"] = round(self.tokens_per_second, 2)


class ChatController(QObject):
    """The current conversation and its one running turn.

    Signals:
        turnStarted(object): a ChatTurn began streaming.
        turnFinished(object): a ChatTurn ended (complete, stopped or error).
        messagesRemoved(object, list): messages dropped from a conversation (by
            regenerate or edit-and-resend); the store forgets them too.
        conversationChanged(object): another conversation is now the current one.
    """

    turnStarted = Signal(object)
    turnFinished = Signal(object)
    messagesRemoved = Signal(object, list)
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

    @property
    def busy(self) -> bool:
        """A reply is streaming (one being stopped no longer counts)."""
        return self.turn is not None and not self.turn.ended

    def new_conversation(self, conversation: Conversation | None = None) -> None:
        """Make `conversation` (or a new, empty one) the current one."""
        self.stop()
        if conversation is None:
            settings = ConversationSettings(model=self.conversation.settings.model)
            conversation = Conversation(None, "", settings)
        self.conversation = conversation
        self.conversationChanged.emit(conversation)

    def _truncate(self, index: int) -> None:
        conv = self.conversation
        removed = conv.messages[index:]
        del conv.messages[index:]
        if removed:
            self.messagesRemoved.emit(conv, removed)

    def can_regenerate(self) -> bool:
        messages = self.conversation.messages
        return not self.busy and len(messages) >= 2 and messages[-1].role == "assistant"

    def regenerate(self) -> ChatTurn | None:
        """Write the last reply again (the old one is dropped)."""
        if not self.can_regenerate():
            return None
        self._truncate(len(self.conversation.messages) - 1)
        return self._start_reply()

    def edit_and_resend(self, index: int, text: str) -> ChatTurn | None:
        """Replace user message `index` with `text`, drop what followed, and send."""
        messages = self.conversation.messages
        if self.busy or not (0 <= index < len(messages)) or messages[index].role != "user":
            return None
        if not text.strip():
            return None
        images = messages[index].images
        self._truncate(index)
        return self.send(text, self.conversation.settings.model, images)

    def can_continue(self) -> bool:
        messages = self.conversation.messages
        return (
            not self.busy
            and bool(messages)
            and messages[-1].role == "assistant"
            and messages[-1].state in ("stopped", "interrupted")
            and bool(messages[-1].content)
        )

    def continue_reply(self) -> ChatTurn | None:
        """Go on writing a stopped or interrupted reply where it ended."""
        if not self.can_continue():
            return None
        reply = self.conversation.messages[-1]
        reply.state = "streaming"
        reply.note = ""
        return self._launch(continuation=True)

    def send(self, text: str, model: str, images: list[str] | None = None) -> ChatTurn | None:
        """Add the user's message and stream the reply; None when a turn is running."""
        if self.busy or not text.strip() or not model:
            return None
        conv = self.conversation
        conv.settings.model = model
        conv.messages.append(Message("user", text, images=list(images or [])))
        return self._start_reply()

    def _start_reply(self) -> ChatTurn:
        self.conversation.messages.append(Message("assistant", "", state="streaming"))
        return self._launch(continuation=False)

    def _launch(self, *, continuation: bool) -> ChatTurn:
        settings = self._guard_settings()
        guard = RunawayGuard(settings) if settings.enabled else None
        if guard is not None and continuation:
            guard.feed(self.conversation.messages[-1].content)
        turn = ChatTurn(
            self.client, self.conversation, guard, parent=self, continuation=continuation
        )
        turn.finished.connect(self._on_finished)
        self.turn = turn
        turn.start()
        self.turnStarted.emit(turn)
        return turn

    def stop(self, note: str = STOPPED_NOTE) -> None:
        if self.turn is not None:
            self.turn.stop(note)

    async def aclose(self) -> None:
        if self.turn is not None:
            self.turn.stop()
            await self.turn.wait()

    def _on_finished(self, turn: object) -> None:
        self.turnFinished.emit(turn)
