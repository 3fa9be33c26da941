"""The tray: status colour, the menu's commands, download lines, notifications, settings.

Offscreen there is no system tray, so the icon is never shown; the menu, its
actions and the notifications are the same objects the Xvfb smoke test clicks
on a real tray (see tests/desktop/smoke.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QCheckBox

from launcher.config import Settings, save_settings
from launcher.core.notify import Notice
from launcher.core.pullprogress import JobState
from launcher.core.status import ServerState
from launcher.ui.main_window import MainWindow
from launcher.ui.status import COLOURS
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control, ready, reply_finished, status_of, type_and_send
from tests.waiting import wait_until


def notices(window: MainWindow) -> list[Notice]:
    shown: list[Notice] = []
    window.tray.notified.connect(shown.append)
    return shown


def menu_texts(window: MainWindow) -> list[str]:
    return [a.text() for a in window.tray.menu.actions() if a.isVisible() and a.text()]


async def test_menu_starts_and_stops_the_server_and_the_colour_follows(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    save_settings(Settings())  # defaults; auto-start is the supervisor's business
    window = make_window()
    tray = window.tray
    assert tray.menu.accessibleName() == "Tray menu"
    assert menu_texts(window) == [
        "&Open Ollama Launcher",
        "&Start server",
        "S&top server",
        "&Quit",
    ]
    await wait_until(
        lambda: status_of(window).startswith(("Stopped", "Running")), 10, "status settled"
    )
    if status_of(window).startswith("Running"):  # auto-started: stop it from the tray first
        await wait_until(lambda: tray.stop_action.isEnabled(), 5)
        tray.stop_action.trigger()
        await wait_until(lambda: status_of(window).startswith("Stopped"), 15)
    stopped_colour = tray.colour
    assert stopped_colour == COLOURS[ServerState.STOPPED]
    assert tray.start_action.isEnabled() and not tray.stop_action.isEnabled()
    stopped_key = tray.icon.icon().cacheKey()

    tray.start_action.trigger()
    await wait_until(lambda: status_of(window).startswith("Running"), 15)
    assert tray.colour == COLOURS[ServerState.RUNNING]
    assert tray.icon.icon().cacheKey() != stopped_key
    assert "Running" in tray.icon.toolTip()
    assert tray.stop_action.isEnabled() and not tray.start_action.isEnabled()

    tray.stop_action.trigger()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 15)
    assert tray.colour == stopped_colour


async def test_a_remote_host_has_no_start_or_stop_in_the_menu(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    # An OLLAMA_HOST that is not loopback is remote: the launcher never runs a server for it.
    window = await ready(make_window)
    await wait_until(lambda: window.tray.colour == COLOURS[ServerState.RUNNING], 5)
    window.launcher.open_host("http://192.0.2.1:11434")  # TEST-NET: nothing answers
    assert not window.tray.start_action.isVisible()
    assert not window.tray.stop_action.isVisible()
    assert window.launcher.profile.base_url == "http://192.0.2.1:11434"


async def test_a_line_per_running_download_then_a_notice(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("mistral", size=200_000_000, interval=0.03)
    window = await ready(make_window)
    shown = notices(window)
    job = window.launcher.downloads.pull("mistral")
    assert job is not None
    await wait_until(lambda: job.progress.total > 0, 10)
    await wait_until(lambda: any(t.endswith("%") for t in window.tray.download_lines), 5)
    assert [t for t in menu_texts(window) if t.startswith("mistral")] == window.tray.download_lines
    await wait_until(lambda: job.state is JobState.DONE, 30)
    await wait_until(lambda: not window.tray.download_lines, 5)
    assert not any(t.startswith("mistral") for t in menu_texts(window))
    # The job turns DONE (its line goes) a moment before it emits `finished`.
    await wait_until(lambda: bool(shown), 5, "the download notice")
    assert [(n.kind, n.title) for n in shown] == [("downloads", "Download finished")]
    assert "mistral" in shown[0].body


async def test_a_failed_download_says_so_and_the_setting_turns_it_off(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    shown = notices(window)
    job = window.launcher.downloads.pull("no-such-model")
    assert job is not None
    await wait_until(lambda: job.state is JobState.FAILED, 10)
    await wait_until(lambda: len(shown) == 1, 5)
    assert shown[0].title == "Download failed" and shown[0].warning
    assert "no-such-model" in shown[0].body and "Models tab" in shown[0].body

    window.launcher.settings.notifications["downloads"] = False
    again = window.launcher.downloads.pull("no-such-model")
    assert again is not None
    await wait_until(lambda: again.state is JobState.FAILED, 10)
    await wait_until(lambda: window.launcher.downloads.current is None, 5)
    assert len(shown) == 1


async def test_a_crash_of_our_server_is_notified(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama(crash_after="1.0")
    settings = Settings()
    settings.local.auto_start = False
    save_settings(settings)
    window = make_window()
    shown = notices(window)
    await wait_until(lambda: control(window, "Start server").isEnabled(), 10)
    window.tray.start_action.trigger()
    await wait_until(lambda: any(n.kind == "server" for n in shown), 20)
    notice = next(n for n in shown if n.kind == "server")
    assert notice.warning
    assert "code 2" in notice.body or "attempt" in notice.body
    assert "Errno" not in notice.body


async def test_a_long_reply_nobody_watched_is_notified_unless_turned_off(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)  # never shown, so never the active window
    shown = notices(window)
    window.tray.long_reply_seconds = 0.0  # every reply counts as long here
    type_and_send(window, "Hello")
    await reply_finished(window)
    await wait_until(lambda: len(shown) == 1, 5)
    assert (shown[0].kind, shown[0].title) == ("replies", "Reply ready")
    assert "llama3.2" in shown[0].body

    window.launcher.settings.notifications["replies"] = False
    type_and_send(window, "Again")
    await reply_finished(window)
    assert len(shown) == 1

    window.launcher.settings.notifications["replies"] = True
    window.tray.long_reply_seconds = 3600.0  # a short reply: no notice
    type_and_send(window, "Short")
    await reply_finished(window)
    assert len(shown) == 1


async def test_settings_turn_start_at_login_and_notifications_on_and_off(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], isolated_env: Path
) -> None:
    entry = isolated_env / "xdg-config" / "autostart" / "ollama-launcher.desktop"
    window = await ready(make_window)
    window.open_settings()
    await wait_until(lambda: window.settings_dialog is not None, 5)
    dialog = window.settings_dialog
    assert dialog is not None
    box: QCheckBox = control(dialog, "Start at login")
    assert not box.isChecked()
    box.setChecked(True)
    control(dialog, "Notify downloads").setChecked(False)
    control(dialog, "OK").click()
    await wait_until(entry.is_file, 5, "autostart entry written")
    assert "--minimized" in entry.read_text()
    assert window.launcher.settings.notifications["downloads"] is False
    assert window.launcher.settings.start_at_login

    await wait_until(lambda: window.settings_dialog is None, 5)
    window.open_settings()
    await wait_until(lambda: window.settings_dialog is not None, 5)
    dialog = window.settings_dialog
    assert dialog is not None
    assert control(dialog, "Start at login").isChecked()
    assert not control(dialog, "Notify downloads").isChecked()
    control(dialog, "Start at login").setChecked(False)
    control(dialog, "OK").click()
    await wait_until(lambda: not entry.exists(), 5, "autostart entry removed")


async def test_a_paused_download_leaves_the_menu_and_comes_back_when_resumed(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("big", size=4_000_000_000, interval=0.02)
    window = await ready(make_window)
    shown = notices(window)
    downloads = window.launcher.downloads
    job = downloads.pull("big")
    assert job is not None
    await wait_until(lambda: any(t.endswith("%") for t in window.tray.download_lines), 10)
    downloads.pause(job)
    await wait_until(lambda: job.state is JobState.PAUSED, 10)
    await wait_until(lambda: not window.tray.download_lines, 5)
    downloads.resume(job)
    await wait_until(lambda: len(window.tray.download_lines) == 1, 5)
    downloads.cancel(job)
    await wait_until(lambda: job.state is JobState.CANCELLED, 10)
    await wait_until(lambda: not window.tray.download_lines, 5)
    assert shown == []  # pausing and cancelling are the user's own doing: no notice
