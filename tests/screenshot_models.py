"""Take the Models page screenshots (during and after a download, 1400x900 and 800x600).

    Xvfb :18 -screen 0 1400x900x24 & DISPLAY=:18 openbox &
    DISPLAY=:18 python -m tests.screenshot_models resources/screenshots

The real window against the test server; pictures by ImageMagick's `import`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.ollama_server import OllamaTestServer
from tests.waiting import wait_until

SIZES = [(1400, 900), (800, 600)]


async def grab(path: Path, width: int, height: int) -> None:
    await asyncio.sleep(0.4)  # let the last paint land before the picture
    crop = f"{width}x{height}+0+0"
    proc = await asyncio.create_subprocess_exec(
        "import", "-window", "root", "-crop", crop, "+repage", str(path)
    )
    await proc.wait()


async def take(folder: Path, server: OllamaTestServer) -> None:
    from launcher.app import build_main_window

    window = build_main_window()
    window.show()
    window.tabs.setCurrentWidget(window.models)
    await wait_until(lambda: window.models.table.rowCount() >= 4, 10)
    models = window.models
    for name in ("gemma3:1b", "qwen3:8b"):
        models.pull_name.setText(name)
        models.pull()
    jobs = window.launcher.downloads.jobs
    await wait_until(lambda: jobs[0].state.name == "DONE", 20)
    models.download_list.layers_toggle.setChecked(True)
    await wait_until(lambda: jobs[1].progress.overall > 0.35, 30)
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        await grab(folder / f"models-downloading-{width}x{height}.png", width, height)
    await wait_until(lambda: jobs[1].state.name == "DONE", 60)
    models.download_list.layers_toggle.setChecked(False)
    models.installed.table.selectRow(0)
    models.show_details()
    await wait_until(lambda: "Capabilities" in models.details.text.text(), 10)
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        await grab(folder / f"models-after-{width}x{height}.png", width, height)
    await window.shutdown()


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    server = OllamaTestServer()
    server.add_model("llama3.2", capabilities=["completion", "tools"])
    server.add_model(
        "llava", capabilities=["completion", "vision"], parameter_size="7B", size=4_700_000_000
    )
    server.add_model("deepseek-r1:7b", capabilities=["completion", "thinking"], family="qwen2")
    server.add_model("nomic-embed-text", capabilities=["embedding"], family="nomic-bert")
    server.load_model("llama3.2")
    server.add_pull("gemma3:1b", size=815_000_000, interval=0.05, bytes_per_tick=80_000_000)
    server.add_pull("qwen3:8b", size=5_225_376_047, interval=0.06, bytes_per_tick=40_000_000)
    server.start()
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{server.port}"
    os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = tempfile.mkdtemp()
    os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = tempfile.mkdtemp()
    app = QApplication(sys.argv[:1])
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(take(folder, server))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
