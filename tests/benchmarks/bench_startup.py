"""Benchmark of start-up: process start to the main window shown and painted, against a
bare PySide6 window started the same way.

Run: ``python -m tests.benchmarks -k startup``.

Each sample is a fresh interpreter (``python -c ...``) started by this module; t0 is
``time.monotonic()`` just before ``Popen``; the child prints ``time.monotonic()`` (the same
clock on Linux) from an event filter at the first ``Paint`` event of its window, then
quits. The launcher child builds its window exactly as ``launcher.app`` does
(``build_main_window(deferred=True)`` inside a qasync loop, then ``show()``: the pages
nobody sees at first are built after that paint), with a running fake ``ollama serve`` as
its host and empty config and data folders; the bare child shows a ``QWidget``. The two
kinds alternate, so a noisy moment hurts both; the ratio of the medians is the figure
(target <= 2.0). Each child also prints its CPU time (``time.process_time()``) at that
paint: on a shared machine it varies much less than the wall-clock time.
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
    import sys, time
    from PySide6.QtCore import QEvent, QObject
    class Painted(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                print(f"PAINTED {time.monotonic()!r} {time.process_time()!r}", flush=True)
                import os
                os._exit(0)
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

LAUNCHER = _PAINTED + textwrap.dedent(
    """
    import asyncio
    import qasync
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    painted = Painted()

    async def main():
        from launcher.app import build_main_window
        window = build_main_window(deferred=True)
        window.installEventFilter(painted)
        window.show()
        await asyncio.sleep(30)

    loop.run_until_complete(main())
    """
)


def sample(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from just before the process starts to its first window paint, and the
    CPU seconds the process had used by then."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    for line in proc.stdout.splitlines():
        if line.startswith("PAINTED "):
            _, painted, cpu = line.split()
            return float(painted) - started, float(cpu)
    raise AssertionError(f"no paint reported (exit {proc.returncode}): {proc.stderr[-800:]}")


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
        for _ in range(samples):
            for code, walls, cpus in ((BARE, bare, bare_cpu), (LAUNCHER, ours, ours_cpu)):
                wall, cpu = sample(code, env)
                walls.append(wall)
                cpus.append(cpu)
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
    ]


if __name__ == "__main__":
    for measure, value in run():
        print(f"{measure:<52} {value}")
