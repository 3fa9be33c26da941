"""Tools: only enabled ones run; local tools answer; the hosted web search gets the key,
and only it; every failure becomes a result the model can read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from launcher.core.tools import (
    CALCULATOR,
    DATETIME,
    WEB_FETCH,
    WEB_SEARCH,
    ToolBox,
    ToolSwitches,
    declarations,
)
from launcher.core.webtools import KEY_ID, WebToolError, WebTools, find_key, web_base
from launcher.secrets import SecretStore
from tests.ollama_server.websearch import WebSearchServer
from tests.unit.keyring_backends import MemoryKeyring, installed

FIXED = datetime(2026, 3, 14, 15, 9, 26, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture
def web() -> Iterator[WebSearchServer]:
    server = WebSearchServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_switches_declare_only_the_enabled_tools_as_ollama_tools_json() -> None:
    assert declarations(ToolSwitches().enabled()) == []
    tools = declarations(ToolSwitches(web_search=True, calculator=True).enabled())
    names = [t["function"]["name"] for t in tools]
    assert names == [WEB_SEARCH, CALCULATOR, DATETIME]
    search = tools[0]
    assert search["type"] == "function"
    assert search["function"]["parameters"]["required"] == ["query"]
    assert search["function"]["parameters"]["properties"]["query"]["type"] == "string"
    assert ToolSwitches(web_fetch=True).needs_web and not ToolSwitches(calculator=True).needs_web


async def test_a_tool_that_is_not_enabled_never_runs(web: WebSearchServer) -> None:
    async with WebTools(web.key, web.url) as client:
        box = ToolBox(frozenset({CALCULATOR}), web=client)
        result = await box.run(WEB_SEARCH, {"query": "secrets"})
    assert not result.ok and not result.ran
    assert "not available in this conversation" in result.content
    assert web.requests == []  # nothing went out
    assert result.message() == {
        "role": "tool",
        "content": result.content,
        "tool_name": WEB_SEARCH,
    }


async def test_the_calculator_and_the_clock_answer_locally() -> None:
    box = ToolBox(frozenset({CALCULATOR, DATETIME}), clock=lambda: FIXED)
    result = await box.run(CALCULATOR, {"expression": "(17.5 * 3) / 4"})
    assert (result.ok, result.content) == (True, "(17.5 * 3) / 4 = 13.125")
    bad = await box.run(CALCULATOR, {"expression": "__import__('os')"})
    assert not bad.ok and bad.content.startswith("Error: unknown function")
    now = await box.run(DATETIME, {})
    assert now.content.startswith("Saturday, 14 March 2026, 15:09:26 (")
    assert now.content.endswith("UTC+01:00)")
    tokyo = await box.run(DATETIME, {"timezone": "Asia/Tokyo"})
    assert tokyo.content == "Saturday, 14 March 2026, 23:09:26 (Asia/Tokyo, UTC+09:00)"
    nowhere = await box.run(DATETIME, {"timezone": "Mars/Olympus"})
    assert not nowhere.ok and "unknown time zone" in nowhere.content


async def test_web_search_posts_the_query_with_the_key_and_returns_readable_results(
    web: WebSearchServer,
) -> None:
    async with WebTools(web.key, web.url) as client:
        box = ToolBox(frozenset({WEB_SEARCH, WEB_FETCH}), web=client)
        result = await box.run(WEB_SEARCH, {"query": "ollama launcher", "max_results": 2})
        page = await box.run(WEB_FETCH, {"url": "https://example.com/a"})
    assert result.ok, result.content
    search = web.searches()[0]
    assert search.body == {"query": "ollama launcher", "max_results": 2}
    assert search.headers["Authorization"] == f"Bearer {web.key}"
    assert result.content.startswith("1. Ollama\nhttps://ollama.com/\nGet up and running")
    assert "2. Ollama on GitHub" in result.content
    assert web.requests[1].path == "/api/web_fetch"
    assert web.requests[1].body == {"url": "https://example.com/a"}
    assert page.content == "https://example.com/a\n\nText of https://example.com/a"


async def test_web_failures_become_results_that_say_what_to_do(web: WebSearchServer) -> None:
    async with WebTools("sk-wrong", web.url) as client:
        box = ToolBox(frozenset({WEB_SEARCH, WEB_FETCH}), web=client)
        refused = await box.run(WEB_SEARCH, {"query": "x"})
        local = await box.run(WEB_FETCH, {"url": "file:///etc/passwd"})
    assert not refused.ok
    assert "refused the API key — check the ollama.com API key" in refused.content
    assert "HTTP 401" in refused.details
    assert "Only http and https pages can be fetched" in local.content
    assert [r.path for r in web.requests] == ["/api/web_search"]  # the file URL never left
    web.status = 500
    async with WebTools(web.key, web.url) as client:
        with pytest.raises(WebToolError, match=r"failed \(HTTP 500\)"):
            await client.search("x")
    no_key = await ToolBox(frozenset({WEB_SEARCH})).run(WEB_SEARCH, {"query": "x"})
    assert not no_key.ran and "needs an ollama.com API key" in no_key.content


async def test_an_unreachable_service_is_named(web: WebSearchServer) -> None:
    url = web.url
    web.stop()
    async with WebTools(web.key, url) as client:
        with pytest.raises(WebToolError, match=r"Can't reach the web search service at 127"):
            await client.search("x")


async def test_the_key_comes_from_the_keyring_first_then_the_environment() -> None:
    with installed(MemoryKeyring()):
        store = SecretStore()
        assert await find_key(store, {}) is None
        assert await find_key(store, {"OLLAMA_API_KEY": "sk-env"}) == "sk-env"
        store.set(KEY_ID, "sk-keyring")
        assert await find_key(SecretStore(), {"OLLAMA_API_KEY": "sk-env"}) == "sk-keyring"


def test_the_base_is_ollama_com_unless_overridden() -> None:
    assert web_base({}) == "https://ollama.com"
    assert web_base({"OLLAMA_LAUNCHER_WEB_BASE": "http://127.0.0.1:9/"}) == "http://127.0.0.1:9"
    assert os.environ.get("OLLAMA_API_KEY") is None  # the test environment is clean
