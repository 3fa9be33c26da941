"""Fault cases 16 and 20: a settings file with wrong types, a keyring that never answers.

The real window, the fake `ollama` binary as a real child process, a real keyring
backend that blocks; nothing of ours is patched.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from PySide6.QtCore import QTimer

from launcher.ui.main_window import MainWindow
from tests.conftest import REPO
from tests.ui import conftest as ui_fixtures
from tests.ui.helpers import control, status_of
from tests.unit.keyring_blocking import blocking_installed
from tests.waiting import wait_until

make_window = ui_fixtures.make_window
fake_ollama = ui_fixtures.fake_ollama
pid_alive = ui_fixtures.pid_alive


def _write_settings(isolated_env: Path, data: dict[str, Any]) -> None:
    folder = isolated_env / "config"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(data))


def _listening(pid: int) -> set[str]:
    """The addresses the process listens on (TCP)."""
    return {
        conn.laddr.ip
        for conn in psutil.Process(pid).net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN
    }


async def test_16_settings_with_wrong_types_keep_the_server_on_loopback(
    fake_ollama: Callable[..., dict[str, Any]],
    make_window: Callable[[], MainWindow],
    isolated_env: Path,
) -> None:
    fake = fake_ollama()
    _write_settings(
        isolated_env,
        {
            "local": {
                "allow_network": "false",
                "listen": 11434,
                "keep_running_after_quit": 1,
                "auto_start": False,  # the test clicks Start itself
            },
            "download_stall_seconds": "soon",
        },
    )
    window = make_window()
    # What the user sees: each ignored field is named in the server log.
    log = control(window, "Server log")
    await wait_until(lambda: "local.allow_network was ignored" in log.toPlainText(), 5)
    assert "local.listen was ignored" in log.toPlainText()
    assert "download_stall_seconds was ignored" in log.toPlainText()
    assert "Error" not in log.toPlainText()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    pid = window.launcher.supervisor.pid
    assert pid is not None
    # The child was told loopback, and listens on loopback only.
    assert psutil.Process(pid).environ()["OLLAMA_HOST"] == f"127.0.0.1:{fake['port']}"
    assert _listening(pid) == {"127.0.0.1"}
    # keep_running_after_quit=1 was not taken as "on": quitting stops our server.
    await window.shutdown()
    await wait_until(lambda: not pid_alive(pid), 10)


async def test_20_a_keyring_that_never_answers_leaves_the_window_usable_and_quit_quick(
    make_window: Callable[[], MainWindow], isolated_env: Path
) -> None:
    _write_settings(
        isolated_env,
        {"remotes": [{"id": "gpu", "name": "GPU box", "url": "http://gpu.invalid:11434"}]},
    )
    with blocking_installed() as backend:
        window = make_window()
        await wait_until(lambda: backend.calls == 1, 5)  # the key read is stuck now
        # The window stays responsive: Qt timers fire, controls answer.
        fired: list[bool] = []
        QTimer.singleShot(0, lambda: fired.append(True))
        await wait_until(lambda: fired == [True], 2)
        host = control(window, "Host")
        host.setCurrentIndex(0)
        assert host.currentText() == "This computer"
        # Quit: never waits for the stuck keyring.
        started = time.monotonic()
        await asyncio.wait_for(window.shutdown(), 10)
        took = time.monotonic() - started
        print(f"\nshutdown with a hung keyring: {took:.2f} s")
        assert backend.calls == 1  # no pile of stuck calls


def test_20_the_app_quits_on_sigterm_while_the_keyring_hangs(isolated_env: Path) -> None:
    """The real app as a process: a keyring thread stuck for ever must not keep it alive."""
    _write_settings(
        isolated_env,
        {"remotes": [{"id": "gpu", "name": "GPU box", "url": "http://gpu.invalid:11434"}]},
    )
    mark = isolated_env / "keyring-calls"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "tests.unit.keyring_blocking.BlockingKeyring",
        "BLOCKING_KEYRING_MARK": str(mark),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not mark.exists():  # poll with a deadline: the key read is stuck once it exists
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the launcher never asked the keyring"
            time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
        took = time.monotonic() - started
        print(f"\nSIGTERM to exit with a hung keyring: {took:.2f} s (exit code {code})")
        assert code == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
