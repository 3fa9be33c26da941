"""``OllamaTestServer``: the Ollama HTTP API, faithful on the wire, driven by test state.

Why: the launcher's tests need a server that answers exactly as ``ollama serve`` does
(status codes, error bodies, NDJSON streams, pull progress, no cancel endpoint) and that
can be told to misbehave (slow first token, error line mid-stream, malformed line, dying
mid-reply, busy) and asked what happened (requests, stream timings, the instant a client
hung up). It runs its own asyncio loop in a daemon thread, so sync tests, asyncio tests and
Qt tests all use it the same way.

Rules worth knowing when writing a test:

* Names are Ollama names: ``"llama3.2"`` means ``"llama3.2:latest"``; lookups ignore case.
* Chunks echo the model name as the client spelled it (as Ollama does).
* ``think`` true on a model without the ``"thinking"`` capability is a 400; a reply's
  ``thinking`` text is streamed only for a model with that capability and unless the
  request says ``"think": false``.
* ``options.num_predict`` cuts the reply and makes ``done_reason`` ``"length"``.
* The stream's headers leave with its first line (as in Go): during ``first_chunk_delay``
  the client is still waiting for the status line.
* ``ReplySpec.tool_calls`` are sent only when the chat request declares ``tools``, and
  ``tools`` on a model without the ``"tools"`` capability is a 400. ``"logprobs": true``
  adds a ``logprobs`` list to every token chunk (``top_logprobs`` 0-20 alternatives).

The routes are split by job: chat and generate in ``chatting``, blobs and create in
``modelimport``, pulls in ``pulling``; the model catalogue (tags, ps, show, delete,
copy) is here, with the life cycle and the dispatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .answering import HttpError, decode_body, json_reply, lookup, refuse
from .chatting import ChatRoutes
from .http11 import Exchange, HttpServer, Request
from .modelimport import ImportRoutes
from .pulling import installed_model, pull_streamed, pull_whole
from .specs import (
    DEFAULT_TZ,
    LoadedModel,
    ModelSpec,
    PullSpec,
    RecordedRequest,
    ReplySpec,
    StreamRecord,
)
from .streaming import StreamListener
from .wire import (
    parse_model_name,
    rfc3339_local,
)

#: (method, path, status, seconds, client address) after each exchange; for GIN-style logs.
AccessLog = Callable[[str, str, int, float, str], None]
Route = Callable[[Request, Exchange], Any]

_PULL_FIELDS: dict[str, type] = {"model": str, "name": str, "stream": bool, "insecure": bool}
_NAME_FIELDS: dict[str, type] = {"model": str, "name": str}
_COPY_FIELDS: dict[str, type] = {"source": str, "destination": str}


class OllamaTestServer(ChatRoutes, ImportRoutes):
    """An in-process Ollama server on a free loopback port. See the module docstring."""

    def __init__(
        self,
        *,
        version: str = "0.12.3",
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.version = version
        self.host = host
        self._port = port
        self.tls = tls  # a server SSL context: serve https (a remote Ollama behind TLS)
        self.models: dict[str, ModelSpec] = {}
        self.reply = ReplySpec()
        self.replies: dict[str, ReplySpec] = {}
        self.pulls: dict[str, PullSpec] = {}
        self.downloaded: dict[str, int] = {}  # layer digest -> bytes on "disk"
        self.blobs: dict[str, int] = {}  # uploaded blob digest -> its size
        self.loaded: dict[str, LoadedModel] = {}
        self.busy = False
        self.tz = DEFAULT_TZ  # the "local" offset of times in /api/tags and /api/ps
        self.default_keep_alive = 300.0
        self.requests: list[RecordedRequest] = []
        self.streams: list[StreamRecord] = []
        self.stream_listener: StreamListener | None = None
        self.access_log: AccessLog | None = None
        #: ("load" | "unload", full model name) when chat/generate loads or unloads a model.
        self.model_listener: Callable[[str, str], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._http = HttpServer(self._dispatch, self._exchange_done)
        self._routes: dict[str, dict[str, Route]] = {
            "/": {"GET": self._root, "HEAD": self._root},
            "/api/version": {"GET": self._version, "HEAD": self._version},
            "/api/tags": {"GET": self._tags, "HEAD": self._tags},
            "/api/ps": {"GET": self._ps},
            "/api/show": {"POST": self._show},
            "/api/chat": {"POST": self._chat},
            "/api/generate": {"POST": self._generate},
            "/api/pull": {"POST": self._pull},
            "/api/delete": {"DELETE": self._delete},
            "/api/copy": {"POST": self._copy},
            "/api/create": {"POST": self._create},
        }
        self._blob_routes: dict[str, Route] = {"HEAD": self._blob_head, "POST": self._blob_post}

    # --- life cycle -----------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self._port}"

    def start(self, *, sock: socket.socket | None = None) -> OllamaTestServer:
        """Serve from a daemon thread; returns once listening. ``sock``: an already
        bound and listening socket (the fake binary binds first, answers later)."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready, failure, sock))
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
                ready.set()

        self._thread = threading.Thread(target=main, name="ollama-test-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    async def _serve(
        self, ready: threading.Event, failure: list[BaseException], sock: socket.socket | None
    ) -> None:
        self._stop = asyncio.Event()
        try:
            self._port = await self._http.listen(self.host, self._port, sock, self.tls)
        except BaseException as exc:
            failure.append(exc)
            return
        ready.set()
        await self._stop.wait()
        await self._http.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(3):  # let connection_lost callbacks run
            await asyncio.sleep(0)

    def stop(self) -> None:
        """Close the listener and every connection; join the thread."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        self._thread = None

    def __enter__(self) -> OllamaTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the server's loop (for state changes that must not race)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(fn)

    # --- test helpers ---------------------------------------------------------------
    def add_model(self, name: str, **kw: Any) -> ModelSpec:
        full = parse_model_name(name) or name
        spec = ModelSpec(name=full, **kw)
        self.models[full] = spec
        return spec

    def add_pull(self, name: str, size: int = 2_019_377_376, **kw: Any) -> PullSpec:
        """A standard five-layer pull for ``name`` (see ``PullSpec.standard``)."""
        full = parse_model_name(name) or name
        spec = PullSpec.standard(full, size, **kw)
        self.pulls[full] = spec
        return spec

    def load_model(self, name: str, keep_alive: float | None = None) -> LoadedModel:
        """Mark a model as loaded, as a chat would."""
        full = parse_model_name(name) or name
        spec = lookup(self.models, full)
        entry = LoadedModel(
            name=spec.name if spec else full,
            expires_at=self._expiry(keep_alive or self.default_keep_alive),
        )
        self.loaded[entry.name] = entry
        return entry

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll ``predicate`` until true; TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(0.002)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # --- plumbing -------------------------------------------------------------------
    def _exchange_done(self, request: Request, status: int, start: float, end: float) -> None:
        if self.access_log is not None:
            self.access_log(request.method, request.path, status, end - start, request.peer)

    async def _dispatch(self, request: Request, exchange: Exchange) -> None:
        body: Any = None
        if request.body:
            with contextlib.suppress(ValueError):
                body = json.loads(request.body)
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                request.query,
                dict(request.headers),
                body,
                request.body,
                time.monotonic(),
            )
        )
        methods = self._routes.get(request.path)
        if methods is None and request.path.startswith("/api/blobs/"):
            methods = self._blob_routes
        if methods is None:
            bare = request.path.rstrip("/")
            if bare and bare != request.path and bare in self._routes:  # gin's redirect
                status = 301 if request.method == "GET" else 307
                exchange.respond(status, b"", None, {"Location": bare})
                return
            exchange.respond(404, b"404 page not found", "text/plain")
            return
        handler = methods.get(request.method)
        if handler is None:
            exchange.respond(
                405, b"405 method not allowed", "text/plain", {"Allow": ", ".join(methods)}
            )
            return
        try:
            await handler(request, exchange)
        except HttpError as err:
            refuse(exchange, err)

    @staticmethod
    def _json(exchange: Exchange, value: Any, status: int = 200) -> None:
        json_reply(exchange, value, status)

    @staticmethod
    def _decode(request: Request, struct: str, fields: dict[str, type]) -> dict[str, Any]:
        return decode_body(request, struct, fields)

    def _expiry(self, keep_alive: float) -> datetime:
        now = datetime.now(self.tz)
        if keep_alive == float("inf"):
            return now + timedelta(days=365 * 290)
        return now + timedelta(seconds=keep_alive)

    def _find(self, name: str) -> ModelSpec | None:
        spec: ModelSpec | None = lookup(self.models, name)
        return spec

    def _entry(self, spec: ModelSpec) -> dict[str, Any]:
        return {
            "name": spec.name,
            "model": spec.name,
            "modified_at": rfc3339_local(spec.modified_at, None),
            "size": spec.size,
            "digest": spec.digest,
            "details": spec.details(),
        }

    # --- routes ---------------------------------------------------------------------
    async def _root(self, request: Request, exchange: Exchange) -> None:
        exchange.respond(200, b"Ollama is running", "text/plain; charset=utf-8")

    async def _version(self, request: Request, exchange: Exchange) -> None:
        self._json(exchange, {"version": self.version})

    async def _tags(self, request: Request, exchange: Exchange) -> None:
        models = sorted(self.models.values(), key=lambda m: m.modified_at, reverse=True)
        self._json(exchange, {"models": [self._entry(m) for m in models]})

    async def _ps(self, request: Request, exchange: Exchange) -> None:
        now = datetime.now(self.tz)
        rows = []
        for name, entry in list(self.loaded.items()):
            if entry.expires_at <= now:
                self.loaded.pop(name, None)
                continue
            spec = self._find(name) or ModelSpec(name=name)
            row = {
                "name": spec.name,
                "model": spec.name,
                "size": spec.size,
                "digest": spec.digest,
                "details": spec.details(),
                "expires_at": rfc3339_local(entry.expires_at, self.tz),
                "size_vram": entry.size_vram
                if entry.size_vram is not None
                else (spec.size_vram if spec.size_vram is not None else spec.size),
                "context_length": entry.context_length or spec.context_length,
            }
            rows.append((entry.expires_at, row))
        rows.sort(key=lambda pair: pair[0], reverse=True)
        self._json(exchange, {"models": [row for _, row in rows]})

    async def _show(self, request: Request, exchange: Exchange) -> None:
        body = self._decode(request, "ShowRequest", _NAME_FIELDS)
        name = body.get("model") or body.get("name") or ""
        if not name:
            raise HttpError(400, "model is required")
        spec = self._find(name)
        if spec is None:
            raise HttpError(404, f"model '{name}' not found")
        self._json(
            exchange,
            {
                "license": spec.license,
                "modelfile": spec.modelfile,
                "parameters": spec.parameters,
                "template": spec.template,
                "details": spec.details(),
                "model_info": spec.info(),
                "capabilities": list(spec.capabilities),
                "modified_at": rfc3339_local(spec.modified_at, None),
            },
        )

    async def _delete(self, request: Request, exchange: Exchange) -> None:
        body = self._decode(request, "DeleteRequest", _NAME_FIELDS)
        name = body.get("model") or body.get("name") or ""
        if parse_model_name(name) is None:
            raise HttpError(400, f"name {json.dumps(name)} is invalid")
        spec = self._find(name)
        if spec is None:
            raise HttpError(404, f"model '{name}' not found")
        self.models.pop(spec.name, None)
        exchange.respond(200)

    async def _copy(self, request: Request, exchange: Exchange) -> None:
        body = self._decode(request, "CopyRequest", _COPY_FIELDS)
        source, destination = body.get("source") or "", body.get("destination") or ""
        if parse_model_name(source) is None:
            raise HttpError(400, f"source {json.dumps(source)} is invalid")
        full_dest = parse_model_name(destination)
        if full_dest is None:
            raise HttpError(400, f"destination {json.dumps(destination)} is invalid")
        spec = self._find(source)
        if spec is None:
            raise HttpError(404, f"model {json.dumps(source)} not found")
        self.models[full_dest] = replace(spec, name=full_dest, modified_at=datetime.now(self.tz))
        exchange.respond(200)

    async def _pull(self, request: Request, exchange: Exchange) -> None:
        body = self._decode(request, "PullRequest", _PULL_FIELDS)
        name = body.get("model") or body.get("name") or ""
        full = parse_model_name(name)
        if full is None:
            raise HttpError(400, "invalid model name")
        spec: PullSpec | None = lookup(self.pulls, full)

        def install() -> None:
            if spec is not None:
                installed = installed_model(full, spec, datetime.now(self.tz))
                self.models[installed.name] = installed

        if body.get("stream") is False:
            await pull_whole(exchange, spec, self.downloaded, install)
        else:
            await pull_streamed(
                exchange, name, spec, self.downloaded, self.streams, self.stream_listener, install
            )
