"""The Ollama client against the protocol-faithful test server, over real HTTP."""

from __future__ import annotations

import asyncio
import time

import pytest

from launcher.ollama import (
    ChatChunk,
    OllamaClient,
    OllamaConnectionError,
    OllamaProtocolError,
    OllamaResponseError,
    OllamaStreamError,
    OllamaTimeoutError,
)
from tests.conftest import free_port, run
from tests.ollama_server import ForeignServer, OllamaTestServer, ReplySpec
from tests.waiting import wait_until

MESSAGES = [{"role": "user", "content": "Hello"}]


# ---- plain calls -------------------------------------------------------------


def test_version_list_show_ps(ollama_server: OllamaTestServer) -> None:
    ollama_server.add_model("qwen3:8b", capabilities=["completion", "thinking"])

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            assert await client.version() == "0.12.3"
            models = {m.name: m for m in await client.list_models()}
            assert set(models) == {"llama3.2:latest", "qwen3:8b"}
            llama = models["llama3.2:latest"]
            assert llama.size > 0 and len(llama.digest) == 64
            assert llama.modified_at is not None and llama.modified_at.tzinfo is not None
            assert llama.details.family == "llama"
            show = await client.show("qwen3:8b")
            assert "thinking" in show.capabilities
            assert show.details.quantization_level
            assert await client.running_models() == []

    run(main())


def test_a_closed_client_refuses_requests_used_or_not(ollama_server: OllamaTestServer) -> None:
    """Closing a client that never made a request (a host switched away from at once, a
    quit) does not build its connection pool to close it, and it then behaves as a
    client closed after use."""

    async def main() -> None:
        unused = OllamaClient(ollama_server.url)
        used = OllamaClient(ollama_server.url)
        assert await used.version() == "0.12.3"
        assert not unused.is_closed and not used.is_closed
        for client in (unused, used):
            await client.aclose()
            assert client.is_closed
            with pytest.raises(RuntimeError, match="client has been closed"):
                await client.version()
            await client.aclose()  # twice is fine
        assert len(ollama_server.requests_to("/api/version")) == 1

    run(main())


def test_host_defaults_to_ollama_host_env(
    ollama_server: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{ollama_server.port}")

    async def main() -> None:
        async with OllamaClient() as client:
            assert client.base_url == ollama_server.url
            assert await client.version() == "0.12.3"

    run(main())


def test_delete_copy_and_unknown_model(ollama_server: OllamaTestServer) -> None:
    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            await client.copy("llama3.2", "mine")
            assert {m.name for m in await client.list_models()} == {
                "llama3.2:latest",
                "mine:latest",
            }
            await client.delete("mine")
            with pytest.raises(OllamaResponseError) as info:
                await client.delete("mine")
            assert info.value.status_code == 404
            assert "not found" in info.value.error
            with pytest.raises(OllamaResponseError) as shown:
                await client.show("nope")
            assert shown.value.status_code == 404

    run(main())


# ---- chat --------------------------------------------------------------------


def test_chat_streams_chunks_and_metrics(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="The sky is blue because of Rayleigh scattering.")

    async def main() -> list[ChatChunk]:
        async with OllamaClient(ollama_server.url) as client:
            async with client.chat("llama3.2", MESSAGES, options={"temperature": 0}) as chunks:
                return [chunk async for chunk in chunks]

    chunks = run(main())
    assert "".join(c.content for c in chunks) == "The sky is blue because of Rayleigh scattering."
    assert len(chunks) > 3
    last = chunks[-1]
    assert last.done and last.done_reason == "stop" and last.metrics is not None
    assert last.metrics.eval_count > 0 and last.metrics.tokens_per_second
    assert not any(c.done for c in chunks[:-1])
    body = ollama_server.requests_to("/api/chat")[0].body
    assert body["options"] == {"temperature": 0} and body["stream"] is True


def test_chat_thinking_is_separate(ollama_server: OllamaTestServer) -> None:
    ollama_server.add_model("qwen3", capabilities=["completion", "thinking"])
    ollama_server.reply = ReplySpec(text="42.", thinking="Let me think about it.")

    async def main() -> tuple[str, str]:
        async with OllamaClient(ollama_server.url) as client:
            async with client.chat("qwen3", MESSAGES, think=True) as chunks:
                parts = [chunk async for chunk in chunks]
        return "".join(c.thinking for c in parts), "".join(c.content for c in parts)

    assert run(main()) == ("Let me think about it.", "42.")
    assert ollama_server.requests_to("/api/chat")[0].body["think"] is True


def test_chat_once(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="Hi there.")

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            reply = await client.chat_once("llama3.2", MESSAGES)
            assert reply.content == "Hi there."
            assert reply.done_reason == "stop" and reply.metrics.eval_count > 0

    run(main())


def test_multi_turn_messages_are_sent_whole(ollama_server: OllamaTestServer) -> None:
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]

    async def main() -> None:
        async with (
            OllamaClient(ollama_server.url) as client,
            client.chat("llama3.2", history, keep_alive="5m") as chunks,
        ):
            async for _ in chunks:
                pass

    run(main())
    body = ollama_server.requests_to("/api/chat")[0].body
    assert body["messages"] == history and body["keep_alive"] == "5m"


# ---- aborting: the server must see the disconnect ----------------------------


def slow_reply() -> ReplySpec:
    return ReplySpec(text="word " * 500, chunk_interval=0.05)


def assert_aborted(server: OllamaTestServer, left_at: float) -> None:
    server.wait_for(lambda: server.streams and server.streams[-1].closed_by_client(), 2.0)
    record = server.streams[-1]
    assert record.client_closed_at is not None
    assert record.client_closed_at - left_at < 0.5  # seen at once (benchmark has the figures)
    assert not record.finished
    assert record.chunks_after_close == 0
    sent = record.chunks_sent
    time.sleep(0.2)  # the thing under test: nothing more is produced afterwards
    assert record.chunks_sent == sent


def test_abort_by_break_is_seen_by_server(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = slow_reply()

    async def main() -> float:
        async with OllamaClient(ollama_server.url) as client:
            async with client.chat("llama3.2", MESSAGES) as chunks:
                async for chunk in chunks:
                    if chunk.content:
                        break
            left = time.monotonic()
            # The pool is still open: only the streaming connection was closed.
            await wait_until(lambda: ollama_server.streams[-1].closed_by_client(), 2.0)
            return left

    assert_aborted(ollama_server, run(main()))


def test_abort_by_exception_is_seen_by_server(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = slow_reply()
    left: list[float] = []

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(RuntimeError):
                try:
                    async with client.chat("llama3.2", MESSAGES) as chunks:
                        async for _ in chunks:
                            raise RuntimeError("boom")
                finally:
                    left.append(time.monotonic())
            await wait_until(lambda: ollama_server.streams[-1].closed_by_client(), 2.0)

    run(main())
    assert_aborted(ollama_server, left[0])


def test_abort_by_task_cancellation_is_seen_by_server(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = slow_reply()
    received: list[str] = []

    async def consume(client: OllamaClient) -> None:
        async with client.chat("llama3.2", MESSAGES) as chunks:
            async for chunk in chunks:
                received.append(chunk.content)

    async def main() -> float:
        async with OllamaClient(ollama_server.url) as client:
            task = asyncio.ensure_future(consume(client))
            await wait_until(lambda: len(received) >= 3, 5.0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            left = time.monotonic()
            await wait_until(lambda: ollama_server.streams[-1].closed_by_client(), 2.0)
            return left

    assert_aborted(ollama_server, run(main()))
    assert 3 <= len(received) < 500


def test_cancel_while_waiting_for_first_chunk(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="late", first_chunk_delay=10.0)

    async def consume(client: OllamaClient) -> None:
        async with client.chat("llama3.2", MESSAGES) as chunks:
            async for _ in chunks:
                pass

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            task = asyncio.ensure_future(consume(client))
            await wait_until(lambda: ollama_server.streams, 5.0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await wait_until(lambda: ollama_server.streams[-1].closed_by_client(), 2.0)

    run(main())
    assert ollama_server.streams[-1].chunks_sent == 0


# ---- errors ------------------------------------------------------------------


def test_error_line_mid_stream(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="one two three four five", error_after=2)
    got: list[str] = []

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaStreamError) as info:
                async with client.chat("llama3.2", MESSAGES) as chunks:
                    async for chunk in chunks:
                        got.append(chunk.content)
            assert "error was encountered" in info.value.error

    run(main())
    assert "".join(got) == "one two"


def test_malformed_line(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="one two three", malformed_after=1)

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaProtocolError, match="not JSON"):
                async with client.chat("llama3.2", MESSAGES) as chunks:
                    async for _ in chunks:
                        pass

    run(main())


def test_server_dies_mid_reply(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="one two three four", die_after=2)

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaConnectionError, match="closed unexpectedly"):
                async with client.chat("llama3.2", MESSAGES) as chunks:
                    async for _ in chunks:
                        pass

    run(main())


def test_unknown_model_and_missing_model(ollama_server: OllamaTestServer) -> None:
    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaResponseError) as info:
                async with client.chat("ghost", MESSAGES) as chunks:
                    async for _ in chunks:
                        pass
            assert info.value.status_code == 404
            assert info.value.error == "model 'ghost' not found"
            with pytest.raises(OllamaResponseError) as missing:
                await client.chat_once("", MESSAGES)
            assert missing.value.status_code == 400

    run(main())


def test_busy_server_503(ollama_server: OllamaTestServer) -> None:
    ollama_server.busy = True

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaResponseError) as info:
                async with client.chat("llama3.2", MESSAGES):
                    pass
            assert info.value.status_code == 503 and "server busy" in info.value.error

    run(main())


def test_nothing_listening() -> None:
    port = free_port()

    async def main() -> None:
        async with OllamaClient(f"127.0.0.1:{port}", retries=1) as client:
            with pytest.raises(OllamaConnectionError) as info:
                await client.version()
            assert f"127.0.0.1:{port}" in str(info.value)
            assert "ollama serve" in str(info.value)
            with pytest.raises(OllamaConnectionError):
                async with client.chat("llama3.2", MESSAGES):
                    pass

    run(main())


def test_foreign_service_on_the_port() -> None:
    with ForeignServer() as foreign:

        async def main() -> None:
            async with OllamaClient(foreign.url) as client:
                with pytest.raises(OllamaProtocolError, match="another service"):
                    await client.version()
                with pytest.raises(OllamaProtocolError):
                    await client.list_models()
                with pytest.raises(OllamaProtocolError):
                    async with client.chat("llama3.2", MESSAGES) as chunks:
                        async for _ in chunks:
                            pass

        run(main())


def test_unknown_path_404_is_a_response_error(ollama_server: OllamaTestServer) -> None:
    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaResponseError) as info:
                await client._request("GET", "/api/nope")
            assert info.value.status_code == 404
            assert info.value.error == "404 page not found"

    run(main())


def test_read_timeout_maps_to_timeout_error(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="late", first_chunk_delay=3.0)

    async def main() -> None:
        async with OllamaClient(ollama_server.url, timeout=0.5) as client:
            with pytest.raises(OllamaTimeoutError):
                async with client.chat("llama3.2", MESSAGES) as chunks:
                    async for _ in chunks:
                        pass

    run(main())


def test_slow_first_chunk_beyond_httpx_default_read_timeout(
    ollama_server: OllamaTestServer,
) -> None:
    """A model that takes 5.5 s to load must not fail (httpx's default would at 5 s)."""
    ollama_server.reply = ReplySpec(text="finally", first_chunk_delay=5.5)

    async def main() -> str:
        async with OllamaClient(ollama_server.url) as client:
            async with client.chat("llama3.2", MESSAGES) as chunks:
                return "".join([c.content async for c in chunks])

    assert run(main()) == "finally"


# ---- pull --------------------------------------------------------------------


def test_pull_progress_and_success(ollama_server: OllamaTestServer) -> None:
    ollama_server.add_pull("tiny", size=4_000_000, interval=0.0)

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            async with client.pull("tiny") as lines:
                statuses = [line async for line in lines]
            assert statuses[0].status == "pulling manifest"
            assert statuses[-1].status == "success"
            layered = [s for s in statuses if s.digest]
            assert layered and all(s.total for s in layered)
            assert any(s.completed is None for s in layered)  # omitted while 0
            assert "tiny:latest" in {m.name for m in await client.list_models()}

    run(main())


def test_pull_unknown_model_is_a_stream_error(ollama_server: OllamaTestServer) -> None:
    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaStreamError, match="file does not exist"):
                async with client.pull("nosuchmodel") as lines:
                    async for _ in lines:
                        pass

    run(main())


def test_pull_cancel_closes_connection(ollama_server: OllamaTestServer) -> None:
    ollama_server.add_pull("big", size=2_000_000_000, interval=0.06)

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            async with client.pull("big") as lines:
                async for line in lines:
                    if line.completed:
                        break
            await wait_until(lambda: ollama_server.streams[-1].closed_by_client(), 2.0)

    run(main())
    assert ollama_server.streams[-1].chunks_after_close == 0


# ---- secrets -----------------------------------------------------------------


def test_api_key_sent_to_its_host_only(ollama_server: OllamaTestServer) -> None:
    with OllamaTestServer() as other:

        async def main() -> None:
            async with OllamaClient(ollama_server.url, api_key="sekrit-123") as client:
                assert "sekrit" not in repr(client)
                await client.version()
                # An absolute URL to another host must not carry the key.
                await client._http.get(f"{other.url}/api/version")

        run(main())
        assert ollama_server.requests[-1].headers["authorization"] == "Bearer sekrit-123"
        assert "authorization" not in other.requests[-1].headers


def test_api_key_from_environment(
    ollama_server: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key")

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            await client.list_models()

    run(main())
    assert ollama_server.requests[-1].headers["authorization"] == "Bearer env-key"
