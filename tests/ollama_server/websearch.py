"""A stand-in for Ollama's hosted web search (`https://ollama.com/api/web_search`, `/web_fetch`).

Why: the launcher's web tools must be tested end to end without the internet and
without a real key. This server answers the two endpoints as ollama.com documents
them, demands `Authorization: Bearer <key>` (401 otherwise, as the real service),
and records every request with its headers, so a test can check what was sent,
and where the key went. It runs in a daemon thread on 127.0.0.1 and a free port;
point the launcher at it with `OLLAMA_LAUNCHER_WEB_BASE=server.url`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class WebRequest:
    """One request the stand-in received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None


@dataclass
class WebSearchServer:
    """The stand-in. Set `results`, `pages` or `status` before (or during) a test.

    Attributes:
        key: the API key it accepts.
        results: what `/api/web_search` returns (each: title, url, content).
        pages: url -> what `/api/web_fetch` returns (title, content, links).
        status: answer every request with this HTTP status instead (e.g. 500, 429).
        on_request: called with each recorded request before it is answered
            (in the server's thread), e.g. to change the Ollama test server's reply.
        requests: every request, in order.
    """

    key: str = "sk-web-test-0123456789"
    results: list[dict[str, str]] = field(
        default_factory=lambda: [
            {
                "title": "Ollama",
                "url": "https://ollama.com/",
                "content": "Get up and running with large language models.",
            },
            {
                "title": "Ollama on GitHub",
                "url": "https://github.com/ollama/ollama",
                "content": "Run Llama, Gemma, Qwen and other models locally.",
            },
        ]
    )
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: int | None = None
    on_request: Callable[[WebRequest], None] | None = None
    requests: list[WebRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> WebSearchServer:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                record = WebRequest("POST", self.path, dict(self.headers.items()), body)
                stand_in.requests.append(record)
                if stand_in.on_request is not None:
                    stand_in.on_request(record)
                status, reply = stand_in._answer(record)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(ConnectionError):  # the client stopped: as a server would
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _answer(self, request: WebRequest) -> tuple[int, dict[str, Any]]:
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {self.key}":
            return 401, {"error": "unauthorized"}
        if self.status is not None:
            return self.status, {"error": f"status {self.status}"}
        body = request.body if isinstance(request.body, dict) else {}
        if request.path == "/api/web_search":
            query = body.get("query")
            if not isinstance(query, str) or not query:
                return 400, {"error": "query is required"}
            count = body.get("max_results", 5)
            count = count if isinstance(count, int) and 1 <= count <= 10 else 5
            return 200, {"results": self.results[:count]}
        if request.path == "/api/web_fetch":
            url = body.get("url")
            if not isinstance(url, str) or not url:
                return 400, {"error": "url is required"}
            page = self.pages.get(url)
            if page is None:
                return 200, {"title": "", "content": f"Text of {url}", "links": []}
            return 200, page
        return 404, {"error": "not found"}

    def searches(self) -> list[WebRequest]:
        return [r for r in self.requests if r.path == "/api/web_search"]
