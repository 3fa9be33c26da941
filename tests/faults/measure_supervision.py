"""Measures what issue 7 asks for: crash -> status change, runners gone after, shutdown time.

Run: `QT_QPA_PLATFORM=offscreen python -m tests.faults.measure_supervision` (about 30 s).
Not a test: it prints numbers (timings do not belong in unit tests).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import FAKE_BIN_DIR, REPO, free_port
from tests.faults.helpers import alive, chat_once, runner_pids, server_pids, wait_for


def environment(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "FAKE_"))}
    env.update(
        OLLAMA_LAUNCHER_CONFIG_DIR=str(tmp / "config"),
        OLLAMA_LAUNCHER_DATA_DIR=str(tmp / "data"),
        OLLAMA_LAUNCHER_STATE_DIR=str(tmp / "state"),
        OLLAMA_HOST=f"127.0.0.1:{port}",
        FAKE_OLLAMA_EVENTS=str(tmp / "events.jsonl"),
        FAKE_OLLAMA_READY_DELAY="0.1",
        PATH=f"{FAKE_BIN_DIR}{os.pathsep}{os.environ['PATH']}",
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(REPO),
    )
    return env


async def crash_to_status(rounds: int = 3) -> None:
    """In-process: SIGKILL our server (with a runner) and time the status change."""
    from launcher.config import load_settings
    from launcher.core.launcher import Launcher
    from launcher.core.status import ServerState

    launcher = Launcher(load_settings())
    launcher.start()
    events = Path(os.environ["FAKE_OLLAMA_EVENTS"])
    port = int(os.environ["OLLAMA_HOST"].rpartition(":")[2])
    changes: list[tuple[float, ServerState]] = []
    launcher.monitor.statusChanged.connect(lambda s: changes.append((time.monotonic(), s.state)))

    async def until(predicate: object, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():  # type: ignore[operator]
            assert time.monotonic() < deadline
            await asyncio.sleep(0.005)

    for n in range(rounds):
        await until(lambda: launcher.monitor.status.state is ServerState.RUNNING, 30)
        await asyncio.to_thread(chat_once, port)
        await until(lambda n=n: len(runner_pids(events)) > n, 10)
        runner = runner_pids(events)[-1]
        pid = launcher.supervisor.pid
        assert pid is not None
        changes.clear()
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        await until(lambda: any(s is ServerState.RESTARTING for _, s in changes), 5)
        status_at = next(t for t, s in changes if s is ServerState.RESTARTING)
        await until(lambda r=runner: not alive(r), 5)
        runner_gone = time.monotonic()
        print(
            f"crash {n + 1}: status 'Restarting' after {(status_at - killed) * 1000:.0f} ms; "
            f"runner gone after {(runner_gone - killed) * 1000:.0f} ms"
        )
    await launcher.shutdown()


def shutdown_time(tmp: Path, label: str, **extra: str) -> None:
    port = free_port()
    env = environment(tmp, port) | extra
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        state = tmp / "state" / "server.json"
        wait_for(state.exists, 60)
        wait_for(lambda: bool(server_pids(port)), 30)
        deadline = time.monotonic() + 30
        while True:
            try:
                chat_once(port)
                break
            except Exception:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        took = time.monotonic() - sent
        left = server_pids(port) + [p for p in runner_pids(tmp / "events.jsonl") if alive(p)]
        print(f"shutdown on SIGTERM ({label}): {took:.2f} s, processes left: {len(left)}")
    finally:
        if proc.poll() is None:
            proc.kill()


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        port = free_port()
        os.environ.update(environment(tmp / "crash", port))
        import qasync
        from PySide6.QtWidgets import QApplication

        app = QApplication(sys.argv[:1])
        qasync.run(crash_to_status())
        del app
        shutdown_time(tmp / "a", "normal")
        shutdown_time(tmp / "b", "server hangs on SIGTERM", FAKE_OLLAMA_HANG_ON_STOP="1")
        keyring_settings = tmp / "c" / "config"
        keyring_settings.mkdir(parents=True)
        (keyring_settings / "settings.json").write_text(
            '{"remotes": [{"id": "gpu", "name": "GPU box", "url": "127.0.0.1:9"}]}'
        )
        shutdown_time(
            tmp / "c",
            "keyring never answers",
            PYTHON_KEYRING_BACKEND="tests.faults.hung_keyring.HungKeyring",
        )


if __name__ == "__main__":
    main()
