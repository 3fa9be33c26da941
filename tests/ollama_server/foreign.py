"""``ForeignServer``: something that is *not* Ollama holding a port.

Why: a launcher probing ``127.0.0.1:11434`` must not mistake a random web app (or a
proxy answering JSON without a ``version``) for Ollama, and must not try to start Ollama
on a port someone else holds. This server answers every path with 200 ``text/html``; in
``json_without_version`` mode ``/api/version`` answers ``{"status":"ok"}`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from .http11 import Exchange, HttpServer, Request

PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Dev server</title></head>"
    b"<body><h1>It works!</h1></body></html>\n"
)


class ForeignServer:
    def __init__(
        self, *, json_without_version: bool = False, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.json_without_version = json_without_version
        self.host = host
        self._port = port
        self.paths: list[str] = []  # every path asked for, in order
        self._http = HttpServer(self._handle)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    async def _handle(self, request: Request, exchange: Exchange) -> None:
        self.paths.append(request.path)
        if self.json_without_version and request.path == "/api/version":
            exchange.respond(200, b'{"status":"ok"}', "application/json")
        else:
            exchange.respond(200, PAGE, "text/html; charset=utf-8")

    def start(self) -> ForeignServer:
        if self._thread is not None:
            return self
        ready = threading.Event()

        async def serve() -> None:
            self._stop = asyncio.Event()
            self._port = await self._http.listen(self.host, self._port)
            ready.set()
            await self._stop.wait()
            await self._http.close()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(serve())
            finally:
                loop.close()
                ready.set()

        self._thread = threading.Thread(target=main, name="foreign-server", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stop is None:
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> ForeignServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
