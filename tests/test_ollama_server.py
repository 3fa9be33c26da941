"""Tests of the Ollama test server itself: conformance with the official ``ollama`` client,
wire details from the protocol notes, disconnect recording, and the fake ``ollama`` binary.

Why: every launcher test trusts this server; if it drifts from the real protocol those
tests lie. The official client is the oracle: whatever it cannot parse is a server bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from tests.conftest import free_port
from tests.ollama_server import (
    ForeignServer,
    LayerSpec,
    OllamaTestServer,
    PullSpec,
    ReplySpec,
)
from tests.ollama_server.fake_cli import parse_host
from tests.ollama_server.wire import parse_keep_alive, parse_model_name, rfc3339_local
from tests.waiting import wait_for

FAKE_OLLAMA = Path(__file__).parent / "ollama_server" / "bin" / "ollama"
UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
LOCAL_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server() -> Iterator[OllamaTestServer]:
    with OllamaTestServer() as srv:
        srv.add_model("llama3.2")
        yield srv


@pytest.fixture
def http(server: OllamaTestServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> tuple[bytes, list[bytes]]:
    """Send one request on a fresh socket; return (head, chunk payloads) of a chunked reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        buf = bytearray()
        while not buf.endswith(b"0\r\n\r\n"):
            part = sock.recv(1 << 20)
            if not part:
                break
            buf += part
    data = bytes(buf)
    head, _, rest = data.partition(b"\r\n\r\n")
    chunks: list[bytes] = []
    pos = 0
    while pos < len(rest) and b"Transfer-Encoding: chunked" in head:
        eol = rest.index(b"\r\n", pos)
        size = int(rest[pos:eol], 16)
        if size == 0:
            break
        chunks.append(rest[eol + 2 : eol + 2 + size])
        assert rest[eol + 2 + size : eol + 4 + size] == b"\r\n"
        pos = eol + 4 + size
    return head, chunks


def post(path: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


# --- plain endpoints -------------------------------------------------------------------


def test_root_head_version_and_unknown_paths(http: httpx.Client) -> None:
    r = http.get("/")
    assert (r.status_code, r.text) == (200, "Ollama is running")
    assert r.headers["content-type"].startswith("text/plain")
    r = http.head("/")
    assert r.status_code == 200 and r.content == b""
    r = http.get("/api/version")
    assert r.json() == {"version": "0.12.3"}
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    r = http.get("/api/nope")
    assert (r.status_code, r.text) == (404, "404 page not found")
    assert r.headers["content-type"] == "text/plain"
    assert http.get("/api/chat").status_code == 405
    assert http.post("/api/tags").status_code == 405


def test_list_ps_show_with_the_official_client(server: OllamaTestServer) -> None:
    server.add_model(
        "qwen3:0.6b",
        size=522_653_767,
        family="qwen3",
        families=["qwen3"],
        capabilities=["completion", "tools", "thinking"],
    )
    client = ollama.Client(host=server.url)
    names = [m.model for m in client.list().models]
    assert sorted(n or "" for n in names) == ["llama3.2:latest", "qwen3:0.6b"]
    assert client.ps().models == []
    client.chat(model="qwen3:0.6b", messages=HI)
    [loaded] = client.ps().models
    assert loaded.model == "qwen3:0.6b" and loaded.context_length == 4096
    assert loaded.expires_at is not None and loaded.size_vram == 522_653_767
    show = client.show("qwen3:0.6b")
    assert show.capabilities == ["completion", "tools", "thinking"]
    assert show.modelinfo is not None and show.details is not None
    assert show.details.family == "qwen3"
    with pytest.raises(ollama.ResponseError) as err:
        client.show("missing")
    assert err.value.status_code == 404 and err.value.error == "model 'missing' not found"


def test_tags_and_ps_wire_format(server: OllamaTestServer, http: httpx.Client) -> None:
    with OllamaTestServer() as empty:
        assert httpx.get(empty.url + "/api/tags").json() == {"models": []}
        assert httpx.get(empty.url + "/api/ps").json() == {"models": []}
    [model] = http.get("/api/tags").json()["models"]
    assert set(model) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert re.fullmatch(r"[0-9a-f]{64}", model["digest"])
    assert model["modified_at"].endswith("-07:00") and LOCAL_STAMP.match(model["modified_at"])
    assert set(model["details"]) == {
        "parent_model",
        "format",
        "family",
        "families",
        "parameter_size",
        "quantization_level",
    }
    http.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": "10m"})
    [running] = http.get("/api/ps").json()["models"]
    assert {"expires_at", "size_vram", "context_length"} <= set(running)
    assert LOCAL_STAMP.match(running["expires_at"])
    show = http.post("/api/show", json={"model": "llama3.2"}).json()
    assert {
        "license",
        "modelfile",
        "parameters",
        "template",
        "details",
        "model_info",
        "capabilities",
        "modified_at",
    } <= set(show)


def test_load_and_unload_with_empty_messages(server: OllamaTestServer, http: httpx.Client) -> None:
    r = http.post("/api/chat", json={"model": "llama3.2", "messages": []})
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.json()["done_reason"] == "load" and r.json()["done"] is True
    assert "llama3.2:latest" in server.loaded
    r = http.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": 0})
    assert r.json()["done_reason"] == "unload"
    assert server.loaded == {}
    r = http.post("/api/generate", json={"model": "llama3.2"})
    assert r.json()["done_reason"] == "load" and r.json()["response"] == ""


def test_delete_and_copy(server: OllamaTestServer, http: httpx.Client) -> None:
    client = ollama.Client(host=server.url)
    assert client.copy("llama3.2", "mine:v1").status == "success"
    r = http.post("/api/copy", json={"source": "llama3.2", "destination": "other"})
    assert (r.status_code, r.content) == (200, b"")
    assert {m.model for m in client.list().models} == {"llama3.2:latest", "mine:v1", "other:latest"}
    r = http.request("DELETE", "/api/delete", json={"model": "mine:v1"})
    assert (r.status_code, r.content) == (200, b"")
    r = http.request("DELETE", "/api/delete", json={"model": "mine:v1"})
    assert r.status_code == 404 and r.json() == {"error": "model 'mine:v1' not found"}
    with pytest.raises(ollama.ResponseError) as err:
        client.copy("ghost", "x")
    assert err.value.status_code == 404


# --- chat and generate -----------------------------------------------------------------


def test_chat_streamed_and_whole_with_the_official_client(server: OllamaTestServer) -> None:
    client = ollama.Client(host=server.url)
    parts = list(client.chat(model="llama3.2", messages=HI, stream=True))
    assert "".join(p.message.content or "" for p in parts) == server.reply.text
    last = parts[-1]
    assert last.done and last.done_reason == "stop"
    assert last.eval_count == len(parts) - 1 and last.eval_duration and last.total_duration
    assert all(
        isinstance(getattr(last, k), int)
        for k in (
            "total_duration",
            "load_duration",
            "prompt_eval_count",
            "prompt_eval_duration",
            "eval_count",
            "eval_duration",
        )
    )
    whole = client.chat(model="llama3.2", messages=HI)
    assert whole.message.content == server.reply.text and whole.done
    gen = list(client.generate(model="llama3.2", prompt="hi", stream=True))
    assert "".join(g.response or "" for g in gen) == server.reply.text
    assert client.generate(model="llama3.2", prompt="hi").response == server.reply.text


def test_async_client(server: OllamaTestServer) -> None:
    async def run() -> tuple[str, int]:
        client = ollama.AsyncClient(host=server.url)
        text = ""
        async for part in await client.chat(model="llama3.2", messages=HI, stream=True):
            text += part.message.content or ""
        listed = await client.list()
        return text, len(listed.models)

    assert asyncio.run(run()) == (server.reply.text, 1)


def test_stream_wire_format(server: OllamaTestServer) -> None:
    server.reply = ReplySpec(tokens=["a <b>", " & c"], repeat=3)
    head, chunks = raw_exchange(
        server.port, post("/api/chat", {"model": "llama3.2", "messages": HI})
    )
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/x-ndjson" in head
    assert b"Transfer-Encoding: chunked" in head
    assert len(chunks) == 7  # one object per chunk: flushed per object
    for chunk in chunks:
        assert chunk.endswith(b"\n") and chunk.count(b"\n") == 1 and chunk.strip()
        obj = json.loads(chunk)
        assert UTC_STAMP.match(obj["created_at"])
        assert "content" in obj["message"] and "thinking" not in obj["message"]
    assert b"\\u003cb\\u003e" in chunks[0] and b"\\u0026" in chunks[1]  # Go's escaping
    final = json.loads(chunks[-1])
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    head, chunks = raw_exchange(
        server.port, post("/api/chat", {"model": "llama3.2", "messages": HI, "stream": False})
    )
    assert b"Content-Type: application/json; charset=utf-8" in head


def test_thinking_chunks(server: OllamaTestServer) -> None:
    server.add_model("qwen3", capabilities=["completion", "thinking"])
    server.reply = ReplySpec(text="Hi there", thinking="Let me think")
    client = ollama.Client(host=server.url)
    parts = list(client.chat(model="qwen3", messages=HI, stream=True, think=True))
    thinking = [p for p in parts if p.message.thinking]
    assert "".join(p.message.thinking or "" for p in thinking) == "Let me think"
    assert all(p.message.content == "" for p in thinking)
    assert parts.index(thinking[-1]) < min(i for i, p in enumerate(parts) if p.message.content)
    plain = list(client.chat(model="qwen3", messages=HI, stream=True, think=False))
    assert not any(p.message.thinking for p in plain)
    with pytest.raises(ollama.ResponseError) as err:
        client.chat(model="llama3.2", messages=HI, think=True)
    assert err.value.status_code == 400 and "does not support thinking" in err.value.error


def test_request_errors(server: OllamaTestServer, http: httpx.Client) -> None:
    r = http.post("/api/chat", content=b"")
    assert (r.status_code, r.json()) == (400, {"error": "missing request body"})
    r = http.post("/api/chat", content=b"{oops")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid character 'o' looking for beginning of object key string"}
    r = http.post("/api/chat", content=b'{"model": "llama3.2"')
    assert r.json() == {"error": "unexpected EOF"}
    r = http.post("/api/chat", json={"messages": HI})
    assert (r.status_code, r.json()) == (400, {"error": "model is required"})
    r = http.post("/api/chat", json={"model": "nope", "messages": HI})
    assert (r.status_code, r.json()) == (404, {"error": "model 'nope' not found"})
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    client = ollama.Client(host=server.url)
    with pytest.raises(ollama.ResponseError) as err:
        list(client.chat(model="nope", messages=HI, stream=True))
    assert err.value.status_code == 404
    server.busy = True
    r = http.post("/api/chat", json={"model": "llama3.2", "messages": HI})
    assert r.status_code == 503 and r.json()["error"] == (
        "server busy, please try again.  maximum pending requests exceeded"
    )


def test_error_malformed_and_dying_streams(server: OllamaTestServer) -> None:
    client = ollama.Client(host=server.url)
    server.reply = ReplySpec(tokens=["a", "b", "c", "d"], error_after=2)
    with pytest.raises(ollama.ResponseError, match="an error was encountered"):
        list(client.chat(model="llama3.2", messages=HI, stream=True))
    assert server.streams[-1].finished and server.streams[-1].chunks_sent == 3

    server.reply = ReplySpec(tokens=["a", "b", "c"], malformed_after=1)
    _, chunks = raw_exchange(server.port, post("/api/chat", {"model": "llama3.2", "messages": HI}))
    assert chunks[1] == b'{"model": oops\n' and json.loads(chunks[-1])["done"] is True

    server.reply = ReplySpec(tokens=["a", "b", "c"], die_after=2)
    got: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream(
            "POST", server.url + "/api/chat", json={"model": "llama3.2", "messages": HI}
        ) as r:
            got.extend(r.iter_lines())
    assert len(got) == 2
    record = server.streams[-1]
    assert record.aborted_by_server and not record.finished and not record.closed_by_client()


def test_num_predict_gives_length(server: OllamaTestServer) -> None:
    client = ollama.Client(host=server.url)
    whole = client.chat(model="llama3.2", messages=HI, options={"num_predict": 2})
    assert whole.done_reason == "length" and whole.eval_count == 2


def test_keep_alive_connection_reuse(server: OllamaTestServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /api/version HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        data = b""
        while b'{"version":"0.12.3"}' not in data:
            part = sock.recv(4096)
            assert part
            data += part
    assert data.count(b"HTTP/1.1 200 OK") == 2


# --- disconnects -----------------------------------------------------------------------


def test_client_close_between_chunks_is_seen_at_once(server: OllamaTestServer) -> None:
    server.reply = ReplySpec(tokens=["a"] * 50, chunk_interval=0.2)
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", server.url + "/api/chat", json={"model": "llama3.2", "messages": HI}
        ) as r,
    ):
        lines = r.iter_lines()
        next(lines), next(lines)
        closed_at = time.monotonic()
        r.close()
    record = server.streams[-1]
    server.wait_for(lambda: record.client_closed_at is not None, 2)
    assert record.client_closed_at is not None
    assert -0.005 <= record.client_closed_at - closed_at < 0.05
    sent = record.chunks_sent
    with pytest.raises(TimeoutError):  # nothing more is produced after the close
        server.wait_for(lambda: record.chunks_sent > sent, 0.5)
    assert record.chunks_after_close == 0 and not record.finished
    assert record.closed_by_client()


def test_client_close_during_model_load_and_burst(server: OllamaTestServer) -> None:
    server.reply = ReplySpec(first_chunk_delay=5.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            server.url + "/api/chat",
            json={"model": "llama3.2", "messages": HI},
            timeout=httpx.Timeout(5, read=0.2),
        )
    record = server.streams[-1]
    server.wait_for(lambda: record.client_closed_at is not None, 2)
    assert record.chunks_sent == 0 and record.first_chunk_at is None

    server.reply = ReplySpec(tokens=["x"], repeat=100_000)
    with httpx.stream(
        "POST", server.url + "/api/chat", json={"model": "llama3.2", "messages": HI}
    ) as r:
        for i, _ in enumerate(r.iter_lines()):
            if i == 10:
                break
    record = server.streams[-1]
    server.wait_for(lambda: record.client_closed_at is not None, 2)
    assert not record.finished and record.chunks_sent < 100_000
    assert record.chunks_after_close == 0


def test_burst_of_100k_chunks_is_fast(server: OllamaTestServer) -> None:
    server.reply = ReplySpec(tokens=["a", " b"], repeat=50_000)
    start = time.perf_counter()
    _, chunks = raw_exchange(server.port, post("/api/chat", {"model": "llama3.2", "messages": HI}))
    elapsed = time.perf_counter() - start
    assert len(chunks) == 100_001 and json.loads(chunks[-1])["eval_count"] == 100_000
    assert elapsed < 2.0, elapsed


# --- pull ------------------------------------------------------------------------------


def test_pull_with_the_official_client(server: OllamaTestServer) -> None:
    server.add_pull("tiny", size=4_000_000, interval=0.002)
    client = ollama.Client(host=server.url)
    statuses = [p.status for p in client.pull("tiny", stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert statuses[-4:-1] == [
        "verifying sha256 digest",
        "writing manifest",
        "removing unused layers",
    ]
    assert "tiny:latest" in server.models
    assert client.pull("tiny").status == "success"  # all layers present: one line each
    with pytest.raises(ollama.ResponseError, match="file does not exist"):
        list(client.pull("ghost", stream=True))
    with pytest.raises(ollama.ResponseError) as err:
        client.pull("ghost")
    assert err.value.status_code == 500
    with pytest.raises(ollama.ResponseError) as err:
        client.pull("bad name!")
    assert (err.value.status_code, err.value.error) == (400, "invalid model name")


def test_pull_wire_format(server: OllamaTestServer) -> None:
    server.pulls["tiny:latest"] = PullSpec(
        layers=[LayerSpec("sha256:" + "ab" * 32, 3_000_000), LayerSpec("sha256:" + "cd" * 32, 500)],
        interval=0.002,
    )
    head, chunks = raw_exchange(server.port, post("/api/pull", {"model": "tiny"}))
    assert b"Content-Type: application/x-ndjson" in head
    lines = [json.loads(c) for c in chunks]
    assert lines[0] == {"status": "pulling manifest"}
    assert lines[1] == {
        "status": "pulling abababababab",
        "digest": "sha256:" + "ab" * 32,
        "total": 3_000_000,
    }  # completed omitted while 0
    completed = [
        ln["completed"] for ln in lines if ln.get("digest", "").endswith("ab") and "completed" in ln
    ]
    assert completed == sorted(completed) and completed[-1] == 3_000_000
    assert lines[-1] == {"status": "success"}
    head, chunks = raw_exchange(server.port, post("/api/pull", {"model": "ghost"}))
    assert head.startswith(b"HTTP/1.1 200")
    assert [json.loads(c) for c in chunks] == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]


def test_cancelled_pull_resumes(server: OllamaTestServer) -> None:
    spec = server.add_pull("big", size=20_000_000, interval=0.01)
    weights = spec.layers[0].digest
    reached = 0
    with httpx.stream("POST", server.url + "/api/pull", json={"model": "big"}) as r:
        for line in r.iter_lines():
            reached = max(reached, json.loads(line).get("completed", 0))
            if reached >= 3_000_000:
                break
    record = server.streams[-1]
    server.wait_for(lambda: record.client_closed_at is not None, 2)
    assert not record.finished and "big:latest" not in server.models
    assert server.downloaded[weights] >= reached
    first: int | None = None
    with httpx.stream("POST", server.url + "/api/pull", json={"model": "big"}) as r:
        for line in r.iter_lines():
            obj = json.loads(line)
            if obj.get("digest") == weights and first is None:
                first = obj.get("completed", 0)
    assert first is not None and first >= reached
    assert "big:latest" in server.models


# --- foreign server, helpers -----------------------------------------------------------


def test_foreign_server() -> None:
    with ForeignServer() as site:
        r = httpx.get(site.url + "/api/version")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.text.lstrip().startswith("<!DOCTYPE html>")
    with ForeignServer(json_without_version=True) as proxy:
        assert httpx.get(proxy.url + "/api/version").json() == {"status": "ok"}
        assert "<html>" in httpx.get(proxy.url + "/").text


def test_names_durations_hosts_times() -> None:
    assert parse_model_name("llama3.2") == "llama3.2:latest"
    assert parse_model_name("registry.ollama.ai/library/qwen3:8b") == "qwen3:8b"
    assert parse_model_name("bad name!") is None and parse_model_name("") is None
    assert parse_keep_alive("5m") == 300 and parse_keep_alive(0) == 0
    assert parse_keep_alive("-1") == float("inf") and parse_keep_alive("1h30m") == 5400
    assert parse_host(None) == ("127.0.0.1", 11434)
    assert parse_host(":5000") == ("", 5000)
    assert parse_host("0.0.0.0") == ("0.0.0.0", 11434)
    assert parse_host("http://10.0.0.1:1234/x") == ("10.0.0.1", 1234)
    from datetime import UTC, datetime

    assert rfc3339_local(datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == (
        "2025-01-02T03:04:05.12Z"
    )


# --- the fake binary -------------------------------------------------------------------


def answers(url: str) -> bool:
    try:
        return httpx.head(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


class FakeProcess:
    """``bin/ollama serve`` with stderr and stdout in files, so nothing blocks on a pipe."""

    def __init__(self, tmp: Path, env: dict[str, str], args: tuple[str, ...] = ("serve",)):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.err_path, self.out_path = tmp / "stderr.txt", tmp / "stdout.txt"
        full_env = {
            **os.environ,
            "OLLAMA_HOST": f"127.0.0.1:{self.port}",
            "FAKE_OLLAMA_READY_DELAY": "0.05",
            **env,
        }
        with open(self.err_path, "wb") as err, open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(FAKE_OLLAMA), *args],
                env=full_env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def stop(self) -> None:
        """Kill the whole process group: runner children too."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[list[FakeProcess]]:
    started: list[FakeProcess] = []
    yield started
    for proc in started:
        proc.stop()


def test_fake_binary_serves_logs_and_stops_on_sigterm(
    tmp_path: Path, fake: list[FakeProcess]
) -> None:
    proc = FakeProcess(tmp_path, {})
    fake.append(proc)
    wait_for(lambda: answers(proc.url))
    assert f'msg="Listening on 127.0.0.1:{proc.port} (version 0.12.3)"' in proc.stderr
    assert re.search(r"^time=\S+Z level=INFO source=\S+\.go:\d+ msg=", proc.stderr, re.M)
    client = ollama.Client(host=proc.url)
    assert [m.model for m in client.list().models] == ["llama3.2:latest"]
    assert client.chat(model="llama3.2", messages=HI).message.content
    wait_for(lambda: '| POST    "/api/chat"' in proc.stderr)
    assert proc.out_path.read_text().strip()
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(5) == 0


def test_fake_binary_answers_only_after_discovery(tmp_path: Path, fake: list[FakeProcess]) -> None:
    proc = FakeProcess(tmp_path, {"FAKE_OLLAMA_READY_DELAY": "1.0"})
    fake.append(proc)
    wait_for(lambda: "Listening on" in proc.stderr)
    start = time.monotonic()
    r = httpx.get(proc.url, timeout=5)  # connects at once, answered after the delay
    assert r.text == "Ollama is running" and time.monotonic() - start > 0.5
    # The line is written just after the socket starts answering (another thread).
    wait_for(lambda: "inference compute" in proc.stderr, 5.0)


def test_fake_binary_port_taken_version_and_crash(tmp_path: Path, fake: list[FakeProcess]) -> None:
    with OllamaTestServer() as busy:
        env = {**os.environ, "OLLAMA_HOST": f"127.0.0.1:{busy.port}"}
        done = subprocess.run(
            [sys.executable, str(FAKE_OLLAMA), "serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert done.returncode == 1
        assert (
            f"Error: listen tcp 127.0.0.1:{busy.port}: bind: address already in use"
            in done.stderr.splitlines()
        )
        done = subprocess.run(
            [sys.executable, str(FAKE_OLLAMA), "--version"],
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert (done.returncode, done.stdout) == (0, "ollama version is 0.12.3\n")
    done = subprocess.run(
        [sys.executable, str(FAKE_OLLAMA), "--version"],
        env={**os.environ, "OLLAMA_HOST": f"127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.stdout.splitlines() == [
        "Warning: could not connect to a running Ollama instance",
        "Warning: client version is 0.12.3",
    ]
    proc = FakeProcess(tmp_path, {"FAKE_OLLAMA_CRASH_AFTER": "0.3"})
    fake.append(proc)
    assert proc.proc.wait(10) == 2
    assert "panic: runtime error" in proc.stderr


def test_fake_binary_config_and_events(tmp_path: Path, fake: list[FakeProcess]) -> None:
    config = tmp_path / "config.json"
    events = tmp_path / "events.jsonl"
    config.write_text(
        json.dumps(
            {
                "models": [{"name": "qwen3:0.6b", "capabilities": ["completion", "thinking"]}],
                "reply": {"tokens": ["a"] * 40, "chunk_interval": 0.1},
                "pulls": {"tiny": {"size": 2_000_000, "interval": 0.001}},
            }
        )
    )
    proc = FakeProcess(
        tmp_path, {"FAKE_OLLAMA_CONFIG": str(config), "FAKE_OLLAMA_EVENTS": str(events)}
    )
    fake.append(proc)
    wait_for(lambda: answers(proc.url))
    assert ollama.Client(host=proc.url).pull("tiny").status == "success"
    with httpx.stream(
        "POST", proc.url + "/api/chat", json={"model": "qwen3:0.6b", "messages": HI}
    ) as r:
        lines = r.iter_lines()
        next(lines), next(lines)
        closed_at = time.monotonic()

    def closed() -> list[dict[str, Any]]:
        rows = [json.loads(x) for x in events.read_text().splitlines()] if events.exists() else []
        return [e for e in rows if e["event"] == "client_closed" and e["path"] == "/api/chat"]

    wait_for(lambda: bool(closed()), 5)
    [event] = closed()
    assert event["chunks_after_close"] == 0 and event["monotonic"] - closed_at < 0.1
    names = {m.model for m in ollama.Client(host=proc.url).list().models}
    assert names == {"qwen3:0.6b", "tiny:latest"}


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def runner_pids(events: Path) -> list[int]:
    if not events.exists():
        return []
    rows = [json.loads(x) for x in events.read_text().splitlines()]
    return [e["pid"] for e in rows if e["event"] == "runner_started"]


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_fake_binary_runner_children(tmp_path: Path, fake: list[FakeProcess]) -> None:
    events = tmp_path / "events.jsonl"
    env = {"FAKE_OLLAMA_RUNNERS": "1", "FAKE_OLLAMA_EVENTS": str(events)}
    proc = FakeProcess(tmp_path, env)
    fake.append(proc)
    wait_for(lambda: answers(proc.url))
    httpx.post(proc.url + "/api/chat", json={"model": "llama3.2", "messages": HI}, timeout=5)
    [runner] = runner_pids(events)
    assert alive(runner) and "starting runner" in proc.stderr
    proc.proc.send_signal(signal.SIGTERM)  # a clean stop takes its runners along
    assert proc.proc.wait(5) == 0
    wait_for(lambda: not alive(runner), 5)

    events.unlink()
    hard = FakeProcess(tmp_path, env)
    fake.append(hard)
    wait_for(lambda: answers(hard.url))
    httpx.post(hard.url + "/api/generate", json={"model": "llama3.2", "prompt": "hi"}, timeout=5)
    [orphan] = runner_pids(events)
    hard.proc.kill()  # a hard kill of the server alone leaves the runner behind
    hard.proc.wait(5)
    assert alive(orphan)
    os.killpg(hard.proc.pid, signal.SIGKILL)  # the process group still holds it
    wait_for(lambda: not alive(orphan), 5)


# --- model import, tools, log-probabilities: the official client as the oracle -----------


def test_blobs_and_create_with_the_official_client(
    server: OllamaTestServer, http: httpx.Client, tmp_path: Path
) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(os.urandom(100_000))
    client = ollama.Client(host=server.url)
    digest = client.create_blob(path)  # a chunked upload body
    assert server.blobs == {digest: 100_000}
    assert http.head(f"/api/blobs/{digest}").status_code == 200
    assert http.head(f"/api/blobs/sha256:{'2' * 64}").status_code == 404
    assert http.head("/api/blobs/sha256:nothex").status_code == 400
    mismatch = http.post(f"/api/blobs/sha256:{'2' * 64}", content=b"other bytes")
    assert mismatch.status_code == 400 and "digest mismatch" in mismatch.json()["error"]
    again = http.post(f"/api/blobs/{digest}", content=path.read_bytes())
    assert again.status_code == 200  # present already
    parts = list(client.create(model="imported", files={"model.gguf": digest}, stream=True))
    assert [p.status for p in parts][-2:] == ["writing manifest", "success"]
    assert "imported:latest" in [m.model for m in client.list().models]
    whole = client.create(model="terse", from_="llama3.2", system="Be terse.")
    assert whole.status == "success"
    assert 'SYSTEM """Be terse."""' in (client.show("terse").modelfile or "")
    with pytest.raises(ollama.ResponseError) as info:
        client.create(model="nothing")
    assert info.value.status_code == 400


def test_tool_calls_and_logprobs_with_the_official_client(server: OllamaTestServer) -> None:
    server.add_model("qwen3", capabilities=["completion", "tools"])
    call = {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}
    server.reply = ReplySpec(text="Let me check.", tool_calls=[call])
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    client = ollama.Client(host=server.url)
    parts = list(client.chat(model="qwen3", messages=HI, tools=[tool], stream=True))
    calls = [c for p in parts for c in p.message.tool_calls or []]
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    whole = client.chat(model="qwen3", messages=HI, tools=[tool])
    assert whole.message.tool_calls and whole.message.tool_calls[0].function.name == "get_weather"
    plain = list(client.chat(model="qwen3", messages=HI, stream=True))  # no tools declared
    assert not any(p.message.tool_calls for p in plain)
    with pytest.raises(ollama.ResponseError, match="does not support tools"):
        client.chat(model="llama3.2", messages=HI, tools=[tool])

    probs = list(
        client.chat(model="llama3.2", messages=HI, stream=True, logprobs=True, top_logprobs=2)
    )
    tokens = [p.logprobs[0] for p in probs if not p.done and p.logprobs]
    assert "".join(t.token for t in tokens) == server.reply.text
    assert all(t.logprob < 0 and len(t.top_logprobs or []) == 2 for t in tokens)
    with pytest.raises(ollama.ResponseError):
        client.chat(model="llama3.2", messages=HI, logprobs=True, top_logprobs=21)
