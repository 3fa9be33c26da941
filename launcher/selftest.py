"""`--self-test`: prove an installation works, without a screen and without a server.

It imports every part, reads the shipped resources, builds the real window
offscreen against an address where nothing listens, waits for the status to
settle, shuts down in order and says what it checked. Its settings and data
go to a temporary folder, so it never touches the user's.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from launcher.preflight import Problem

MODULES = (
    "launcher.ollama",
    "launcher.core.launcher",
    "launcher.core.instance",
    "launcher.core.autostart",
    "launcher.ui.main_window",
    "launcher.ui.tray",
    "httpx",
    "qasync",
    "keyring",
)
SETTLE_SECONDS = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_test(
    out: Callable[[str], None] = print, screen_problems: list[Problem] | None = None
) -> int:
    """Run the checks; 0 when all passed, 1 otherwise (the failing check is printed).

    `screen_problems` are what the preflight found for a start on this screen: they
    are reported as notes (the self-test itself runs offscreen).
    """
    from launcher import __version__

    out(f"Ollama Launcher {__version__} self-test (Python {sys.version.split()[0]})")
    for problem in screen_problems or []:
        out(f"note a normal start here would stop: {problem.line}")
    with tempfile.TemporaryDirectory(prefix="ollama-launcher-selftest-") as home:
        os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = str(Path(home) / "config")
        os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = str(Path(home) / "data")
        os.environ["OLLAMA_HOST"] = f"127.0.0.1:{_free_port()}"  # nothing listens there
        os.environ.pop("OLLAMA_API_KEY", None)
        try:
            return _checks(out)
        except Exception as exc:  # the point is to report any failure, then exit non-zero
            from launcher.core.explain import explain

            explanation = explain(exc)
            out(f"FAILED: {explanation.headline}")
            out(f"       details: {explanation.details}")
            return 1


def _checks(out: Callable[[str], None]) -> int:
    from launcher import assets

    for name in MODULES:
        importlib.import_module(name)
    import PySide6

    out(f"ok   imports: {len(MODULES)} modules, PySide6 {PySide6.__version__}")
    for name in (assets.ICON, assets.DESKTOP_ENTRY, assets.METAINFO):
        size = len(assets.read_bytes(name))
        out(f"ok   resource launcher/data/{name} ({size} bytes)")

    from launcher.app import application

    app = application()
    icon = app.windowIcon()
    if icon.isNull() or icon.pixmap(32, 32).isNull():
        out("FAILED: the application icon does not load (is the Qt SVG plugin there?)")
        return 1
    out(f"ok   application icon loads (Qt platform: {app.platformName()})")

    from launcher.config import Settings, save_settings

    settings = Settings()
    settings.local.auto_start = False  # a self-test must never start a server
    save_settings(settings)

    from launcher.core.qtloop import run

    result: int = run(_window_check(out))
    return result


async def _window_check(out: Callable[[str], None]) -> int:
    from launcher.app import build_main_window
    from launcher.core.status import ServerState

    window = build_main_window()
    image = window.grab()  # paints every widget, offscreen, without showing the window
    tabs = ", ".join(window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count()))
    out(f"ok   main window built and painted ({image.width()}x{image.height()}): {tabs}")
    deadline = time.monotonic() + SETTLE_SECONDS
    while window.launcher.monitor.status.state is ServerState.CHECKING:
        if time.monotonic() > deadline:
            out("FAILED: the server status never left 'Checking'")
            await window.shutdown()
            return 1
        await asyncio.sleep(0.05)
    out(f"ok   status with no server: {window.launcher.monitor.status.description}")
    await window.shutdown()
    window.close()
    out("ok   orderly shutdown")
    out("self-test passed")
    return 0
