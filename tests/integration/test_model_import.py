"""Blobs, create, tool calls and token log-probabilities, against the test server."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from pathlib import Path

import pytest

from launcher.ollama import (
    BlobProgress,
    ChatChunk,
    OllamaClient,
    OllamaResponseError,
    OllamaStreamError,
    PullProgress,
    ToolCall,
)
from tests.conftest import run
from tests.ollama_server import OllamaTestServer, ReplySpec

MESSAGES = [{"role": "user", "content": "Hello"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
CALL = {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}


def gguf(tmp_path: Path, size: int = 5 * (1 << 20) + 123) -> tuple[Path, str]:
    path = tmp_path / "model.gguf"
    data = os.urandom(size)
    path.write_bytes(data)
    return path, "sha256:" + hashlib.sha256(data).hexdigest()


# --- blobs -----------------------------------------------------------------------------------


def test_push_blob_uploads_once_then_heads_only(
    ollama_server: OllamaTestServer, tmp_path: Path
) -> None:
    path, digest = gguf(tmp_path)
    seen: list[BlobProgress] = []

    async def main() -> tuple[str, str, bool]:
        async with OllamaClient(ollama_server.url) as client:
            assert not await client.blob_exists(digest)
            first = await client.push_blob(path, progress=seen.append)
            second = await client.push_blob(str(path))
            return first, second, await client.blob_exists(digest.removeprefix("sha256:"))

    assert run(main()) == (digest, digest, True)
    assert ollama_server.blobs == {digest: path.stat().st_size}
    posts = [r for r in ollama_server.requests if r.method == "POST"]
    assert len(posts) == 1  # the second push saw the blob with HEAD and sent nothing
    assert posts[0].raw_body == path.read_bytes()
    assert posts[0].headers["content-length"] == str(path.stat().st_size)
    uploads = [p for p in seen if p.stage == "uploading"]
    hashing = [p for p in seen if p.stage == "hashing"]
    # Read in blocks (constant memory): several steps each, ending at the size.
    assert len(uploads) >= 5 and len(hashing) >= 5
    assert uploads[-1].completed == uploads[-1].total == path.stat().st_size
    assert [p.completed for p in uploads] == sorted(p.completed for p in uploads)


def test_a_file_that_changes_after_hashing_is_refused(
    ollama_server: OllamaTestServer, tmp_path: Path
) -> None:
    """The server checks the bytes against the digest: 400, as an OllamaResponseError."""
    path, digest = gguf(tmp_path, 3000)

    def progress(step: BlobProgress) -> None:
        if step.stage == "hashing" and step.completed == step.total:
            path.write_bytes(os.urandom(3000))  # same size, other bytes

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaResponseError, match="digest mismatch") as info:
                await client.push_blob(path, progress=progress)
            assert info.value.status_code == 400
            assert not await client.blob_exists(digest)
            with pytest.raises(ValueError, match="not a sha256 digest"):
                await client.blob_exists("md5:abc")

    run(main())
    assert ollama_server.blobs == {}


def test_cancelling_an_upload_stops_it(ollama_server: OllamaTestServer, tmp_path: Path) -> None:
    path, digest = gguf(tmp_path, 8 * (1 << 20))
    seen: list[BlobProgress] = []

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            task: asyncio.Task[str] | None = None

            def progress(step: BlobProgress) -> None:
                seen.append(step)
                if step.stage == "uploading" and task is not None:
                    task.cancel()  # Cancel after the first block went out

            task = asyncio.ensure_future(client.push_blob(path, progress=progress))
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not await client.blob_exists(digest)

    run(main())
    uploads = [p for p in seen if p.stage == "uploading"]
    assert len(uploads) == 1 and uploads[0].completed < path.stat().st_size
    assert ollama_server.blobs == {}


# --- create ----------------------------------------------------------------------------------


def test_create_from_an_uploaded_file(ollama_server: OllamaTestServer, tmp_path: Path) -> None:
    path, digest = gguf(tmp_path, 4096)

    async def main() -> tuple[list[PullProgress], list[str]]:
        async with OllamaClient(ollama_server.url) as client:
            await client.push_blob(path)
            async with client.create(
                "mymodel",
                files={"model.gguf": digest},
                system="You are terse.",
                parameters={"temperature": 0.2},
            ) as progress:
                lines = [p async for p in progress]
            return lines, [m.name for m in await client.list_models()]

    lines, names = run(main())
    statuses = [p.status for p in lines]
    assert statuses[0] == "parsing GGUF"
    assert f"using existing layer {digest}" in statuses
    assert statuses[-2:] == ["writing manifest", "success"]
    assert "mymodel:latest" in names
    body = ollama_server.requests_to("/api/create")[0].body
    assert body["files"] == {"model.gguf": digest} and body["system"] == "You are terse."
    assert body["parameters"] == {"temperature": 0.2} and body["stream"] is True


def test_create_from_an_installed_model(ollama_server: OllamaTestServer) -> None:
    async def main() -> str:
        async with OllamaClient(ollama_server.url) as client:
            async with client.create("terse", from_="llama3.2", system="Be terse.") as progress:
                async for _ in progress:
                    pass
            return (await client.show("terse")).modelfile

    assert 'SYSTEM """Be terse."""' in run(main())
    assert ollama_server.requests_to("/api/create")[0].body["from"] == "llama3.2"


def test_create_errors(ollama_server: OllamaTestServer) -> None:
    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaResponseError) as refused:
                async with client.create("nothing") as progress:
                    pass
            assert refused.value.status_code == 400 and "neither" in refused.value.error
            with pytest.raises(OllamaStreamError, match="not found"):
                async with client.create("x", from_="no-such-model") as progress:
                    async for _ in progress:
                        pass
            missing = {"model.gguf": "sha256:" + "1" * 64}
            with pytest.raises(OllamaStreamError, match="not found"):
                async with client.create("y", files=missing) as progress:
                    async for _ in progress:
                        pass
            names = {m.name for m in await client.list_models()}
            assert names == {"llama3.2:latest"}

    run(main())


# --- tools and log-probabilities ------------------------------------------------------------


def test_tool_calls_are_records(ollama_server: OllamaTestServer) -> None:
    ollama_server.add_model("qwen3", capabilities=["completion", "tools"])
    ollama_server.reply = ReplySpec(text="", tool_calls=[CALL])

    async def main() -> list[ChatChunk]:
        async with OllamaClient(ollama_server.url) as client:
            async with client.chat("qwen3", MESSAGES, tools=[WEATHER_TOOL]) as chunks:
                return [c async for c in chunks]

    calls = [call for chunk in run(main()) for call in chunk.tool_calls or ()]
    assert calls == [ToolCall("get_weather", {"city": "Paris"}, 0)]
    assert calls[0].to_json() == CALL
    assert ollama_server.requests_to("/api/chat")[0].body["tools"] == [WEATHER_TOOL]


def test_tools_on_a_model_without_the_capability(ollama_server: OllamaTestServer) -> None:
    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            with pytest.raises(OllamaResponseError, match="does not support tools"):
                async with client.chat("llama3.2", MESSAGES, tools=[WEATHER_TOOL]):
                    pass

    run(main())


def test_logprobs_when_asked(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="Hi there")

    async def main(**kw: object) -> list[ChatChunk]:
        async with OllamaClient(ollama_server.url) as client:
            async with client.chat("llama3.2", MESSAGES, **kw) as chunks:  # type: ignore[arg-type]
                return [c async for c in chunks]

    chunks = run(main(logprobs=True, top_logprobs=3))
    tokens = [chunk.logprobs[0] for chunk in chunks if not chunk.done and chunk.logprobs]
    assert [t.token for t in tokens] == ["Hi", " there"]
    assert all(t.logprob < 0 and len(t.top_logprobs) == 3 for t in tokens)
    assert tokens[1].bytes == tuple(b" there")
    assert tokens[1].top_logprobs[0].token == " there"
    body = ollama_server.requests_to("/api/chat")[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 3
    assert all(chunk.logprobs is None for chunk in run(main()))  # not asked: none


def test_hashing_and_reading_leave_the_event_loop_free(
    ollama_server: OllamaTestServer, tmp_path: Path
) -> None:
    """Between two blocks read from disk, another task gets a turn: the disk work runs
    in a thread, so the app's event loop (its UI) never waits for a whole file."""
    path, _ = gguf(tmp_path, 8 * (1 << 20))
    ticks: list[int] = []
    seen: list[tuple[str, int]] = []  # (stage, ticks so far) at each progress step

    async def ticker(done: asyncio.Event) -> None:
        while not done.is_set():
            ticks.append(1)
            await asyncio.sleep(0)

    async def main() -> None:
        done = asyncio.Event()
        tick = asyncio.ensure_future(ticker(done))
        async with OllamaClient(ollama_server.url) as client:
            await client.push_blob(path, lambda step: seen.append((step.stage, len(ticks))))
        done.set()
        await tick

    run(main())
    for stage in ("hashing", "uploading"):
        counts = [n for s, n in seen if s == stage]
        assert len(counts) == 8, stage
        assert all(b > a for a, b in itertools.pairwise(counts)), (stage, counts)
