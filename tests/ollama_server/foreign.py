"""``ForeignServer``: something that is *not* Ollama holding a port.

Why: a launcher probing ``127.0.0.1:11434`` must not mistake a random web app (or a
proxy answering JSON without a ``version``) for Ollama, and must not try to start Ollama
on a port someone else holds. This server answers every path with 200 ``text/html``; in
``json_without_version`` mode ``/api/version`` answers ``{"status":"ok"}`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

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


@contextlib.contextmanager
def foreign_process(
    port: int, *, json_without_version: bool = False, raw: bool = False
) -> Iterator[Popen[str]]:
    """A ForeignServer in a child process of its own, holding `port` until the block ends.

    With `raw`, the process only holds the port: it accepts connections and closes
    them without a byte (a game server, a database...): nothing answers HTTP.
    """
    root = Path(__file__).resolve().parent.parent.parent
    args = [sys.executable, "-m", "tests.ollama_server.foreign", str(port)]
    if json_without_version:
        args.append("--json-without-version")
    if raw:
        args.append("--raw")
    proc = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != f"listening {port}":
            raise RuntimeError(f"the foreign server did not start: {line!r}")
        yield proc
    finally:
        stop_process(proc)


def stop_process(proc: Popen[str]) -> None:
    """End a child of a test: politely, then for sure (it never outlives the test)."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Run as a separate process: ``python -m tests.ollama_server.foreign PORT``.

    Why: the launcher's "who holds the port" looks the holder up in the system's
    process table, so the holder must be a real process of its own (pid, program,
    user). Prints ``listening PORT`` once bound; exits 0 on SIGTERM/SIGINT.
    """
    import signal

    args = list(sys.argv[1:] if argv is None else argv)
    port = int(args[0]) if args else 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if "--raw" in args:
        return _hold_raw(port, stop)
    server = ForeignServer(json_without_version="--json-without-version" in args, port=port)
    with server:
        print(f"listening {server.port}", flush=True)
        stop.wait()
    return 0


def _hold_raw(port: int, stop: threading.Event) -> int:
    """Listen on `port`; close every connection at once, answering nothing."""
    import socket

    sock = socket.create_server(("127.0.0.1", port))
    sock.settimeout(0.1)
    print(f"listening {sock.getsockname()[1]}", flush=True)
    with sock:
        while not stop.is_set():
            try:
                conn, _addr = sock.accept()
            except TimeoutError:
                continue
            conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
