"""Take the "Models you build" screenshots: the Import GGUF dialog, and the page after the import.

    Xvfb :19 -screen 0 1400x900x24 & DISPLAY=:19 openbox &
    DISPLAY=:19 python -m tests.screenshot_modelbuild resources/screenshots

The real window against the test server; pictures by ImageMagick's `import`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialogButtonBox

from tests.ollama_server import OllamaTestServer
from tests.screenshot_models import grab
from tests.waiting import wait_until

WIDTH, HEIGHT = 1400, 900


async def take(folder: Path, gguf: Path) -> None:
    from launcher.app import build_main_window

    window = build_main_window()
    window.show()
    window.setGeometry(0, 0, WIDTH, HEIGHT)
    window.tabs.setCurrentWidget(window.models)
    panel = window.models.build_panel
    await wait_until(lambda: window.models.table.rowCount() >= 2, 10)
    panel.import_button.click()
    await wait_until(lambda: panel.file_dialog is not None, 5)
    assert panel.file_dialog is not None
    panel.file_dialog.selectFile(str(gguf))
    panel.file_dialog.accept()
    await wait_until(lambda: panel.dialog is not None, 5)
    dialog = panel.dialog
    assert dialog is not None
    dialog.name.setText("my persona")
    dialog.system.setPlainText("You answer in one short paragraph.")
    dialog.parameters.setPlainText("temperature 0.4\nnum_ctx 8192")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # a bad name: says so
    await grab(folder / f"modelbuild-dialog-{WIDTH}x{HEIGHT}.png", WIDTH, HEIGHT)
    dialog.name.setText("my-persona")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    await wait_until(lambda: "is imported" in panel.message.text(), 20)
    await grab(folder / f"modelbuild-after-{WIDTH}x{HEIGHT}.png", WIDTH, HEIGHT)
    await window.shutdown()


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    gguf = work / "Phi-3-mini-4k-instruct-q4.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00" + os.urandom(3_000_000))
    server = OllamaTestServer()
    server.add_model("llama3.2", capabilities=["completion", "tools"])
    server.add_model("qwen3:8b", capabilities=["completion", "thinking"], family="qwen3")
    server.start()
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{server.port}"
    os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = tempfile.mkdtemp()
    os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = tempfile.mkdtemp()
    app = QApplication(sys.argv[:1])
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(take(folder, gguf))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
