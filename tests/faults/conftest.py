"""Fixtures for fault injection: a real launcher process, and the window fixtures of tests/ui."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from launcher.core import ownership
from tests.conftest import FAKE_BIN_DIR, REPO, free_port
from tests.faults.helpers import runner_pids, server_pids


class LauncherProcess:
    """`python -m launcher` in a child process, sharing the test's isolated folders."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, events: Path, out: Path) -> None:
        self.proc, self.port, self.events, self.out = proc, port, events, out

    def record(self) -> ownership.ServerRecord | None:
        return ownership.load_record()

    def output(self) -> str:
        return self.out.read_text(errors="replace")


@pytest.fixture
def launcher_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., LauncherProcess]]:
    """Start real launcher processes with the fake `ollama` on PATH on a free port; its
    auto-start brings the server up. Everything left is killed at the end."""
    started: list[LauncherProcess] = []
    port = free_port()
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv("PATH", f"{FAKE_BIN_DIR}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    monkeypatch.setenv("FAKE_OLLAMA_EVENTS", str(events))
    monkeypatch.setenv("FAKE_OLLAMA_READY_DELAY", "0.1")

    def start(**env: str) -> LauncherProcess:
        child_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **env)
        child_env["PYTHONPATH"] = str(REPO)
        out = tmp_path / f"launcher-{len(started)}.log"
        with out.open("wb") as handle:
            proc = subprocess.Popen(
                [sys.executable, "-m", "launcher"],
                cwd=REPO,
                env=child_env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        launched = LauncherProcess(proc, port, events, out)
        started.append(launched)
        return launched

    yield start
    for launched in started:
        if launched.proc.poll() is None:
            launched.proc.kill()
            launched.proc.wait()
    for pid in server_pids(port) + runner_pids(events):
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            group = os.getpgid(pid)
            if group != os.getpgid(0):  # never our own group (a reused pid)
                os.killpg(group, signal.SIGKILL)


# The window fixtures, shared with tests/ui.
from tests.ui.conftest import fake_ollama, make_window  # noqa: E402, F401
