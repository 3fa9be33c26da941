"""Take the Diagnostics screenshot on a real X server (display given by $DISPLAY).

    DISPLAY=:17 python -m tests.doctor_screenshot resources/screenshots/diagnostics.png

Runs the fake `ollama` (tests/ollama_server/bin) as the local server, started by
the launcher, with two GPUs; the keep-alive is changed after the start, so the
panel shows a setting that differs from the one asked for.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
GPUS = [
    {
        "name": "NVIDIA GeForce RTX 4090",
        "library": "cuda",
        "id": "GPU-5d7f3c2a-91b4-4e0f-8a77-1c0de2b4f6a9",
        "total": "23.6 GiB",
        "available": "22.9 GiB",
        "variant": "v12",
        "compute": "8.9",
        "driver": "12.8",
    },
    {
        "name": "NVIDIA GeForce GT 1030",
        "library": "cuda",
        "id": "GPU-452cac9f-6960-839c-4fb3-0cec83699196",
        "total": "3.9 GiB",
        "available": "3.9 GiB",
        "variant": "v12",
        "compute": "6.1",
        "driver": "12.8",
    },
]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def take(path: str) -> None:
    from launcher.app import build_main_window

    window = build_main_window()
    launcher = window.launcher
    settings = launcher.settings
    settings.local.tuning = {"OLLAMA_CONTEXT_LENGTH": "8192", "OLLAMA_KEEP_ALIVE": "30m"}
    launcher.apply_settings(settings)
    window.resize(1100, 760)
    window.move(20, 20)
    window.show()
    await wait_until(lambda: window.launcher.monitor.can_start, 10)
    await launcher.monitor.start_server()
    await wait_until(lambda: launcher.monitor.status.state.value == "Running", 10)
    # Changed after the start: the panel shows what differs and offers a restart.
    settings.local.tuning = {**settings.local.tuning, "OLLAMA_KEEP_ALIVE": "1h"}
    launcher.apply_settings(settings)
    offer = window.diagnostics.question
    if offer is not None:
        offer.reject()  # "Later": the offer stays on the tab
    window.tabs.setCurrentWidget(window.diagnostics)
    await wait_until(lambda: "RTX 4090" in window.diagnostics.compute.text(), 10)
    await asyncio.sleep(0.5)  # let the window manager and the paint settle before the shot
    frame = window.frameGeometry()  # the window with its frame, not the empty screen around it
    crop = f"{frame.width()}x{frame.height()}+{max(0, frame.x())}+{max(0, frame.y())}"
    shot = await asyncio.create_subprocess_exec(
        "import", "-window", "root", "-crop", crop, "+repage", path
    )
    await shot.wait()
    await window.shutdown()


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "diagnostics.png"
    home = tempfile.mkdtemp(prefix="doctor-shot-")
    config = Path(home) / "fake.json"
    config.write_text(json.dumps({"gpus": GPUS}))
    os.environ.update(
        {
            "OLLAMA_LAUNCHER_CONFIG_DIR": f"{home}/config",
            "OLLAMA_LAUNCHER_DATA_DIR": f"{home}/data",
            "OLLAMA_LAUNCHER_STATE_DIR": f"{home}/state",
            "OLLAMA_HOST": f"127.0.0.1:{_port()}",
            "FAKE_OLLAMA_CONFIG": str(config),
            "PATH": f"{ROOT / 'tests' / 'ollama_server' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        }
    )
    import qasync

    app = QApplication(sys.argv)
    app.setQuitOnLastWindowClosed(False)
    qasync.run(take(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
