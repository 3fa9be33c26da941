"""The tool loop: the model asks for a tool, the tool runs, its result goes back, ask again.

The loop is a plain driver over two things it is given: `ask` (one chat request
that streams into the reply and says which tools the model called) and a
`ToolBox` (which runs only the enabled tools). It holds no Qt and no
connection, so Stop works as everywhere else: cancelling the task that awaits
`run` unwinds through whichever request or tool is in flight and closes its
connection. The loop is capped: after `max_calls` tool runs the model is asked
once more without tools, and must answer with what it has.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from launcher.core.tools import ToolBox, ToolResult, declarations
from launcher.ollama import ChatChunk, ChatMetrics, OllamaClient, OllamaStream, ToolCall

log = logging.getLogger(__name__)

MAX_TOOL_CALLS: Final = 10
LIMIT_NOTE: Final = (
    "Tool call limit reached ({limit} calls): answer now with what you have, without tools."
)


@dataclass
class Reply:
    """What one chat request produced.

    Attributes:
        content: its answer text.
        tool_calls: the tools the model asked for (empty: it answered).
        metrics: the last chunk's figures, when the request reached its end.
        done_reason: `stop`, `length`, ... of the last chunk.
    """

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    metrics: ChatMetrics | None = None
    done_reason: str | None = None


#: One chat request: (messages, tools or None) -> its Reply.
Ask = Callable[[list[dict[str, Any]], list[dict[str, Any]] | None], Awaitable[Reply]]


@dataclass
class ToolStep:
    """One tool call of a reply, as the reply shows it.

    Attributes:
        name, arguments: what the model asked for.
        result: the outcome; None while the tool runs (or when Stop ended it).
    """

    name: str
    arguments: dict[str, Any]
    result: ToolResult | None = None

    @property
    def running(self) -> bool:
        return self.result is None

    def title(self) -> str:
        """`web_search: "ollama launcher"`: the step's one-line summary."""
        if len(self.arguments) == 1:
            (value,) = self.arguments.values()
            shown = f'"{value}"' if isinstance(value, str) else str(value)
        else:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        if len(shown) > 80:
            shown = shown[:79] + "…"
        return f"{self.name}: {shown}" if shown else self.name


StepListener = Callable[[ToolStep], None]


@dataclass
class ToolLoop:
    """Drives one reply's tool calls.

    Args:
        toolbox: runs the enabled tools.
        max_calls: how many tools may run in one reply.
        on_step: told when a step starts (result None) and when it ends.

    Attributes:
        steps: every step of the reply so far, in order.
        calls: how many tools ran (refused calls do not count).
    """

    toolbox: ToolBox
    max_calls: int = MAX_TOOL_CALLS
    on_step: StepListener | None = None
    steps: list[ToolStep] = field(default_factory=list)
    calls: int = 0

    async def run(self, messages: Sequence[Mapping[str, Any]], ask: Ask) -> Reply:
        """Ask, run the tools the model calls, ask again, until it answers; its last Reply."""
        tools = declarations(self.toolbox.enabled) or None
        history = [dict(m) for m in messages]
        while True:
            offered = tools if self.calls < self.max_calls else None
            reply = await ask(history, offered)
            if not reply.tool_calls or offered is None:
                return reply
            history.append(
                {
                    "role": "assistant",
                    "content": reply.content,
                    "tool_calls": [call.to_json() for call in reply.tool_calls],
                }
            )
            for call in reply.tool_calls:
                history.append((await self._one(call)).message())

    async def _one(self, call: ToolCall) -> ToolResult:
        step = ToolStep(call.name, dict(call.arguments))
        self.steps.append(step)
        if self.calls >= self.max_calls:
            result = ToolResult(
                call.name,
                step.arguments,
                LIMIT_NOTE.format(limit=self.max_calls),
                ok=False,
                ran=False,
            )
        else:
            self._tell(step)
            result = await self.toolbox.run(call.name, step.arguments)
            if result.ran:
                self.calls += 1
        step.result = result
        self._tell(step)
        return result

    def _tell(self, step: ToolStep) -> None:
        if self.on_step is not None:
            self.on_step(step)


def chat_asker(
    client: OllamaClient,
    model: str,
    *,
    options: Mapping[str, Any] | None = None,
    think: bool | str | None = None,
    keep_alive: float | str | None = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
    on_chunk: Callable[[ChatChunk], None] | None = None,
    reading: Callable[[OllamaStream[ChatChunk] | None], None] | None = None,
) -> Ask:
    """An `Ask` that streams `/api/chat` through `client`, handing every chunk to
    `on_chunk` (the turn's buffers); leaving it, for any reason, closes the stream.
    `reading` is told of each request's stream while it is open (then None), so a
    Stop can hang it up at once (`OllamaStream.abort`)."""

    async def ask(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Reply:
        content: list[str] = []
        calls: list[ToolCall] = []
        reply = Reply()
        stream = client.chat(
            model,
            messages,
            options=options,
            think=think,
            keep_alive=keep_alive,
            tools=tools,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
        )
        if reading is not None:
            reading(stream)
        try:
            async with stream as chunks:
                async for chunk in chunks:
                    if on_chunk is not None:
                        on_chunk(chunk)
                    if chunk.content:
                        content.append(chunk.content)
                    if chunk.tool_calls:
                        calls.extend(chunk.tool_calls)
                    if chunk.done:
                        reply.metrics = chunk.metrics
                        reply.done_reason = chunk.done_reason
        finally:
            if reading is not None:
                reading(None)
        reply.content = "".join(content)
        reply.tool_calls = tuple(calls)
        return reply

    return ask
