"""One streamed assistant reply that always ends: stop it for real, keep every byte, never hang.

Stop means: cancel the task that sits inside the stream's `async with`. The
cancellation unwinds through the block, which closes the HTTP connection at
once; Ollama sees the disconnect and stops generating. Whatever arrived
before stays in the reply, marked as stopped.

Whatever is raised inside a turn (an Ollama error, a bug in our parsing, a
chunk of an unexpected shape), the turn ends in one place: the reply settles
as "error" with a message from `explain()`, the partial text is kept, and
`finished` is emitted exactly once, even for a task cancelled before its
first step.

The turn only accumulates text; the UI drains it on a paint timer
(`take_new_text`), so a server sending thousands of chunks a second costs one
list append per chunk here and one document append per frame there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, Signal

from launcher.core.conversation import Conversation, MessageState
from launcher.core.explain import Explanation, explain
from launcher.core.guard import RunawayGuard
from launcher.core.turnextras import TurnExtras, stream_reply
from launcher.ollama import ChatChunk, OllamaClient, OllamaError, OllamaStream

log = logging.getLogger(__name__)

STOPPED_NOTE = "Stopped."


class _GuardTripped(Exception):
    """The runaway guard stopped a reply streamed through the extras (carries its note)."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


#: Runs before the request (e.g. start the local server and wait until it answers);
#: whatever it raises ends the turn with an explained error.
Prepare = Callable[[], Awaitable[None]]


class ChatTurn(QObject):
    """One streamed assistant reply.

    Args:
        client: the host's client.
        conversation: the conversation; its last message is the reply being
            written (role assistant, state streaming); the request carries
            everything before it.
        guard: watches the reply for loops and runaway length (None: off).
        prepare: awaited before the request (None: nothing to prepare).

    Signals:
        firstText(object): the first piece of reply text arrived (this turn).
        settled(object): the reply is settled (complete, stopped or failed);
            emitted once, at the moment it happens (synchronously inside
            `stop()`).
        finished(object): the task is over; emitted once, always.

    Attributes:
        reply: the assistant Message, updated as the turn ends.
        explanation: why the turn failed (state "error"), for a person.
        ttft_ms: time to first token (content or thinking), in milliseconds.
        tokens_per_second: Ollama's own figure from the last chunk.
    """

    firstText = Signal(object)
    settled = Signal(object)
    finished = Signal(object)

    def __init__(
        self,
        client: OllamaClient,
        conversation: Conversation,
        guard: RunawayGuard | None = None,
        parent: QObject | None = None,
        *,
        continuation: bool = False,
        prepare: Prepare | None = None,
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
        self._prepare = prepare
        self._content: list[str] = [self.reply.content] if self.reply.content else []
        self._thinking: list[str] = [self.reply.thinking] if self.reply.thinking else []
        self._drained_content = len(self._content)
        self._drained_thinking = len(self._thinking)
        self._stop_note = STOPPED_NOTE
        self._ended = False
        self._finished = False
        self._task: asyncio.Task[None] | None = None
        self._reading: OllamaStream[ChatChunk] | None = None  # the reply's open stream
        self.explanation: Explanation | None = None
        self.produced_text = False
        #: The user (or a host switch, New chat, quit) stopped the turn: not the guard.
        self.stopped_by_request = False
        self.preparing = False
        self.ttft_ms: float | None = None
        #: How long the model thought before its first word (None: it did not think).
        self.thinking_seconds: float | None = None
        self._thinking_since: float | None = None
        self.tokens_per_second: float | None = None
        self.started_at = 0.0
        self.chunks = 0
        self._end_note = ""
        #: Tools and token probabilities for this turn (set before start; None: plain).
        self.extras: TurnExtras | None = None

    # ---- control ---------------------------------------------------------

    def start(self) -> None:
        """Start streaming (inside the running event loop)."""
        self.started_at = time.perf_counter()
        self._task = asyncio.ensure_future(self._run())
        # The one place every task ends, even one cancelled before its first step.
        self._task.add_done_callback(self._on_done)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def ended(self) -> bool:
        """The reply is settled (complete, stopped or failed), even if the task is still
        unwinding: from here on the conversation may take the next turn."""
        return self._ended

    def stop(self, note: str = STOPPED_NOTE) -> None:
        """Hang up now and cancel the stream; the connection is discarded as the task unwinds.

        The server hears the hang-up in this call (`OllamaStream.abort`), not a
        turn of the event loop later, behind the window's repaint. The reply is
        settled at once (no text can arrive after a cancel), so the conversation
        is consistent before the task has even unwound and the next message can
        be sent straight away.
        """
        if self.running and self._task is not None and not self._ended:
            self.stopped_by_request = True
            self._stop_note = note
            if self._reading is not None:
                self._reading.abort()  # the server hears it now, not after a repaint
            self._task.cancel()
            self._settle("stopped", note)

    async def wait(self) -> None:
        """Wait until the turn's task is over. Never raises (except when the waiter
        itself is cancelled)."""
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

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
        try:
            if self._prepare is not None:
                self.preparing = True
                try:
                    await self._prepare()
                finally:
                    self.preparing = False
            state, note = await self._stream()
        except asyncio.CancelledError:
            self._settle("stopped", self._stop_note)
            raise
        except Exception as exc:  # every failure must end the turn
            self.explanation = explain(exc, host=self._client.base_url, model=settings.model)
            if isinstance(exc, OllamaError):
                log.warning("chat turn failed: %s", self.explanation.details)
            else:
                log.exception("chat turn failed unexpectedly")
            self._settle("error", self.explanation.headline)
            return
        self._settle(state, note)

    async def _stream(self) -> tuple[MessageState, str]:
        """Read the reply into the buffers; how it ended (state, note)."""
        settings = self.conversation.settings
        self._end_note = ""
        if self.extras is not None and self.extras.active:
            return await self._stream_with_extras()
        self._reading = self._client.chat(
            settings.model,
            self._request_messages,
            options=settings.options() or None,
            think=settings.think,
            keep_alive=settings.keep_alive,
        )
        try:
            async with self._reading as chunks:
                async for chunk in chunks:
                    tripped = self._take(chunk)
                    if tripped is not None:
                        return "stopped", tripped  # leaving the block closes the connection
        finally:
            self._reading = None
        return "complete", self._end_note

    async def _stream_with_extras(self) -> tuple[MessageState, str]:
        """Tools and/or token probabilities (core/turnextras.py): the same chunk handling,
        over one request or the tool loop's several."""
        assert self.extras is not None
        settings = self.conversation.settings

        def take(chunk: ChatChunk) -> None:
            tripped = self._take(chunk)
            if tripped is not None:
                raise _GuardTripped(tripped)

        try:
            await stream_reply(
                self._client,
                settings.model,
                self._request_messages,
                self.extras,
                take,
                options=settings.options() or None,
                think=settings.think,
                keep_alive=settings.keep_alive,
                reading=self._now_reading,
            )
        except _GuardTripped as trip:
            return "stopped", trip.note
        return "complete", self._end_note

    def _now_reading(self, stream: OllamaStream[ChatChunk] | None) -> None:
        self._reading = stream

    def _take(self, chunk: ChatChunk) -> str | None:
        """One chunk into the buffers; the guard's note when it trips, else None."""
        self.chunks += 1
        for piece in (chunk.content, chunk.thinking):
            if not isinstance(piece, str):
                # Refused before it reaches the buffers: the stream's exit awaits, and the
                # saver and the painter join the buffers meanwhile (they would fail too).
                raise TypeError(f"a chunk's text is {type(piece).__name__}, not str")
        if self.ttft_ms is None and (chunk.content or chunk.thinking):
            self.ttft_ms = (time.perf_counter() - self.started_at) * 1000
        if chunk.thinking:
            if self._thinking_since is None:
                self._thinking_since = time.perf_counter()
            self._thinking.append(chunk.thinking)
        if chunk.content:
            if self._thinking_since is not None and self.thinking_seconds is None:
                self.thinking_seconds = time.perf_counter() - self._thinking_since
            self._content.append(chunk.content)
            if not self.produced_text:
                self.produced_text = True
                self.firstText.emit(self)
            if self._guard is not None:
                trip = self._guard.feed(chunk.content)
                if trip is not None:
                    return trip.message
        if chunk.done and chunk.metrics is not None:
            self.tokens_per_second = chunk.metrics.tokens_per_second
            self.reply.stats.update(
                eval_count=float(chunk.metrics.eval_count),
                eval_duration_ns=float(chunk.metrics.eval_duration),
                prompt_eval_count=float(chunk.metrics.prompt_eval_count),
            )
            if chunk.done_reason == "length":
                self._end_note = "The reply reached the model's length limit."
        return None

    def _on_done(self, task: asyncio.Task[None]) -> None:
        """The task is over, however it ended: settle (if nothing did) and say so once."""
        if not task.cancelled() and task.exception() is not None:
            # _run catches every Exception; only a BaseException could get here.
            log.error("chat turn ended abnormally", exc_info=task.exception())
        self._settle("stopped", self._stop_note)
        if not self._finished:
            self._finished = True
            self.finished.emit(self)

    def _settle(self, state: MessageState, note: str) -> None:
        """Write the final text and state into the reply message (once)."""
        if self._ended:
            return
        self._ended = True
        reply = self.reply
        reply.content = self.content
        reply.thinking = self.thinking
        reply.state = state
        reply.note = note
        if self.ttft_ms is not None:
            reply.stats["ttft_ms"] = round(self.ttft_ms, 1)
        if self._thinking_since is not None and self.thinking_seconds is None:
            self.thinking_seconds = time.perf_counter() - self._thinking_since
        if self.thinking_seconds is not None:
            reply.stats["thinking_seconds"] = round(self.thinking_seconds, 1)
        if self.tokens_per_second is not None:
            reply.stats["tokens_per_second"] = round(self.tokens_per_second, 2)
        self.settled.emit(self)
