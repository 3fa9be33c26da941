"""The tool loop against the real test server: ask, run, send the result back, ask again;
capped, never running a tool that is not enabled, and stopped by cancelling its task."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from launcher.core.toolloop import MAX_TOOL_CALLS, ToolLoop, ToolStep, chat_asker
from launcher.core.tools import CALCULATOR, DATETIME, WEB_SEARCH, ToolBox
from launcher.core.webtools import WebTools
from launcher.ollama import ChatChunk, OllamaClient
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ollama_server.websearch import WebRequest, WebSearchServer
from tests.waiting import wait_until

MODEL = "qwen3"
ASK = [{"role": "user", "content": "What is (17.5 * 3) / 4?"}]


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"function": {"name": name, "arguments": arguments}}


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


async def test_a_calculator_call_runs_and_its_result_goes_back(server: OllamaTestServer) -> None:
    server.reply = ReplySpec(text="", tool_calls=[call(CALCULATOR, expression="(17.5 * 3) / 4")])
    answered = ReplySpec(text="It is 13.125.")
    seen: list[tuple[str, bool]] = []

    def on_step(step: ToolStep) -> None:
        seen.append((step.name, step.running))
        if not step.running:
            server.reply = answered  # the model has its result: it answers now

    chunks: list[ChatChunk] = []
    async with OllamaClient(server.url) as client:
        loop = ToolLoop(ToolBox(frozenset({CALCULATOR, DATETIME})), on_step=on_step)
        reply = await loop.run(ASK, chat_asker(client, MODEL, on_chunk=chunks.append))
    assert reply.content == "It is 13.125."
    assert seen == [(CALCULATOR, True), (CALCULATOR, False)]
    first, second = chats(server)
    assert [t["function"]["name"] for t in first["tools"]] == [CALCULATOR, DATETIME]
    assert second["messages"][-2] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "function": {
                    "index": 0,
                    "name": CALCULATOR,
                    "arguments": {"expression": "(17.5 * 3) / 4"},
                }
            }
        ],
    }
    assert second["messages"][-1] == {
        "role": "tool",
        "content": "(17.5 * 3) / 4 = 13.125",
        "tool_name": CALCULATOR,
    }
    assert loop.steps[0].title() == 'calculator: "(17.5 * 3) / 4"'
    assert any(c.content for c in chunks)  # the turn's buffers saw the streamed answer


async def test_a_web_search_call_uses_the_hosted_service_and_the_key_stays_there(
    server: OllamaTestServer,
) -> None:
    web = WebSearchServer().start()
    server.reply = ReplySpec(text="", tool_calls=[call(WEB_SEARCH, query="ollama 0.12")])

    def answer(_: WebRequest) -> None:
        server.reply = ReplySpec(text="Ollama 0.12 is out.")

    web.on_request = answer
    try:
        async with OllamaClient(server.url, api_key="") as client, WebTools(web.key, web.url) as w:
            loop = ToolLoop(ToolBox(frozenset({WEB_SEARCH}), web=w))
            reply = await loop.run(ASK, chat_asker(client, MODEL))
    finally:
        web.stop()
    assert reply.content == "Ollama 0.12 is out."
    (search,) = web.searches()
    assert search.headers["Authorization"] == f"Bearer {web.key}"
    assert search.body == {"query": "ollama 0.12", "max_results": 5}
    tool_message = chats(server)[-1]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_name"] == WEB_SEARCH
    assert "https://ollama.com/" in tool_message["content"]
    for request in server.requests:  # the key never reached the Ollama host
        assert web.key not in str(request.headers) and web.key not in str(request.body)


async def test_a_tool_that_is_not_enabled_is_refused_and_the_loop_goes_on(
    server: OllamaTestServer,
) -> None:
    server.reply = ReplySpec(text="", tool_calls=[call(WEB_SEARCH, query="leak this")])

    def on_step(step: ToolStep) -> None:
        if not step.running:
            server.reply = ReplySpec(text="Fine, without it.")

    async with OllamaClient(server.url) as client:
        loop = ToolLoop(ToolBox(frozenset({CALCULATOR})), on_step=on_step)
        reply = await loop.run(ASK, chat_asker(client, MODEL))
    assert reply.content == "Fine, without it."
    assert loop.calls == 0
    step = loop.steps[0]
    assert step.result is not None and not step.result.ran
    assert "not available" in chats(server)[-1]["messages"][-1]["content"]


async def test_the_loop_is_capped_at_ten_calls_then_asked_without_tools(
    server: OllamaTestServer,
) -> None:
    # A model that never stops calling: tool_calls come whenever tools are declared.
    server.reply = ReplySpec(text="", tool_calls=[call(CALCULATOR, expression="1+1")])
    async with OllamaClient(server.url) as client:
        loop = ToolLoop(ToolBox(frozenset({CALCULATOR})))
        await loop.run(ASK, chat_asker(client, MODEL))
    bodies = chats(server)
    assert loop.calls == MAX_TOOL_CALLS == 10
    assert len(bodies) == 11
    assert all("tools" in b for b in bodies[:10]) and "tools" not in bodies[10]
    tool_messages = [m for m in bodies[10]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 10


async def test_cancelling_the_loop_mid_tool_closes_everything(server: OllamaTestServer) -> None:
    web = WebSearchServer().start()
    gate = asyncio.Event()
    release = threading.Event()
    loop_ref = asyncio.get_running_loop()

    def hold(_: WebRequest) -> None:  # the search "takes long" until the test has stopped
        loop_ref.call_soon_threadsafe(gate.set)
        release.wait(10)

    web.on_request = hold
    server.reply = ReplySpec(text="", tool_calls=[call(WEB_SEARCH, query="slow")])
    try:
        async with OllamaClient(server.url) as client, WebTools(web.key, web.url) as w:
            loop = ToolLoop(ToolBox(frozenset({WEB_SEARCH}), web=w))
            task = asyncio.ensure_future(loop.run(ASK, chat_asker(client, MODEL)))
            await asyncio.wait_for(gate.wait(), 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert loop.steps[0].running  # stopped while the tool ran: no result
            assert len(chats(server)) == 1  # no further request went out
    finally:
        release.set()
        web.stop()
    await wait_until(lambda: all(s.finished or s.closed_by_client() for s in server.streams), 5)
