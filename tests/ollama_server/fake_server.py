"""The HTTP side of the fake ``ollama serve``: the test server plus what only a process logs.

Why apart from fake_cli.py (the command line and process life): the stream event file and
the truncation warning are hooks on the test server, one job. Standard library only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from .fake_logs import estimate_tokens, log_truncation
from .http11 import Request
from .server import OllamaTestServer
from .specs import StreamRecord


class EventFile:
    """Appends one JSON line per stream event (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, event: str, record: StreamRecord) -> None:
        at = record.client_closed_at if event == "client_closed" else None
        line = {
            "event": event,
            "path": record.path,
            "model": record.model,
            "pid": os.getpid(),
            "monotonic": at or time.monotonic(),
            "time": time.time(),
            "chunks_sent": record.chunks_sent,
            "chunks_after_close": record.chunks_after_close,
        }
        self.write(line)

    def write(self, line: dict[str, Any]) -> None:
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")


class FakeServer(OllamaTestServer):
    """The test server plus what only the process shows: the truncation warning in the log."""

    def __init__(self, *, context: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context

    def _warn_if_truncated(self, request: Request, key: str) -> None:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        num_ctx = options.get("num_ctx")
        limit = num_ctx if isinstance(num_ctx, int) and num_ctx > 0 else self.context
        if key == "messages":
            items = body.get("messages") if isinstance(body.get("messages"), list) else []
            texts = [str(m.get("content") or "") for m in items if isinstance(m, dict)]
        else:
            texts = [str(body.get("system") or ""), str(body.get("prompt") or "")]
        prompt = estimate_tokens(texts)
        if prompt > limit:
            log_truncation(limit, prompt)

    async def _chat(self, request: Request, exchange: Any) -> None:
        self._warn_if_truncated(request, "messages")
        await super()._chat(request, exchange)

    async def _generate(self, request: Request, exchange: Any) -> None:
        self._warn_if_truncated(request, "prompt")
        await super()._generate(request, exchange)
