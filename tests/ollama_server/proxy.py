"""``ForwardProxy``: a small HTTP forward proxy on 127.0.0.1 (CONNECT and absolute-URI requests).

Why: the launcher must reach a remote Ollama through a corporate proxy, from the
environment (``HTTPS_PROXY`` ...) or a per-host setting, and must never send a loopback
request through one. A test needs to see which requests went through the proxy and where
they were going; this proxy records exactly that (``seen``) and forwards to real local
servers through a name table (``routes``), so the "remote" host names need no DNS.

* ``GET http://host:port/path`` (absolute URI): forwarded with ``Connection: close`` on a
  fresh upstream connection; the reply is piped back as it streams; then the client
  connection closes (one request per connection keeps the proxy small).
* ``CONNECT host:port``: ``200 Connection established``, then bytes both ways (TLS inside).
* An unknown host: ``502 Bad Gateway``. A request that is not for a proxy: ``400``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Seen:
    """One request the proxy handled: ``CONNECT`` or the method, and the target as sent."""

    method: str
    target: str
    headers: dict[str, str]


class ForwardProxy:
    """See the module docstring. ``routes`` maps ``"host:port"`` to a real (host, port)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, int]] = {}
        self.seen: list[Seen] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, name: str, port: int, to: tuple[str, int]) -> None:
        self.routes[f"{name}:{port}"] = to

    # --- life cycle -------------------------------------------------------------------
    def start(self) -> ForwardProxy:
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            finally:
                loop.close()
                ready.set()

        self._thread = threading.Thread(target=main, name="forward-proxy", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> ForwardProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        await self._stop.wait()
        server.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- one client connection ----------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await self._handle(head, reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.transport.abort()

    async def _handle(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.seen.append(Seen(method, target, headers))
        if method == "CONNECT":
            where = self.routes.get(target)
            if where is None:
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            up_reader, up_writer = await asyncio.open_connection(*where)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await _pipe_both(reader, writer, up_reader, up_writer)
            return
        url = urlsplit(target)
        if not url.scheme or not url.hostname:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        where = self.routes.get(f"{url.hostname}:{url.port or 80}")
        if where is None:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        kept = [
            line
            for line in lines[1:]
            if line.partition(":")[0].strip().lower()
            not in ("connection", "proxy-connection", "proxy-authorization", "keep-alive")
        ]
        request = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
        up_reader, up_writer = await asyncio.open_connection(*where)
        up_writer.write(request.encode("latin-1") + b"\r\n\r\n" + body)
        await up_writer.drain()
        # Both ways: the client hanging up (Stop) must reach the server at once.
        await _pipe_both(reader, writer, up_reader, up_writer)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Bytes both ways until either side hangs up; then both connections close."""
    tasks = [
        asyncio.ensure_future(_pipe(reader, up_writer)),
        asyncio.ensure_future(_pipe(up_reader, writer)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        up_writer.transport.abort()
