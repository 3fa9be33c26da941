"""A turn with extras: nothing more on the wire when off; tools and logprobs when on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from launcher.core.tools import CALCULATOR, WEB_SEARCH
from launcher.core.turnextras import TurnExtras, stream_reply
from launcher.core.webtools import WebTools
from launcher.ollama import ChatChunk, OllamaClient, OllamaConnectionError, OllamaStream
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ollama_server.websearch import WebRequest, WebSearchServer

MODEL = "qwen3"
MESSAGES = [{"role": "user", "content": "What's new in Ollama?"}]


@pytest.fixture
def server() -> Iterator[OllamaTestServer]:
    srv = OllamaTestServer()
    srv.add_model(MODEL, capabilities=["completion", "tools"])
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def chats(server: OllamaTestServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.path == "/api/chat"]


async def test_with_nothing_switched_on_it_is_one_plain_request(server: OllamaTestServer) -> None:
    chunks: list[ChatChunk] = []
    async with OllamaClient(server.url) as client:
        reply = await stream_reply(client, MODEL, MESSAGES, TurnExtras(), chunks.append)
    assert reply.content == "Hello! How can I help you today?"
    assert reply.metrics is not None and reply.metrics.eval_count > 0
    (body,) = chats(server)
    assert "tools" not in body and "logprobs" not in body and "top_logprobs" not in body
    assert "".join(c.content for c in chunks) == reply.content


async def test_the_open_request_is_told_so_a_stop_can_hang_it_up(
    server: OllamaTestServer,
) -> None:
    """A Stop during a reply with extras: `reading` hands over the open stream, whose
    `abort()` the server hears before the event loop turns (it waits in its own thread)."""
    server.reply = ReplySpec(text="word " * 300, chunk_interval=0.02)
    told: list[OllamaStream[ChatChunk] | None] = []
    aborted: list[bool] = []

    def on_chunk(chunk: ChatChunk) -> None:
        stream = told[0]
        if chunk.content and not aborted and stream is not None:
            stream.abort()
            server.wait_for(lambda: server.streams[-1].closed_by_client(), 2.0)
            aborted.append(True)

    async with OllamaClient(server.url) as client:
        with pytest.raises(OllamaConnectionError):  # read on after the hang-up
            await stream_reply(
                client, MODEL, MESSAGES, TurnExtras(logprobs=True), on_chunk, reading=told.append
            )
    assert aborted and len(told) == 2 and told[1] is None
    assert not server.streams[-1].finished


async def test_web_search_and_logprobs_together(server: OllamaTestServer) -> None:
    web = WebSearchServer().start()
    server.reply = ReplySpec(
        text="Let me look.",
        tool_calls=[{"function": {"name": WEB_SEARCH, "arguments": {"query": "ollama news"}}}],
    )

    def answered(_: WebRequest) -> None:
        server.reply = ReplySpec(text="Ollama has web search.")

    web.on_request = answered
    opened: list[WebTools] = []

    async def factory() -> WebTools:
        client = WebTools(web.key, web.url)
        opened.append(client)
        return client

    steps: list[str] = []
    extras = TurnExtras(
        tools=frozenset({WEB_SEARCH, CALCULATOR}),
        logprobs=True,
        web=factory,
        on_step=lambda step: steps.append(f"{step.name}:{'running' if step.running else 'done'}"),
    )
    chunks: list[ChatChunk] = []
    try:
        async with OllamaClient(server.url) as client:
            reply = await stream_reply(client, MODEL, MESSAGES, extras, chunks.append)
    finally:
        web.stop()
    assert reply.content == "Ollama has web search."
    assert steps == ["web_search:running", "web_search:done"]
    assert extras.steps[0].result is not None and extras.steps[0].result.ok
    assert opened and opened[0].is_closed  # the web client is closed with the turn
    first, second = chats(server)
    assert first["logprobs"] is True and first["top_logprobs"] == 5
    assert second["messages"][-1]["role"] == "tool"
    assert extras.record is not None
    words = [w.text for w in extras.record.words()]
    assert words == ["Let", "me", "look.", "Ollama", "has", "web", "search."]
    assert "".join(c.content for c in chunks) == "Let me look.\n\nOllama has web search."


async def test_without_a_key_the_web_tool_says_so_and_nothing_goes_out(
    server: OllamaTestServer,
) -> None:
    server.reply = ReplySpec(
        text="", tool_calls=[{"function": {"name": WEB_SEARCH, "arguments": {"query": "q"}}}]
    )

    async def no_key() -> None:
        return None

    def answered(step: Any) -> None:
        if not step.running:
            server.reply = ReplySpec(text="I could not search.")

    extras = TurnExtras(tools=frozenset({WEB_SEARCH}), web=no_key, on_step=answered)
    async with OllamaClient(server.url) as client:
        reply = await stream_reply(client, MODEL, MESSAGES, extras, lambda _c: None)
    assert reply.content == "I could not search."
    result = extras.steps[0].result
    assert result is not None and not result.ran
    assert "needs an ollama.com API key" in chats(server)[-1]["messages"][-1]["content"]
