"""A minimal HTTP/1.1 server on ``asyncio.Protocol``: keep-alive, Content-Length and chunked
request bodies, chunked streamed replies, write flow control.

Why hand-written (not aiohttp, not http.server): the launcher's Stop button works only by
closing the connection, so the tests must know the exact instant a client hangs up, even
while the server sits idle between two chunks. Go's net/http (what Ollama runs on) reads the
socket in the background during a request and cancels the request context on EOF; this
layer does the same: the read side stays armed for the whole exchange, and EOF or a reset
records ``time.monotonic()`` at once and wakes whatever the handler is waiting on.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

MAX_HEAD = 1 << 20  # Go's DefaultMaxHeaderBytes


class BadRequest(Exception):
    """The bytes on the wire are not an HTTP/1.x request."""


@dataclass
class Request:
    method: str
    target: str
    path: str
    query: str
    version: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    peer: str
    keep_alive: bool


def _parse_chunked(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    body = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise BadRequest("bad chunk size") from exc
        pos = eol + 2
        if size == 0:
            while True:  # trailers, then an empty line
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                line_empty = eol == pos
                pos = eol + 2
                if line_empty:
                    return bytes(body), pos
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos : pos + size]
        pos += size + 2


def parse_request(buf: bytearray, peer: str) -> tuple[Request, int] | None:
    """One request from the front of ``buf``: (request, bytes used), or None if incomplete."""
    while buf.startswith(b"\r\n"):  # tolerated, as Go does, before a request line
        del buf[:2]
    if buf and not buf[:1].isalpha():
        # A TLS ClientHello (0x16 ...) or other binary: Go answers 400 once it reads the
        # line; saying so at the first byte spares a client its handshake timeout.
        raise BadRequest("malformed HTTP request")
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD:
            raise BadRequest("request header too large")
        return None
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    parts = head[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("malformed HTTP request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in head[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("malformed MIME header line")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    body_start = end + 4
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunked = _parse_chunked(buf, body_start)
        if chunked is None:
            return None
        body, used = chunked
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise BadRequest("bad Content-Length") from exc
        if length < 0:
            raise BadRequest("bad Content-Length")
        if len(buf) < body_start + length:
            return None
        body, used = bytes(buf[body_start : body_start + length]), body_start + length
    path, _, query = target.partition("?")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    req = Request(method, target, path, query, version, headers, body, peer, keep_alive)
    return req, used


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "status code " + str(status)


class Exchange:
    """The reply side of one request: a whole reply, or a chunked stream."""

    def __init__(self, conn: HttpConnection, request: Request) -> None:
        self.conn = conn
        self.request = request
        self.status: int | None = None
        self.streaming = False
        self.done = False
        self.aborted = False
        self.keep_alive = request.keep_alive

    # --- what the client did ---
    @property
    def client_closed_at(self) -> float | None:
        return self.conn.client_closed_at

    @property
    def gone(self) -> bool:
        """The client hung up (EOF or reset) or the connection is otherwise dead."""
        return self.conn.gone

    def on_client_close(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(monotonic_time)`` from the read side the moment the client leaves."""
        self.conn.listeners.append(callback)

    # --- replying ---
    def _head(self, status: int, headers: dict[str, str]) -> bytes:
        headers["Date"] = formatdate(usegmt=True)
        if not self.keep_alive:
            headers["Connection"] = "close"
        lines = [f"HTTP/1.1 {status} {_phrase(status)}"]
        lines += [f"{k}: {headers[k]}" for k in sorted(headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def respond(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """A whole reply with Content-Length (a HEAD request gets the head only)."""
        if self.status is not None:
            raise RuntimeError("reply already started")
        self.status = status
        all_headers = dict(headers or {})
        all_headers["Content-Length"] = str(len(body))
        if content_type:
            all_headers["Content-Type"] = content_type
        payload = self._head(status, all_headers)
        if self.request.method != "HEAD":
            payload += body
        self.done = True
        self.conn.write(payload)

    def start_stream(self, status: int = 200, content_type: str = "application/x-ndjson") -> None:
        if self.status is not None:
            raise RuntimeError("reply already started")
        self.status = status
        self.streaming = True
        self.conn.write(
            self._head(status, {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        )

    def write_chunks(self, pieces: Iterable[bytes]) -> None:
        """Each piece becomes one HTTP chunk (as Go's Flush after each object does); the
        lot goes to the transport in one write."""
        self.conn.write(b"".join([b"%x\r\n%b\r\n" % (len(p), p) for p in pieces]))

    def end_stream(self) -> None:
        if self.streaming and not self.done:
            self.done = True
            self.conn.write(b"0\r\n\r\n")

    def abort(self) -> None:
        """Drop the TCP connection now, mid-reply: a server dying."""
        self.aborted = True
        self.conn.abort()

    # --- waiting ---
    async def drain(self) -> bool:
        """Wait while the transport's write buffer is full; False if the client left."""
        conn = self.conn
        while conn.write_paused and not conn.gone:
            await conn.writable.wait()
        return not conn.gone

    async def sleep(self, delay: float) -> bool:
        """Sleep, waking early if the client leaves; True if the client is still there."""
        if self.conn.gone:
            return False
        if delay <= 0:
            await asyncio.sleep(0)
            return not self.conn.gone
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.conn.gone_event.wait(), delay)
        return not self.conn.gone


Handler = Callable[[Request, Exchange], Awaitable[None]]
ExchangeLog = Callable[[Request, int, float, float], None]


class HttpConnection(asyncio.Protocol):
    """One TCP connection: parses requests, runs them one at a time, watches for EOF."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.buf = bytearray()
        self.handling = False
        self.task: asyncio.Task[None] | None = None
        self.client_closed_at: float | None = None
        self.lost = False
        self.server_closing = False
        self.listeners: list[Callable[[float], None]] = []
        self.gone_event = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.write_paused = False

    @property
    def gone(self) -> bool:
        return self.client_closed_at is not None or self.lost

    # --- asyncio.Protocol ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) else str(peer or "")
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.handling:
            self._next()

    def eof_received(self) -> bool:
        self._client_left()
        # Keep the write side open while a handler runs, so a short reply still goes out;
        # a streaming handler sees ``gone`` and stops, as a Go handler sees ctx.Done().
        return self.handling

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.server_closing:
            self._client_left()
        self.gone_event.set()
        self.writable.set()
        self.server.connections.discard(self)

    def pause_writing(self) -> None:
        self.write_paused = True
        self.writable.clear()

    def resume_writing(self) -> None:
        self.write_paused = False
        self.writable.set()

    # --- internals ---
    def _client_left(self) -> None:
        if self.client_closed_at is None and not self.server_closing:
            now = time.monotonic()
            self.client_closed_at = now
            for callback in list(self.listeners):
                callback(now)
        self.gone_event.set()
        self.writable.set()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.lost and data:
            self.transport.write(data)

    def abort(self) -> None:
        self.server_closing = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.server_closing = True
        if self.transport is not None:
            self.transport.close()

    def _next(self) -> None:
        if self.gone or self.server_closing:
            return
        try:
            parsed = parse_request(self.buf, self.peer)
        except BadRequest:
            self.write(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8"
                b"\r\nConnection: close\r\n\r\n400 Bad Request"
            )
            self.close()
            return
        if parsed is None:
            return
        request, used = parsed
        del self.buf[:used]
        self.handling = True
        self.task = asyncio.get_running_loop().create_task(self._run(request))

    async def _run(self, request: Request) -> None:
        started = time.monotonic()
        exchange = Exchange(self, request)
        try:
            await self.server.handler(request, exchange)
            if exchange.status is None and not self.lost:
                exchange.respond(200)  # Go: a handler that writes nothing sends 200, no body
            exchange.end_stream()
        except asyncio.CancelledError:
            raise
        except Exception:
            traceback.print_exc(file=sys.stderr)
            if exchange.status is None:
                exchange.respond(500, b"500 Internal Server Error", "text/plain; charset=utf-8")
            else:
                exchange.abort()
        finally:
            self.handling = False
            self.listeners.clear()
        if self.server.on_exchange_done is not None:
            self.server.on_exchange_done(request, exchange.status or 0, started, time.monotonic())
        if exchange.aborted or self.lost:
            return
        if self.client_closed_at is not None or not exchange.keep_alive:
            self.close()
        elif self.buf:
            self._next()


class HttpServer:
    """Listens and hands each request to ``handler``; ``close`` drops every connection."""

    def __init__(self, handler: Handler, on_exchange_done: ExchangeLog | None = None) -> None:
        self.handler = handler
        self.on_exchange_done = on_exchange_done
        self.connections: set[HttpConnection] = set()
        self._server: asyncio.base_events.Server | None = None

    async def listen(
        self,
        host: str,
        port: int,
        sock: socket.socket | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> int:
        """Listen (on ``sock`` if given); ``tls``: serve https with that server context."""
        loop = asyncio.get_running_loop()
        if sock is not None:
            self._server = await loop.create_server(
                lambda: HttpConnection(self), sock=sock, ssl=tls
            )
        else:
            self._server = await loop.create_server(
                lambda: HttpConnection(self), host, port, ssl=tls
            )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.abort()
            if conn.task is not None:
                conn.task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
