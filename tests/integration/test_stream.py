"""OllamaStream over httpx's own streaming: framing, failures, and the close guarantee.

Most tests talk to ``RawServer``, an asyncio server in the test's own loop that answers
with hand-written bytes, so framing edge cases (split chunk-size lines, extensions,
trailers, bodies without a length, gzip, a peer dying mid-chunk) are exercised exactly,
and the instant the client hung up is recorded.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import socket
import struct
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

import pytest

from launcher.ollama import (
    OllamaClient,
    OllamaConnectionError,
    OllamaError,
    OllamaProtocolError,
    OllamaTimeoutError,
)
from tests.conftest import run
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.waiting import wait_until

MESSAGES = [{"role": "user", "content": "Hello"}]


def line(content: str, *, done: bool = False) -> bytes:
    record: dict[str, object] = {
        "model": "llama3.2:latest",
        "created_at": "2025-10-26T17:15:24.097767Z",
        "message": {"role": "assistant", "content": content},
        "done": done,
    }
    if done:
        record.update(done_reason="stop", eval_count=3, eval_duration=3_000_000)
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


CHAT_LINES = [line("Hel"), line("lo, "), line("world"), line("", done=True)]


def chunked(pieces: list[bytes], *, ext: bytes = b"", trailers: bytes = b"") -> bytes:
    """Chunked framing, one chunk per piece (as Ollama flushes one per line)."""
    framed = b"".join(b"%x%b\r\n%b\r\n" % (len(p), ext, p) for p in pieces)
    return framed + b"0\r\n" + trailers + b"\r\n"


def head(status: str = "200 OK", **headers: str) -> bytes:
    fields = {"Content-Type": "application/x-ndjson", **headers}
    lines = [f"HTTP/1.1 {status}"] + [f"{k.replace('_', '-')}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


CHUNKED_REPLY = head(Transfer_Encoding="chunked") + chunked(CHAT_LINES)

# --- a server that writes exactly the bytes a test gives it -------------------------------


@dataclass
class Conn:
    """What the server saw on one connection."""

    requests: list[bytes] = field(default_factory=list)  # request heads
    bodies: list[bytes] = field(default_factory=list)
    eof_at: float | None = None  # monotonic time the client hung up


Reply = Callable[[asyncio.StreamWriter, bytes], Awaitable[bool]]  # -> keep the connection?


class RawServer:
    """A loopback HTTP/1.1 server whose replies are raw bytes from ``reply``.

    ``reply(writer, request_head)`` writes the answer and returns whether to serve
    another request on the connection. After the last reply the server waits for the
    client to hang up and records when (``Conn.eof_at``).
    """

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.conns: list[Conn] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn()
        self.conns.append(conn)
        try:
            keep = True
            while keep:
                request = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for header in request.split(b"\r\n"):
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                conn.requests.append(request)
                conn.bodies.append(await reader.readexactly(length))
                keep = await self.reply(writer, request)
            while await reader.read(65536):
                pass
            conn.eof_at = time.monotonic()
        except (OSError, asyncio.IncompleteReadError):
            conn.eof_at = time.monotonic()
        finally:
            writer.transport.abort()


def send(*pieces: bytes, pause: float = 0.0, then: str = "close") -> Reply:
    """A reply writing ``pieces`` with a drain (and ``pause``) between them.

    ``then``: "close" (FIN after the last piece), "reset" (RST), "hang" (send nothing
    more and wait for the client) or "keep" (serve the next request).
    """

    async def reply(writer: asyncio.StreamWriter, request: bytes) -> bool:
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)
        if then == "close":
            writer.close()
        elif then == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        return then == "keep"

    return reply


async def chat_text(client: OllamaClient) -> str:
    async with client.chat("llama3.2", MESSAGES) as chunks:
        return "".join([chunk.content async for chunk in chunks])


# --- framing --------------------------------------------------------------------------------


async def test_chunked_reply_fed_byte_by_byte() -> None:
    async with RawServer(send(*[bytes([b]) for b in CHUNKED_REPLY], pause=0.0002)) as server:
        async with OllamaClient(server.host) as client:
            assert await chat_text(client) == "Hello, world"


async def test_chunked_reply_split_at_every_position() -> None:
    """Two writes, the split anywhere: in a size line, in data, in a CRLF, in the 0-chunk."""
    body_start = CHUNKED_REPLY.index(b"\r\n\r\n") + 4
    cuts = list(range(body_start, len(CHUNKED_REPLY)))
    at = iter(cuts)

    async def reply(writer: asyncio.StreamWriter, request: bytes) -> bool:
        cut = next(at)
        return await send(CHUNKED_REPLY[:cut], CHUNKED_REPLY[cut:], pause=0.001)(writer, request)

    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        for cut in cuts:
            assert await chat_text(client) == "Hello, world", f"split at byte {cut}"


async def test_chunk_extensions_and_trailers() -> None:
    body = chunked(CHAT_LINES, ext=b";name=value;x", trailers=b"X-Checksum: 1\r\nX-More: 2\r\n")
    async with RawServer(send(head(Transfer_Encoding="chunked"), body)) as server:
        async with OllamaClient(server.host) as client:
            assert await chat_text(client) == "Hello, world"


async def test_content_length_body() -> None:
    payload = b"".join(CHAT_LINES)
    reply = send(head(Content_Length=str(len(payload))), payload[:50], payload[50:], then="hang")
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        # Read to the declared length, not to EOF: "hang" never closes.
        assert await chat_text(client) == "Hello, world"


async def test_body_without_length_is_read_until_eof() -> None:
    payload = b"".join(CHAT_LINES)
    reply = send(head(), payload[:70], payload[70:], pause=0.01)
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        assert await chat_text(client) == "Hello, world"


async def test_interim_100_continue_is_skipped() -> None:
    reply = send(b"HTTP/1.1 100 Continue\r\n\r\n", CHUNKED_REPLY)
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        assert await chat_text(client) == "Hello, world"


async def test_gzip_content_encoding_is_decoded() -> None:
    """A proxy may compress the stream: the lines come out decoded."""
    packed = gzip.compress(b"".join(CHAT_LINES))
    pieces = [packed[i : i + 7] for i in range(0, len(packed), 7)]
    reply = send(head(Transfer_Encoding="chunked", Content_Encoding="gzip"), chunked(pieces))
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        assert await chat_text(client) == "Hello, world"


async def test_gzip_transfer_coding_is_a_clear_protocol_error() -> None:
    """`Transfer-Encoding: gzip, chunked` is refused by httpx's HTTP/1.1 parser (h11):
    Ollama (Go's net/http) never sends it, and the user gets a clear error, not a hang."""
    packed = gzip.compress(b"".join(CHAT_LINES))
    reply = send(head(Transfer_Encoding="gzip, chunked"), chunked([packed]))
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        with pytest.raises(OllamaProtocolError, match="not valid HTTP"):
            await chat_text(client)


async def test_many_lines_in_one_chunk_and_lines_split_across_chunks() -> None:
    joined = b"".join(CHAT_LINES)
    pieces = [joined[:30], joined[30:31], joined[31:200], joined[200:]]
    reply = send(head(Transfer_Encoding="chunked"), chunked(pieces))
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        assert await chat_text(client) == "Hello, world"


async def test_lines_the_fast_decoder_refuses_are_read_as_before() -> None:
    """Padded lines, CRLF, a blank line, a lone surrogate escape (which orjson, the fast
    path, refuses: the standard library reads it, as before)."""
    lines = [
        b'  {"message": {"role": "assistant", "content": "a"}, "done": false}  \r\n',
        b'{"message": {"role": "assistant", "content": "\\ud800b"}, "done": false}\n',
        b"\n",
        b'{"message": {"role": "assistant", "content": "c"}, "done": true}\n',
    ]
    reply = send(head(Transfer_Encoding="chunked"), chunked(lines))
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        assert await chat_text(client) == "a\ud800bc"


# --- failures -------------------------------------------------------------------------------


async def test_eof_mid_chunk_is_a_connection_error() -> None:
    body = chunked(CHAT_LINES)
    cut = body.index(CHAT_LINES[1]) + 10  # inside the second line's chunk
    reply = send(head(Transfer_Encoding="chunked"), body[:cut])
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        got: list[str] = []
        with pytest.raises(OllamaConnectionError, match="closed unexpectedly"):
            async with client.chat("llama3.2", MESSAGES) as chunks:
                async for chunk in chunks:
                    got.append(chunk.content)
    assert got == ["Hel"]


async def test_eof_before_the_last_chunk_is_a_connection_error() -> None:
    """Whole lines, but no final record and no 0-chunk: the server died between lines."""
    reply = send(head(Transfer_Encoding="chunked"), chunked(CHAT_LINES[:2])[:-5])
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        with pytest.raises(OllamaConnectionError, match="closed unexpectedly"):
            await chat_text(client)


async def test_reset_mid_stream_is_a_connection_error() -> None:
    reply = send(head(Transfer_Encoding="chunked"), chunked(CHAT_LINES)[:40], then="reset")
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        with pytest.raises(OllamaConnectionError):
            await chat_text(client)


@pytest.mark.parametrize(
    "garbage",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        head(Transfer_Encoding="chunked") + b"zz\r\n{}\n\r\n0\r\n\r\n",
        head(Transfer_Encoding="chunked") + b"3\r\n{}\nXX0\r\n\r\n",
        head(Content_Length="ten") + b"{}\n",
    ],
)
async def test_malformed_reply_is_an_ollama_error(garbage: bytes) -> None:
    async with RawServer(send(garbage)) as server, OllamaClient(server.host) as client:
        with pytest.raises(OllamaError):
            await chat_text(client)


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        async with OllamaClient(f"127.0.0.1:{port}") as client:
            with pytest.raises(OllamaConnectionError, match="ollama serve"):
                await chat_text(client)


@pytest.mark.parametrize("sent", [b"", head(Transfer_Encoding="chunked") + b"5\r\n{"])
async def test_read_timeout(sent: bytes) -> None:
    """Nothing at all, or a head and part of a chunk, then silence."""
    async with RawServer(send(sent, then="hang")) as server:
        async with OllamaClient(server.host, timeout=0.3) as client:
            started = time.monotonic()
            with pytest.raises(OllamaTimeoutError):
                await chat_text(client)
            assert time.monotonic() - started < 2.0
        await wait_until(lambda: server.conns[0].eof_at is not None, 2.0)


# --- closing ----------------------------------------------------------------------------


async def test_server_sees_eof_at_once_after_leaving_the_block() -> None:
    reply = send(head(Transfer_Encoding="chunked"), chunked(CHAT_LINES[:2])[:-5], then="hang")
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        async with client.chat("llama3.2", MESSAGES) as chunks:
            async for _ in chunks:
                break
        left = time.monotonic()
        await wait_until(lambda: server.conns[0].eof_at is not None, 2.0)
        eof_at = server.conns[0].eof_at
        assert eof_at is not None and eof_at - left < 0.05


def test_test_server_sees_the_disconnect(ollama_server: OllamaTestServer) -> None:
    ollama_server.reply = ReplySpec(text="word " * 500, chunk_interval=0.02)

    async def main() -> float:
        async with OllamaClient(ollama_server.url) as client:
            async with client.chat("llama3.2", MESSAGES) as chunks:
                async for chunk in chunks:
                    if chunk.content:
                        break
            return time.monotonic()

    left = run(main())
    ollama_server.wait_for(lambda: ollama_server.streams[-1].closed_by_client(), 2.0)
    closed_at = ollama_server.streams[-1].client_closed_at
    assert closed_at is not None and closed_at - left < 0.05
    assert not ollama_server.streams[-1].finished


def test_abort_hangs_up_before_the_event_loop_turns(ollama_server: OllamaTestServer) -> None:
    """A Stop clicked in a window: `abort()` in the click, and the server sees the hang-up
    while the loop is still busy (no await in between); leaving the block is then clean."""
    ollama_server.reply = ReplySpec(text="word " * 500, chunk_interval=0.02)

    async def main() -> None:
        async with OllamaClient(ollama_server.url) as client:
            stream = client.chat("llama3.2", MESSAGES)
            async with stream as chunks:
                async for chunk in chunks:
                    if chunk.content:
                        stream.abort()
                        # The server runs in its own thread; this loop does not turn.
                        ollama_server.wait_for(
                            lambda: ollama_server.streams[-1].closed_by_client(), 2.0
                        )
                        break

    run(main())
    assert not ollama_server.streams[-1].finished


async def test_reading_on_after_abort_is_a_connection_error() -> None:
    reply = send(head(Transfer_Encoding="chunked"), chunked(CHAT_LINES[:2])[:-5], then="hang")
    async with RawServer(reply) as server, OllamaClient(server.host) as client:
        stream = client.chat("llama3.2", MESSAGES)
        with pytest.raises(OllamaConnectionError, match="closed unexpectedly"):
            async with stream as chunks:
                async for _ in chunks:
                    stream.abort()  # again and again: harmless once the socket is down
        await wait_until(lambda: server.conns[0].eof_at is not None, 2.0)


async def test_cancel_while_reading_closes_and_leaks_nothing() -> None:
    reply = send(head(Transfer_Encoding="chunked"), chunked([CHAT_LINES[0]])[:-5], then="hang")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with RawServer(reply) as server, OllamaClient(server.host) as client:
            got = asyncio.Event()

            async def consume() -> None:
                async with client.chat("llama3.2", MESSAGES) as chunks:
                    async for _ in chunks:
                        got.set()

            task = asyncio.ensure_future(consume())
            await asyncio.wait_for(got.wait(), 5.0)
            await asyncio.sleep(0.01)  # the task now waits on the socket
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            left = time.monotonic()
            await wait_until(lambda: server.conns[0].eof_at is not None, 2.0)
            eof_at = server.conns[0].eof_at
            assert eof_at is not None and eof_at - left < 0.05
        gc.collect()
        await asyncio.sleep(0.01)
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks]


async def test_cancel_while_waiting_for_the_status_line_closes_at_once() -> None:
    """A model loading: no byte of the reply yet. Stop must still hang up at once."""
    async with RawServer(send(then="hang")) as server, OllamaClient(server.host) as client:
        task = asyncio.ensure_future(chat_text(client))
        await wait_until(lambda: server.conns and server.conns[0].requests, 5.0)
        await asyncio.sleep(0.01)  # the task now waits for the status line
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        left = time.monotonic()
        await wait_until(lambda: server.conns[0].eof_at is not None, 2.0)
        eof_at = server.conns[0].eof_at
        assert eof_at is not None and eof_at - left < 0.05


# --- the pool -----------------------------------------------------------------------------


def version_then(stream: Reply) -> Reply:
    """Answers `GET /api/version` (keeping the connection), anything else with ``stream``."""
    body = b'{"version":"0.12.3"}'
    keep = send(
        head(Content_Length=str(len(body)), Content_Type="application/json"), body, then="keep"
    )

    async def reply(writer: asyncio.StreamWriter, request: bytes) -> bool:
        if request.startswith(b"GET /api/version "):
            return await keep(writer, request)
        return await stream(writer, request)

    return reply


async def test_plain_requests_share_one_pooled_connection() -> None:
    async with RawServer(version_then(send(CHUNKED_REPLY))) as server:
        async with OllamaClient(server.host) as client:
            for _ in range(3):
                assert await client.version() == "0.12.3"
    assert len(server.conns) == 1 and len(server.conns[0].requests) == 3


async def test_a_cancelled_stream_connection_is_never_reused() -> None:
    """The stream takes the pooled connection; cancelled mid-reply, that connection is
    closed (the server sees it) and the next request opens a new one."""
    hanging = send(head(Transfer_Encoding="chunked"), chunked([CHAT_LINES[0]])[:-5], then="hang")
    async with RawServer(version_then(hanging)) as server, OllamaClient(server.host) as client:
        assert await client.version() == "0.12.3"
        got = asyncio.Event()

        async def consume() -> None:
            async with client.chat("llama3.2", MESSAGES) as chunks:
                async for _ in chunks:
                    got.set()

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(got.wait(), 5.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_until(lambda: server.conns[0].eof_at is not None, 2.0)
        assert len(server.conns[0].requests) == 2  # version, then the stream
        assert await client.version() == "0.12.3"
        assert len(server.conns) == 2 and len(server.conns[1].requests) == 1


async def test_a_broken_off_stream_connection_is_never_reused() -> None:
    """Leaving the block by `break` (the reply not read to its end) closes the connection."""
    hanging = send(head(Transfer_Encoding="chunked"), chunked(CHAT_LINES[:2])[:-5], then="hang")
    async with RawServer(version_then(hanging)) as server, OllamaClient(server.host) as client:
        assert await client.version() == "0.12.3"
        async with client.chat("llama3.2", MESSAGES) as chunks:
            async for _ in chunks:
                break
        await wait_until(lambda: server.conns[0].eof_at is not None, 2.0)
        assert await client.version() == "0.12.3"
        assert len(server.conns) == 2
