"""Fixtures that build the real main window inside a running qasync loop."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from launcher.app import build_main_window
from launcher.config import load_settings, save_settings
from launcher.ui.main_window import MainWindow
from tests.conftest import FAKE_BIN_DIR, free_port
from tests.ollama_server import OllamaTestServer


@pytest.fixture
def make_window(qloop: Any, qrun: Any) -> Iterator[Callable[[], MainWindow]]:
    """Build main windows the way the app does, inside the test's running loop;
    shut each down in order afterwards (inside the loop too, and drained, so
    no asyncio callback is left for Qt to run outside it)."""
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        assert qloop.is_running(), "build windows inside an async test"
        window = build_main_window()
        windows.append(window)
        return window

    yield make

    async def close_all() -> None:
        for window in windows:
            await window.shutdown()
            window.close()
            window.deleteLater()
        await drain()

    qrun(close_all())
    windows.clear()
    # Their cycles are collected on this (the GUI) thread by the qloop and
    # collect_on_main_thread fixtures: automatic collection is off during a test.


async def drain(timeout: float = 3.0) -> None:
    """Let the tasks and callbacks left by cancelled work finish inside the loop."""
    current = asyncio.current_task()
    deadline = time.monotonic() + timeout

    def leftover(task: asyncio.Task[Any]) -> bool:
        # The run's own `asyncio.wait_for` wrapper is waiting for us: not left over.
        name = getattr(task.get_coro(), "__qualname__", "")
        return task is not current and not task.done() and name != "wait_for"

    while time.monotonic() < deadline:
        if not [t for t in asyncio.all_tasks() if leftover(t)]:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.02)


@pytest.fixture
def external(ollama_server: OllamaTestServer, monkeypatch: pytest.MonkeyPatch) -> OllamaTestServer:
    """The in-thread test server as the configured host (a server the launcher did not start)."""
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{ollama_server.port}")
    return ollama_server


@pytest.fixture
def fake_ollama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Put the fake `ollama` binary on PATH, with OLLAMA_HOST on a free port.

    Returns a function taking FAKE_OLLAMA_* settings (and an optional JSON config).
    The launcher's auto-start is turned off in the settings file unless
    `auto_start=True`, so that tests see "Stopped" and click Start themselves.
    """

    def configure(
        config: dict[str, Any] | None = None, *, auto_start: bool = False, **env: str
    ) -> dict[str, Any]:
        settings = load_settings()
        settings.local.auto_start = auto_start
        save_settings(settings)
        port = free_port()
        monkeypatch.setenv("PATH", f"{FAKE_BIN_DIR}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
        events = tmp_path / "events.jsonl"
        monkeypatch.setenv("FAKE_OLLAMA_EVENTS", str(events))
        monkeypatch.setenv("FAKE_OLLAMA_READY_DELAY", env.pop("ready_delay", "0.3"))
        if config is not None:
            path = tmp_path / "fake-config.json"
            path.write_text(json.dumps(config))
            monkeypatch.setenv("FAKE_OLLAMA_CONFIG", str(path))
        for key, value in env.items():
            monkeypatch.setenv(f"FAKE_OLLAMA_{key.upper()}", value)
        return {"port": port, "url": f"http://127.0.0.1:{port}", "events": events}

    return configure


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes; reaped children raise above.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False
