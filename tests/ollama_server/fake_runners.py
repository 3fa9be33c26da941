"""The fake ``ollama serve``'s model runners: one child process per loaded model.

Why: the real server starts a runner per loaded model that shares its output and its
process group (``/work/shared/ollama-protocol.md``, "The process tree"); a supervisor
that only works without runners works only in tests. A runner starts on the first
chat/generate of a model, ends at keep-alive expiry, on unload (``keep_alive: 0``) and
when the server is stopped by SIGTERM/SIGINT; a crash or a SIGKILL of the server leaves
it running (each exits by itself after 600 s, so a broken test cannot leak it forever).
Standard library only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any, Protocol

from .fake_logs import log

RUNNER_CODE = """\
import signal, sys, time
def line(msg):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
    sys.stderr.write(f"time={stamp} level=INFO source=runner.go:{msg}\\n")
    sys.stderr.flush()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
line('963 msg="starting go runner"')
line(f'1002 msg="Server listening on 127.0.0.1:{sys.argv[-1]}"')
time.sleep(600)
"""


class Events(Protocol):
    def write(self, line: dict[str, Any]) -> None: ...


class Loaded(Protocol):
    """What the runners need of the test server: its loaded models and their expiry."""

    loaded: dict[str, Any]


class Runners:
    """One child process per loaded model (see the module docstring)."""

    def __init__(self, events: Events | None) -> None:
        self.events = events
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()
        self._next_port = 40000

    def __call__(self, event: str, model: str) -> None:
        """The test server's model listener: ("load" | "unload", model name)."""
        if event == "load":
            self.start(model)
        elif event == "unload":
            self.stop(model)

    def start(self, model: str) -> None:
        with self.lock:
            if model in self.procs:
                return
            port = self._next_port
            self._next_port += 1
            # Shares our stdout/stderr and our process group, as the real runner does.
            cmd = [sys.executable, "-c", RUNNER_CODE, "runner", "--ollama-engine"]
            cmd += ["--model", model, "--port", str(port)]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
            self.procs[model] = proc
        log(
            "starting runner",
            source="server.go:399",
            cmd=f"/usr/local/bin/ollama runner --ollama-engine --model {model} --port {port}",
        )
        log("llama runner started in 0.25 seconds", source="server.go:1288")
        if self.events is not None:
            self.events.write(
                {
                    "event": "runner_started",
                    "model": model,
                    "pid": proc.pid,
                    "server_pid": os.getpid(),
                    "monotonic": time.monotonic(),
                    "time": time.time(),
                }
            )

    def stop(self, model: str) -> None:
        with self.lock:
            proc = self.procs.pop(model, None)
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log("runner exited", source="sched.go:524", model=model)

    def stop_all(self) -> None:
        for model in list(self.procs):
            self.stop(model)

    def expire(self, server: Loaded, stop: threading.Event, interval: float = 0.2) -> None:
        """Unload models whose keep-alive ran out (the real scheduler's timer)."""
        while not stop.wait(interval):
            for model in list(self.procs):
                entry = server.loaded.get(model)
                expires: datetime | None = getattr(entry, "expires_at", None)
                due = expires is not None and expires <= datetime.now(expires.tzinfo)
                if entry is None or due:
                    server.loaded.pop(model, None)
                    self.stop(model)
