"""The fake ``ollama serve`` in its own process, for benchmarks.

Why a separate process: the in-thread ``OllamaTestServer`` shares the GIL with the code
being measured, so on a fast stream the server and the client take turns and the figure
is neither's. The fake binary (``tests/ollama_server/bin/ollama serve``) serves the same
protocol from another interpreter; ``FAKE_OLLAMA_EVENTS`` makes it append one JSON line
per stream event, whose ``monotonic`` field is the server's ``time.monotonic()`` when it
saw the client close. On Linux that clock is shared by all processes, so it can be
subtracted from the benchmark's own ``time.monotonic()``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.conftest import free_port as free_port  # the one free-port helper

FAKE_BIN = Path(__file__).resolve().parents[1] / "ollama_server" / "bin" / "ollama"


class FakeOllama:
    """``ollama serve`` (the fake binary) on a free loopback port, with a JSON config.

    Use as a context manager; ``url``, ``port`` and ``host`` tell where it listens, and
    ``events()`` / ``wait_event()`` read what it recorded.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="bench-ollama-"))
        self.events_path = self._dir / "events.jsonl"
        self.config_path = self._dir / "config.json"
        self.config_path.write_text(json.dumps(config), encoding="utf-8")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._seen = 0

    def start(self, timeout: float = 10.0) -> FakeOllama:
        env = dict(os.environ)
        env.update(
            OLLAMA_HOST=self.host,
            FAKE_OLLAMA_CONFIG=str(self.config_path),
            FAKE_OLLAMA_EVENTS=str(self.events_path),
            FAKE_OLLAMA_READY_DELAY="0",
        )
        self._proc = subprocess.Popen(
            [sys.executable, str(FAKE_BIN), "serve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"fake ollama exited with {self._proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/api/version")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("fake ollama did not answer in time")
            time.sleep(0.02)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def events(self) -> list[dict[str, Any]]:
        try:
            text = self.events_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def mark(self) -> None:
        """Forget the events so far: ``wait_event`` only looks at later ones."""
        self._seen = len(self.events())

    def new_event(self, kind: str) -> dict[str, Any] | None:
        """The first event of ``kind`` since the last ``mark()``, or None (no waiting)."""
        for event in self.events()[self._seen :]:
            if event.get("event") == kind:
                return event
        return None
