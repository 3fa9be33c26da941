"""Paint-first start-up, in a real `python -m launcher` process: the main window paints before
the launcher's core is imported, and that same window then works (focus, sending)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from launcher.app import StartedWindow, start_window
from launcher.cli import Options
from launcher.core.instance import Activation
from tests.conftest import REPO
from tests.desktop.processes import launcher_env
from tests.ollama_server import OllamaTestServer


def test_the_window_paints_before_the_core_loads_and_then_works(
    tmp_path: Path, ollama_server: OllamaTestServer
) -> None:
    reply = ollama_server.reply.text
    env = launcher_env(
        tmp_path, OLLAMA_HOST=f"127.0.0.1:{ollama_server.port}", STARTUP_EXPECT=reply
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tests.desktop.startup_child"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    lines = {line.split(" ", 1)[0]: line for line in out.splitlines()}
    # The first paint: the real window (its final title), nothing of the core yet.
    assert lines["FIRST-PAINT"] == "FIRST-PAINT title='Ollama Launcher' loaded=", out
    assert lines["SKELETON"] == "SKELETON attached=False status='Starting…'", out
    # Then the same window, attached: the message box has the focus, and a message
    # typed there gets the server's reply.
    assert lines["USABLE"] == "USABLE same-window=True composer-focus=True", out
    assert "Hello there" in lines["REPLY"] and reply in lines["REPLY"], out
    assert [
        r.body.get("messages", [])[-1]["content"] for r in ollama_server.requests_to("/api/chat")
    ] == ["Hello there"]
    assert lines["EXIT"] == "EXIT 0", out
    assert "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.qt_log_ignore("does not support raise")  # brought to the front, offscreen
def test_a_second_launch_while_the_shell_shows_is_kept_for_the_launcher(qtbot: Any) -> None:
    # This process is the first launcher, up to its first paint (its real start); a real
    # second `python -m launcher --host ...` asks it to come to the front meanwhile.
    started = start_window(Options())
    assert isinstance(started, StartedWindow)
    try:
        assert started.window.isVisible() and not started.window.is_attached()
        second = subprocess.Popen(
            [sys.executable, "-m", "launcher", "--host", "http://gpu-box:11434"],
            cwd=REPO,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=30_000)
        out, err = second.communicate()
        assert second.returncode == 0, out + err
        assert "already running: brought it to the front" in out
        # Kept until the launcher is attached (`_run_app` then opens that host).
        assert started.activations == [Activation("http://gpu-box:11434")]
        assert started.window.isVisible()
    finally:
        started.instance.close()
        started.window.hide()
        started.window.deleteLater()
