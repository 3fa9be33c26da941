"""Without a tray, notifications go to the desktop's notification service (D-Bus).

A private session bus (dbus-daemon) and a small notification service stand in
for the desktop: the test sees the real org.freedesktop.Notifications.Notify call.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from launcher.core.pullprogress import JobState
from launcher.ui import desktop_notify
from launcher.ui.main_window import MainWindow
from tests.conftest import REPO
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import ready
from tests.waiting import wait_until


@pytest.fixture
def session_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private D-Bus session bus with a notification service; yields the file where
    the service writes each notification it gets (one JSON line each)."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (Debian: dbus-daemon)")
    if desktop_notify.command("t", "b", False) is None:
        pytest.skip("neither notify-send nor gdbus is installed")
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert daemon.stdout is not None
    address = daemon.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    seen = tmp_path / "notifications.jsonl"
    service = subprocess.Popen(
        [sys.executable, "-m", "tests.desktop.fake_notifications", str(seen)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert service.stdout is not None
        assert service.stdout.readline().strip() == "ready"
        yield seen
    finally:
        for proc in (service, daemon):
            proc.terminate()
            proc.wait(10)


def received(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_without_a_tray_a_failed_download_reaches_the_notification_service(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], session_bus: Path
) -> None:
    window = await ready(make_window)
    assert not window.tray.available  # offscreen: no tray
    window.tray.desktop_notifications = True  # as on a real desktop without a tray
    job = window.launcher.downloads.pull("no-such-model")
    assert job is not None
    await wait_until(lambda: job.state is JobState.FAILED, 10)
    await wait_until(lambda: received(session_bus), 10, "no notification reached the service")
    (notification,) = received(session_bus)
    assert notification["summary"] == "Download failed"
    assert "no-such-model" in notification["body"]
    assert notification["app"] == "Ollama Launcher"


def test_the_gdbus_fallback_quotes_its_arguments() -> None:
    def only_gdbus(name: str) -> str | None:
        return "/usr/bin/gdbus" if name == "gdbus" else None

    args = desktop_notify.command("It's done", "a\\b", False, which=only_gdbus)
    assert args is not None
    assert "'It\\'s done'" in args and "'a\\\\b'" in args
    assert desktop_notify.command("t", "b", False, which=lambda _n: None) is None
