"""The real main window for a benchmark, built as the app builds it (not a benchmark itself).

A ``QApplication`` (offscreen platform), a qasync loop, ``build_main_window()`` inside it,
shown, with the launcher's config and data folders in a temporary directory and
``OLLAMA_HOST`` pointing at the fake ``ollama serve`` in its own process (so the server's
work does not take the GIL from the UI being measured). ``run_window`` runs one coroutine
with the window and returns its rows; the window is shut down in order afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from tests.benchmarks._server import FakeOllama

Rows = list[tuple[str, str]]
TICK_MS = 5


class TickRecorder(QObject):
    """A 5 ms precise QTimer that records when each tick ran: under qasync both asyncio
    callbacks and Qt painting run on the Qt event loop, so any stall, wherever it comes
    from, shows up as a long gap between two ticks.

    Each tick also reads the main thread's CPU clock, so a gap can be split into the
    app's own work and the time the thread did not run at all (on a virtual machine the
    hypervisor takes a virtual CPU away for 10-25 ms at times: see `stolen_ms`)."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[float] = []
        self.cpu: list[float] = []  # the main thread's CPU time at each tick
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())
        self.cpu.append(time.thread_time())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.cpu = [time.thread_time()]
        self._timer.start()

    def stop(self) -> list[float]:
        """Gaps between consecutive ticks, in seconds (the last one up to now)."""
        self._timer.stop()
        self._tick()
        return [b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False)]

    def own_work(self) -> list[float]:
        """For each gap of `stop()`, the CPU time the main thread used in it (seconds)."""
        return [b - a for a, b in zip(self.cpu, self.cpu[1:], strict=False)]


def stolen_ms() -> float | None:
    """CPU time the hypervisor took from this machine's virtual CPUs since boot (the
    `steal` column of Linux's /proc/stat, all CPUs), in ms; None where not known."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        return int(fields[8]) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def stolen_since(before: float | None, seconds: float) -> str:
    """The steal since `before` (a `stolen_ms()` reading) as a table value, over a
    stretch of `seconds`."""
    after = stolen_ms()
    if before is None or after is None:
        return "not known here"
    return f"{after - before:.0f} ms over {seconds:.1f} s"


class EnabledWatcher(QObject):
    """Records the instant a widget becomes enabled (its EnabledChange event); ``wait()``
    waits for it without polling (a poll's wake-ups would be counted as the app's CPU)."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled_at: float | None = None
        self.enabled = asyncio.Event()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            self.enabled_at is None
            and event.type() == QEvent.Type.EnabledChange
            and isinstance(watched, QWidget)
            and watched.isEnabled()
        ):
            self.enabled_at = time.perf_counter()
            self.enabled.set()
        return False

    async def wait(self, timeout: float, what: str) -> None:
        try:
            await asyncio.wait_for(self.enabled.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None


async def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


async def server_close(server: FakeOllama, timeout: float = 3.0) -> float:
    """The server's monotonic time of the client's hang-up (its event file)."""
    await wait_until(
        lambda: server.new_event("client_closed") is not None, timeout, "the server's close event"
    )
    event = server.new_event("client_closed")
    assert event is not None
    return float(event["monotonic"])


def select_model(window: Any, name: str) -> None:
    index = window.chat.model_combo.findText(name)
    if index < 0:
        raise AssertionError(f"model {name} not in the picker")
    window.chat.model_combo.setCurrentIndex(index)


def new_conversation(window: Any) -> None:
    controller = window.chat.controller
    controller.new_conversation()
    window.chat.show_conversation(controller.conversation)


def run_window(
    config: dict[str, Any],
    main: Callable[[Any, FakeOllama], Awaitable[Rows]],
    settings: dict[str, Any] | None = None,
) -> Rows:
    """Start the fake server with ``config``, build the window, run ``main(window, server)``.

    ``settings``: the launcher's settings.json (default: the runaway guard's length
    limit off, so that long benchmark replies are not cut).
    """
    with FakeOllama(config) as server:
        os.environ["OLLAMA_HOST"] = server.host
        return run_app(lambda window: main(window, server), settings)


def run_app(
    main: Callable[[Any], Awaitable[Rows]],
    settings: dict[str, Any] | None = None,
    *,
    wait_for_models: bool = True,
) -> Rows:
    """Build the window with the environment as it is (``OLLAMA_HOST``, ``PATH``) and
    fresh config/data folders; run ``main(window)`` inside the qasync loop."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from launcher.core.qtloop import QtEventLoop

    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        config_dir = Path(tmp) / "config"
        config_dir.mkdir()
        chosen = dict(settings) if settings is not None else {"guard": {"max_chars": 0}}
        # The benchmarks start the server themselves (Start server), as a measured step.
        chosen.setdefault("local", {}).setdefault("auto_start", False)
        (config_dir / "settings.json").write_text(json.dumps(chosen), encoding="utf-8")
        os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = str(config_dir)
        os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = str(Path(tmp) / "data")
        existing = QApplication.instance()
        app = existing if isinstance(existing, QApplication) else QApplication([])
        app.setQuitOnLastWindowClosed(False)  # as the app does: closing must not stop the loop
        loop = QtEventLoop(app)  # the app's loop
        asyncio.set_event_loop(loop)
        try:
            rows: Rows = loop.run_until_complete(_with_window(main, wait_for_models))
            return rows
        finally:
            loop.close()
            asyncio.set_event_loop(None)


async def _with_window(main: Callable[[Any], Awaitable[Rows]], wait_for_models: bool) -> Rows:
    from launcher.app import build_main_window
    from launcher.core.gcguard import MainThreadCollector

    window = build_main_window()
    window.show()
    # Garbage collection as the app runs it (launcher.app._run_app): on the Qt thread from
    # a timer, with start-up's objects frozen once the window is built. Python's automatic
    # collection instead ran full collections inside whatever allocated (37 ms inside a
    # paint of a reply).
    collector = MainThreadCollector(window)
    collector.start()
    collector.freeze()
    try:
        if wait_for_models:
            await wait_until(lambda: window.chat.model_combo.count() > 0, 10, "the model list")
        return await main(window)
    finally:
        collector.stop()
        await window.shutdown()
        window.close()
        window.deleteLater()
        await asyncio.sleep(0.05)
