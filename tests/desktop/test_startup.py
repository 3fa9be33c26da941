"""Paint-first start-up, in a real `python -m launcher` process: the main window paints before
the launcher's core is imported, and that same window then works (focus, sending)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
