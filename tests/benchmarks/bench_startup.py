"""Benchmark of start-up: process start to the main window shown and painted, against a
bare PySide6 window started the same way; and to the launcher being usable.

Run: ``python -m tests.benchmarks -k startup``.

Each sample is a fresh interpreter (``python -c ...``) started by this module; t0 is
``time.monotonic()`` just before ``Popen``; the child prints ``time.monotonic()`` (the same
clock on Linux) once its window's first paint is done (the whole update: the event loop's
next turn after the window's first ``Paint`` event), and its CPU time
(``time.process_time()``: on a shared machine it varies much less than the wall-clock
time). The bare child shows a ``QWidget``. The launcher child starts as ``python -m
launcher`` does, through the app's own functions: the command line and preflight checks,
then ``launcher.app.start_window`` (QApplication, single-instance socket, the real main
window's shell shown and painted: what ``launcher.app.run`` calls first), with a running
fake ``ollama serve`` as its host and empty config and data folders. It then attaches the
launcher as ``_run_app`` does (``attach_launcher(deferred=True)`` on the app's event loop,
``launcher.core.qtloop``) and prints a second mark when the window is usable: chat
attached, the hidden pages built and ``launcher.start()`` run (first status poll,
conversations and downloads begun). The two kinds alternate, so a noisy moment hurts
both; the ratio of the paint medians is the figure (target <= 2.0).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from tests.benchmarks._common import median, quick
from tests.benchmarks._server import FakeOllama

TARGETS = {"start-up: launcher / bare PySide6 window (medians)": "<= 2.0"}
RUNS = 1  # alternating samples within one run; the figure is a ratio of medians

_PAINTED = textwrap.dedent(
    """
    import os, sys, time
    from PySide6.QtCore import QEvent, QObject, QTimer
    def report():
        print(f"PAINTED {time.monotonic()!r} {time.process_time()!r}", flush=True)
        os._exit(0)
    class Painted(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                QTimer.singleShot(0, report)  # after this whole paint, as the app waits
            return False
    """
)

BARE = _PAINTED + textwrap.dedent(
    """
    from PySide6.QtWidgets import QApplication, QWidget
    app = QApplication(sys.argv)
    window = QWidget()
    window.resize(1100, 720)
    painted = Painted()
    window.installEventFilter(painted)
    window.show()
    app.exec()
    """
)

# The app's own start (`python -m launcher` -> `launcher.cli.main` -> `launcher.app.run`):
# the command line and preflight checks, then `start_window`, which returns once the
# shell has painted (the moment is taken after that whole paint, not at its first Paint
# event). Then the rest as `_run_app` does it: the launcher is attached (deferred) inside
# the app's event loop; "usable" is when its pages are built and the launcher has started.
LAUNCHER = textwrap.dedent(
    """
    import os, sys, time
    from launcher import preflight
    from launcher.cli import configure_logging, parse
    options = parse([])
    configure_logging(options.verbose)
    assert not preflight.run(os.environ)
    from launcher import app
    started = app.start_window(options)
    print(f"PAINTED {time.monotonic()!r} {time.process_time()!r}", flush=True)
    import asyncio
    from launcher.core import qtloop

    async def main():
        app.attach_launcher(started.window, options.host, deferred=True)
        usable = asyncio.get_running_loop().create_future()
        started.window.pages.finished.connect(lambda: usable.set_result(None))
        await usable
        print(f"USABLE {time.monotonic()!r} {time.process_time()!r}", flush=True)
        started.instance.close()
        os._exit(0)

    qtloop.run(main())
    """
)


def sample(code: str, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """For each mark the child printed (PAINTED, USABLE): seconds from just before the
    process started, and the CPU seconds the process had used by then."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    marks: dict[str, tuple[float, float]] = {}
    for line in proc.stdout.splitlines():
        mark, _, rest = line.partition(" ")
        if mark in ("PAINTED", "USABLE"):
            at, cpu = rest.split()
            marks[mark] = (float(at) - started, float(cpu))
    if "PAINTED" not in marks:
        raise AssertionError(f"no paint reported (exit {proc.returncode}): {proc.stderr[-800:]}")
    return marks


def run() -> list[tuple[str, str]]:
    samples = 3 if quick() else 7
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp, FakeOllama({}) as server:
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        # Both start from compiled bytecode, as an installed app does (pip and the
        # bundle compile it): with PYTHONDONTWRITEBYTECODE set, every launcher module
        # would be compiled from source at every start, while PySide6's come compiled.
        # The caches go to the temporary folder (the warm-up starts write them).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(
            PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"),
            OLLAMA_HOST=server.host,
            OLLAMA_LAUNCHER_CONFIG_DIR=str(Path(tmp) / "config"),
            OLLAMA_LAUNCHER_DATA_DIR=str(Path(tmp) / "data"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")])),
        )
        sample(BARE, env)  # warm the file cache for both (imports, fonts, Qt plugins)
        sample(LAUNCHER, env)
        bare: list[float] = []
        ours: list[float] = []
        bare_cpu: list[float] = []
        ours_cpu: list[float] = []
        usable: list[float] = []
        for _ in range(samples):
            wall, cpu = sample(BARE, env)["PAINTED"]
            bare.append(wall)
            bare_cpu.append(cpu)
            marks = sample(LAUNCHER, env)
            wall, cpu = marks["PAINTED"]
            ours.append(wall)
            ours_cpu.append(cpu)
            if "USABLE" not in marks:
                raise AssertionError("the launcher child painted but never became usable")
            usable.append(marks["USABLE"][0])
    return [
        (
            "start-up: bare PySide6 window, median / worst",
            f"{median(bare) * 1000:.0f} / {max(bare) * 1000:.0f} ms ({samples} starts)",
        ),
        (
            "start-up: launcher window, median / worst",
            f"{median(ours) * 1000:.0f} / {max(ours) * 1000:.0f} ms ({samples} starts)",
        ),
        (
            "start-up: launcher / bare PySide6 window (medians)",
            f"{median(ours) / median(bare):.2f}",
        ),
        (
            "start-up: CPU to first paint, bare / launcher (medians)",
            f"{median(bare_cpu) * 1000:.0f} / {median(ours_cpu) * 1000:.0f} ms"
            f" (ratio {median(ours_cpu) / median(bare_cpu):.2f})",
        ),
        (
            "start-up: launcher window -> usable (chat attached, launcher started), median / worst",
            f"{median(usable) * 1000:.0f} / {max(usable) * 1000:.0f} ms from process start",
        ),
    ]


if __name__ == "__main__":
    for measure, value in run():
        print(f"{measure:<52} {value}")
