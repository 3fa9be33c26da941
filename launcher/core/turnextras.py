"""What a chat turn adds when a conversation has tools or token probabilities switched on.

A plain turn is one streamed request. With tools, it is the tool loop (several
requests, the tools run between them); with token probabilities, each request
asks for `logprobs` and the records are kept. `stream_reply` is the one entry
point the turn awaits: it hands every chunk to the turn's own handler (so text,
thinking, the guard and the stats work exactly as for a plain reply), opens the
hosted web client only when a web tool is enabled, and closes it however the
turn ends. With both switches off it is a single request, as before, and costs
nothing more.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from launcher.core.tokenprobs import TOP_ALTERNATIVES, TokenRecord
from launcher.core.toolloop import (
    MAX_TOOL_CALLS,
    Reply,
    StepListener,
    ToolLoop,
    ToolStep,
    chat_asker,
)
from launcher.core.tools import WEB_FETCH, WEB_SEARCH, ToolBox
from launcher.core.webtools import WebTools
from launcher.ollama import ChatChunk, Logprob, OllamaClient, OllamaStream

PARAGRAPH = "\n\n"

#: Opens the hosted web client for a turn (None: there is no ollama.com key).
WebFactory = Callable[[], Awaitable[WebTools | None]]


@dataclass
class TurnExtras:
    """One turn's tools and token probabilities.

    Attributes:
        tools: the enabled tool names (empty: no tools are declared).
        logprobs: ask for token probabilities (top 5 alternatives).
        web: opens the hosted web client when a web tool is enabled.
        on_step: told when a tool step starts and ends (the UI shows it).
        steps: the reply's tool steps, in order.
        record: the reply's token probabilities (when asked for).
    """

    tools: frozenset[str] = frozenset()
    logprobs: bool = False
    web: WebFactory | None = None
    on_step: StepListener | None = None
    steps: list[ToolStep] = field(default_factory=list)
    record: TokenRecord | None = None

    @property
    def active(self) -> bool:
        return bool(self.tools) or self.logprobs


@contextlib.asynccontextmanager
async def _web_client(extras: TurnExtras) -> AsyncIterator[WebTools | None]:
    if extras.web is None or not extras.tools & {WEB_SEARCH, WEB_FETCH}:
        yield None
        return
    client = await extras.web()
    if client is None:
        yield None
        return
    async with client:
        yield client


async def stream_reply(
    client: OllamaClient,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    extras: TurnExtras,
    on_chunk: Callable[[ChatChunk], None],
    *,
    options: Mapping[str, Any] | None = None,
    think: bool | str | None = None,
    keep_alive: float | str | None = None,
    reading: Callable[[OllamaStream[ChatChunk] | None], None] | None = None,
) -> Reply:
    """Stream the reply, running the tool loop when tools are enabled; the last Reply.

    Cancelling the awaiting task stops it wherever it is (a request or a tool);
    `reading` is told of the request streaming now (see `chat_asker`)."""
    record = extras.record
    if extras.logprobs and record is None:
        record = extras.record = TokenRecord()

    written = [""]  # the reply's last piece of text, to separate requests' answers

    def take(chunk: ChatChunk) -> None:
        if record is not None and chunk.logprobs:
            record.feed(chunk.logprobs)
        if chunk.content:
            written[0] = chunk.content
        on_chunk(chunk)

    ask = chat_asker(
        client,
        model,
        options=options,
        think=think,
        keep_alive=keep_alive,
        logprobs=True if extras.logprobs else None,
        top_logprobs=TOP_ALTERNATIVES if extras.logprobs else None,
        on_chunk=take,
        reading=reading,
    )
    history = [dict(m) for m in messages]
    if not extras.tools:
        return await ask(history, None)

    async def ask_again(
        messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
    ) -> Reply:
        # Text the model wrote before a tool call and its answer after are two
        # paragraphs of the reply, not one run-on line.
        if written[0] and not written[0].endswith("\n"):
            if record is not None:
                record.feed([Logprob(PARAGRAPH, 0.0)])
            take(ChatChunk(PARAGRAPH))
        return await ask(messages, tools)

    async with _web_client(extras) as web:
        loop = ToolLoop(
            ToolBox(extras.tools, web=web),
            max_calls=MAX_TOOL_CALLS,
            on_step=extras.on_step,
            steps=extras.steps,
        )
        return await loop.run(history, ask_again)
