"""Benchmark of the quiet times and the status light: idle cost, and how fast the status
follows the server.

Run: ``python -m tests.benchmarks -k idle``.

* Idle: the real window (``_window.run_app``) whose local server it started itself (the
  fake ``ollama`` binary on ``PATH``, ``OLLAMA_HOST`` on a free port), running, with
  nothing to do, for 60 s (``--quick``: 12 s): the process's CPU time over the whole
  stretch as a share of one core (the issue's figure), and per slice of 6 s (median and
  worst slice: a slice holds one status poll or two, every 10 s), and wake-ups per
  second (the process's voluntary context switches, all threads, from ``psutil``: each
  is a thread going to sleep after being woken), plus the status polls made.
* Status: ``Start server`` is clicked; a thread polls the server's port (a raw
  ``HEAD /`` every 2 ms, off the event loop) and records when it first answers; the
  monitor's ``statusChanged`` records when the status became Running. Then the server
  process is killed (SIGKILL) and ``statusChanged`` records when the status left Running.
  Both from ``time.monotonic()``; several cycles, median and worst.
* External server: ``ollama serve`` (the fake) started outside the launcher, on the
  same address; the status shows it Running (external); right after a status poll (the
  worst moment for a poller) its process group is killed (SIGKILL) and
  ``statusChanged`` records when the status left Running. Several cycles.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from tests.benchmarks._common import median, quick
from tests.benchmarks._server import free_port
from tests.benchmarks._window import Rows, run_app, wait_until

RUNS = 1  # one long quiet stretch cut into slices; several start/kill cycles
FAKE_BIN_DIR = Path(__file__).resolve().parents[1] / "ollama_server" / "bin"

TARGETS: dict[str, str] = {
    "idle: CPU over the whole stretch": "<= 0.3",
    "idle: CPU, median slice": "<= 0.3",
    "idle: CPU, worst slice": "<= 0.3",
    "status: server killed -> indicator changed, worst": "<= 2000",
    "status: external server killed -> indicator changed, worst": "<= 2000",
    "status: port answering -> Running after Start, median": "<= 200",
    "status: port answering -> Running after Start, worst": "<= 200",
}


class PortWatch(threading.Thread):
    """Polls ``HEAD /`` on a port every 2 ms until it answers 200; records when."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.answered_at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if sock.recv(64).startswith(b"HTTP/1.1 200"):
                        self.answered_at = time.monotonic()
                        return
            except OSError:
                pass
            time.sleep(0.002)


def _state(window: Any) -> str:
    return str(window.launcher.monitor.status.state.name)


async def status_cycles(window: Any, port: int, cycles: int) -> Rows:
    monitor = window.launcher.monitor
    changes: list[tuple[float, str]] = []
    monitor.statusChanged.connect(
        lambda status: changes.append((time.monotonic(), status.state.name))
    )
    to_running: list[float] = []
    to_down: list[float] = []
    for _ in range(cycles):
        await wait_until(lambda: not window.launcher.supervisor.running, 15, "the server gone")
        watch = PortWatch(port)
        watch.start()
        changes.clear()
        button = _button(window, "Start server")
        await wait_until(button.isEnabled, 15, "Start server enabled")
        button.click()
        await wait_until(lambda: _state(window) == "RUNNING", 15, "Running")
        watch.stop.set()
        watch.join(2)
        running_at = next(t for t, state in changes if state == "RUNNING")
        if watch.answered_at is None:
            raise AssertionError("the port watcher never saw the server answer")
        to_running.append(running_at - watch.answered_at)
        pid = window.launcher.supervisor.pid
        assert pid is not None
        changes.clear()
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        await wait_until(lambda: any(s != "RUNNING" for _, s in changes), 10, "the status change")
        to_down.append(next(t for t, s in changes if s != "RUNNING") - killed)
        # The crash is restarted by itself after 1 s: Stop cancels that, for the next cycle.
        await monitor.stop_server()
    return [
        (
            "status: server killed -> indicator changed, median",
            f"{median(to_down) * 1000:.0f} ms ({cycles} kills)",
        ),
        ("status: server killed -> indicator changed, worst", f"{max(to_down) * 1000:.0f} ms"),
        (
            "status: port answering -> Running after Start, median",
            f"{median(to_running) * 1000:.0f} ms ({cycles} starts)",
        ),
        (
            "status: port answering -> Running after Start, worst",
            f"{max(to_running) * 1000:.0f} ms",
        ),
    ]


def _serve_outside() -> subprocess.Popen[bytes]:
    """`ollama serve` (the fake) started as a user would in a terminal."""
    return subprocess.Popen(
        [str(FAKE_BIN_DIR / "ollama"), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def external_kills(window: Any, cycles: int) -> Rows:
    """A server started outside the launcher, killed just after a poll, several times."""
    monitor = window.launcher.monitor
    changes: list[tuple[float, str]] = []
    monitor.statusChanged.connect(
        lambda status: changes.append((time.monotonic(), status.state.name))
    )
    to_down: list[float] = []
    for _ in range(cycles):
        server = _serve_outside()
        try:
            await wait_until(
                lambda: _state(window) == "RUNNING" and monitor.status.external, 15, "external"
            )
            polls = monitor.polls
            monitor.wake()
            await wait_until(lambda polls=polls: monitor.polls > polls, 5, "a poll")
            changes.clear()
            killed = time.monotonic()
            os.killpg(server.pid, signal.SIGKILL)
            await wait_until(lambda: any(s != "RUNNING" for _, s in changes), 10, "the change")
            to_down.append(next(t for t, s in changes if s != "RUNNING") - killed)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
    return [
        (
            "status: external server killed -> indicator changed, median",
            f"{median(to_down) * 1000:.0f} ms ({cycles} kills, each just after a poll)",
        ),
        (
            "status: external server killed -> indicator changed, worst",
            f"{max(to_down) * 1000:.0f} ms",
        ),
    ]


def _button(window: Any, name: str) -> Any:
    from PySide6.QtWidgets import QAbstractButton

    for button in window.findChildren(QAbstractButton):
        if button.accessibleName() == name:
            return button
    raise AssertionError(f"no button named {name!r}")


async def idle(window: Any, seconds: float, slice_seconds: float) -> Rows:
    await wait_until(lambda: _state(window) == "RUNNING", 15, "Running before idling")
    await asyncio.sleep(2.0)  # settle: the model list, the first polls
    process = psutil.Process()
    monitor = window.launcher.monitor
    polls = monitor.polls
    shares: list[float] = []
    switches = process.num_ctx_switches().voluntary
    started, cpu_started = time.monotonic(), time.process_time()
    while time.monotonic() - started < seconds - 1e-3:
        cpu, t0 = time.process_time(), time.monotonic()
        await asyncio.sleep(slice_seconds)  # the thing measured: nothing happening
        shares.append((time.process_time() - cpu) / (time.monotonic() - t0) * 100)
    elapsed = time.monotonic() - started
    whole = (time.process_time() - cpu_started) / elapsed * 100
    wakeups = (process.num_ctx_switches().voluntary - switches) / elapsed
    return [
        ("idle: CPU over the whole stretch", f"{whole:.3f} % of one core ({elapsed:.0f} s)"),
        (
            "idle: CPU, median slice",
            f"{median(shares):.3f} % of one core ({len(shares)} slices of {slice_seconds:.0f} s)",
        ),
        ("idle: CPU, worst slice", f"{max(shares):.3f} %"),
        ("idle: wake-ups per second (all threads)", f"{wakeups:.1f}"),
        ("idle: status polls", f"{monitor.polls - polls} in {elapsed:.0f} s"),
    ]


async def _main(window: Any, port: int) -> Rows:
    from launcher.core.gcguard import MainThreadCollector

    # As the app runs (`launcher.app._run_app`): garbage is collected from a timer on
    # the Qt thread, and that timer is part of the idle cost.
    collector = MainThreadCollector(window)
    collector.start()
    try:
        rows = await status_cycles(window, port, 3 if quick() else 5)
        rows += await external_kills(window, 3 if quick() else 5)
        await wait_until(_button(window, "Start server").isEnabled, 15, "Start server enabled")
        _button(window, "Start server").click()
        rows += await idle(window, 12.0 if quick() else 60.0, 6.0)
    finally:
        collector.stop()
    return rows


def run() -> Rows:
    port = free_port()
    os.environ["PATH"] = f"{FAKE_BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{port}"
    os.environ["FAKE_OLLAMA_READY_DELAY"] = "0.3"
    return run_app(lambda window: _main(window, port), wait_for_models=False)


if __name__ == "__main__":
    for measure, value in run():
        print(f"{measure:<52} {value}")
