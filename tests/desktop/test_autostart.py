"""Start at login: the XDG entry (Linux), the LaunchAgent writer (macOS), and the setting."""

from __future__ import annotations

import configparser
import plistlib
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from launcher.core import autostart
from launcher.core.autostart import LaunchAgent, XdgAutostart, desktop_exec, launch_command
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control, ready
from tests.waiting import wait_until


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser["Desktop Entry"]


def test_xdg_entry_is_written_where_the_desktop_looks_and_removed(isolated_env: Path) -> None:
    entry = XdgAutostart()
    expected = isolated_env / "xdg-config" / "autostart" / "ollama-launcher.desktop"
    assert entry.path == expected
    assert not entry.enabled()
    autostart.apply(True, entry)
    assert entry.enabled() and expected.is_file()
    fields = read_entry(expected)
    assert fields["Type"] == "Application"
    assert shlex.split(fields["Exec"]) == [sys.executable, "-m", "launcher", "--minimized"]
    autostart.apply(False, entry)
    assert not expected.exists()
    autostart.apply(False, entry)  # already off: nothing to do, no error


def test_the_entry_passes_desktop_file_validate(isolated_env: Path) -> None:
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    entry = XdgAutostart()
    entry.enable(["/opt/My Apps/ollama-launcher", "--minimized"])
    proc = subprocess.run(
        ["desktop-file-validate", str(entry.path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stdout.lower()


def test_exec_quoting_follows_the_desktop_entry_spec() -> None:
    assert desktop_exec(["/usr/bin/python3", "-m", "launcher"]) == "/usr/bin/python3 -m launcher"
    assert desktop_exec(["/opt/My Apps/run"]) == '"/opt/My Apps/run"'
    assert desktop_exec(['/a"b$c']) == '"/a\\"b\\$c"'
    assert desktop_exec(["/100%/x"]) == '"/100%%/x"'


def test_launch_agent_plist_for_macos(tmp_path: Path) -> None:
    agent = LaunchAgent(tmp_path / "LaunchAgents")
    assert not agent.enabled()
    agent.enable(
        ["/Applications/Ollama Launcher.app/Contents/MacOS/ollama-launcher", "--minimized"]
    )
    assert agent.path.name == "io.github.ollama_launcher.OllamaLauncher.plist"
    plist = plistlib.loads(agent.path.read_bytes())
    assert plist["Label"] == "io.github.ollama_launcher.OllamaLauncher"
    assert plist["RunAtLoad"] is True
    assert plist["ProgramArguments"][-1] == "--minimized"
    assert plist["ProgramArguments"][0].endswith("MacOS/ollama-launcher")
    agent.disable()
    assert not agent.path.exists()


def test_one_interface_per_platform() -> None:
    assert isinstance(autostart.for_platform("linux"), XdgAutostart)
    assert isinstance(autostart.for_platform("darwin"), LaunchAgent)
    assert type(autostart.for_platform("win32")).__name__ == "RunKey"


def test_the_launch_command_starts_minimised() -> None:
    assert launch_command()[-1] == "--minimized"
    assert launch_command(minimized=False) == [sys.executable, "-m", "launcher"]


async def test_an_entry_that_cannot_be_written_is_said_in_the_status_bar(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], isolated_env: Path
) -> None:
    blocker = isolated_env / "xdg-config" / "autostart"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the autostart folder should be")
    window = await ready(make_window)
    window.open_settings()
    await wait_until(lambda: window.settings_dialog is not None, 5)
    dialog = window.settings_dialog
    assert dialog is not None
    control(dialog, "Start at login").setChecked(True)
    control(dialog, "OK").click()
    await wait_until(
        lambda: "Start at login could not be turned on" in window.statusBar().currentMessage(),
        5,
    )
    message = window.statusBar().currentMessage()
    assert "Errno" not in message and "Error:" not in message
    assert window.isEnabled()  # the app stays usable


@pytest.mark.skipif(sys.platform != "win32", reason="the Run key exists on Windows only")
def test_run_key_on_windows() -> None:  # pragma: no cover - Windows only
    key = autostart.for_platform("win32")
    was = key.enabled()
    try:
        key.enable(["C:\\Program Files\\Ollama Launcher\\ollama-launcher.exe", "--minimized"])
        assert key.enabled()
        key.disable()
        assert not key.enabled()
    finally:
        if was:
            key.enable(launch_command())
