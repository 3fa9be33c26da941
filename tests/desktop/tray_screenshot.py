"""Take the README's tray menu picture: the real tray icon and menu on an X server with a tray.

    Xvfb :16 & DISPLAY=:16 openbox & DISPLAY=:16 trayer --edge top --align right &
    DISPLAY=:16 python -m tests.desktop.tray_screenshot resources/tray-menu.png

The fake `ollama serve` runs (started from the tray: green dot) and a download is in
progress when the menu is captured.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint

from tests.conftest import FAKE_BIN_DIR, free_port
from tests.waiting import wait_until


async def take(path: str) -> None:
    from launcher.app import application, build_main_window

    application()
    window = build_main_window()
    window.show()
    tray = window.tray
    assert tray.available, "no system tray on this display: start trayer first"
    await wait_until(lambda: tray.start_action.isEnabled(), 10)
    tray.start_action.trigger()  # the fake `ollama serve`, started from the tray
    await wait_until(lambda: window.chat.model_combo.count() > 0, 15)
    window.launcher.downloads.pull("qwen3:8b")
    await wait_until(lambda: any(t.endswith("%") for t in tray.download_lines), 10)
    await wait_until(lambda: not tray.icon.geometry().isEmpty(), 10)
    window.hide()
    where = tray.icon.geometry()
    tray.menu.popup(QPoint(where.left() - 150, where.bottom() + 4))
    await asyncio.sleep(0.5)  # let the menu paint before the picture
    menu = tray.menu.geometry()
    left = max(0, menu.left() - 30)
    crop = f"{where.right() + 8 - left}x{menu.bottom() + 30}+{left}+0"
    grab = await asyncio.create_subprocess_exec("import", "-window", "root", "-crop", crop, path)
    await grab.wait()
    tray.menu.hide()
    await window.shutdown()


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "tray-menu.png"
    home = Path(tempfile.mkdtemp())
    config = home / "fake-ollama.json"
    pull = {"size": 5_225_376_047, "interval": 0.1, "bytes_per_tick": 30_000_000}
    config.write_text(json.dumps({"pulls": {"qwen3:8b": pull}}))
    os.environ["FAKE_OLLAMA_CONFIG"] = str(config)
    os.environ["PATH"] = f"{FAKE_BIN_DIR}{os.pathsep}{os.environ['PATH']}"
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"
    os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = str(home / "config")
    os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = str(home / "data")
    os.environ["XDG_RUNTIME_DIR"] = str(home)
    (home / "config").mkdir()
    (home / "config" / "settings.json").write_text('{"local": {"auto_start": false}}')
    import qasync

    qasync.run(take(path))


if __name__ == "__main__":
    main()
