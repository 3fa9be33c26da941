"""Start at login: one interface, written the way each desktop expects it.

Linux: an XDG autostart entry (`$XDG_CONFIG_HOME/autostart/ollama-launcher.desktop`).
macOS: a LaunchAgent property list (`~/Library/LaunchAgents/`).
Windows: a value under the user's `Run` registry key.
Every one starts the launcher minimised to the tray (`--minimized`). No Qt.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import plistlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from launcher.config import write_atomic

ENTRY_NAME = "ollama-launcher"
AGENT_LABEL = "io.github.ollama_launcher.OllamaLauncher"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Ollama Launcher"


def launch_command(minimized: bool = True) -> list[str]:
    """How to start this launcher again: the bundle's executable, or this Python
    running the package (so a venv or pipx install works without PATH)."""
    if getattr(sys, "frozen", False):
        command = [sys.executable]
    else:
        command = [sys.executable, "-m", "launcher"]
    return [*command, "--minimized"] if minimized else command


class Autostart(Protocol):
    """Start at login, whatever the platform."""

    def enabled(self) -> bool: ...

    def enable(self, command: Sequence[str]) -> None: ...

    def disable(self) -> None: ...


def desktop_exec(command: Sequence[str]) -> str:
    """An `Exec=` value: arguments quoted as the Desktop Entry spec asks."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`=%")

    def quote(arg: str) -> str:
        if arg and not reserved.intersection(arg):
            return arg
        escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
        escaped = escaped.replace("$", "\\$")
        return f'"{escaped}"'.replace("%", "%%")

    return " ".join(quote(a) for a in command)


class XdgAutostart:
    """An autostart .desktop entry (freedesktop.org Desktop Application Autostart)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        self.path = Path(base) / "autostart" / f"{ENTRY_NAME}.desktop"

    def enabled(self) -> bool:
        return self.path.is_file()

    def enable(self, command: Sequence[str]) -> None:
        text = "\n".join(
            [
                "[Desktop Entry]",
                "Type=Application",
                "Name=Ollama Launcher",
                "Comment=Start Ollama Launcher in the tray at login",
                f"Exec={desktop_exec(command)}",
                "Icon=ollama-launcher",
                "Terminal=false",
                "X-GNOME-Autostart-enabled=true",
                "",
            ]
        )
        write_atomic(self.path, text.encode("utf-8"))

    def disable(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class LaunchAgent:
    """A per-user LaunchAgent (macOS): launchd runs it at login."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or Path.home() / "Library" / "LaunchAgents"
        self.path = folder / f"{AGENT_LABEL}.plist"

    def enabled(self) -> bool:
        return self.path.is_file()

    def enable(self, command: Sequence[str]) -> None:
        plist = {
            "Label": AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }
        write_atomic(self.path, plistlib.dumps(plist))

    def disable(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _winreg() -> Any:
    """The winreg module (Windows only; typed loosely so the checks pass elsewhere)."""
    return importlib.import_module("winreg")


class RunKey:  # pragma: no cover - Windows only
    """A value under HKCU\\...\\Run (Windows)."""

    def enabled(self) -> bool:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
        except OSError:
            return False
        return True

    def enable(self, command: Sequence[str]) -> None:
        import subprocess

        winreg = _winreg()

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            value = subprocess.list2cmdline(list(command))
            winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, value)

    def disable(self) -> None:
        winreg = _winreg()

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE)
        except FileNotFoundError:
            pass


def for_platform(platform: str = sys.platform) -> Autostart:
    """The start-at-login writer for this platform."""
    if platform == "win32":
        return RunKey()
    if platform == "darwin":
        return LaunchAgent()
    return XdgAutostart()


def apply(wanted: bool, autostart: Autostart, command: Sequence[str] | None = None) -> None:
    """Make start at login match the setting (writes only what changed, apart from
    rewriting an enabled entry, so a moved installation is picked up).
    Raises OSError when the entry cannot be written."""
    if wanted:
        autostart.enable(command if command is not None else launch_command())
    elif autostart.enabled():
        autostart.disable()
