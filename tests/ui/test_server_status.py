"""Status indicator and server lifecycle, through the real window and real processes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QProgressBar

from launcher.config import (
    LocalServerSettings,
    RemoteHost,
    Settings,
    load_settings,
    save_settings,
)
from launcher.ui.main_window import MainWindow
from tests.conftest import free_port
from tests.ollama_server import ForeignServer, OllamaTestServer
from tests.ui.conftest import pid_alive
from tests.ui.helpers import control, status_of
from tests.waiting import wait_until

ACCESSIBLE_NAMES = [
    "Server status",
    "Start server",
    "Stop server",
    "Model",
    "Message",
    "Send",
    "Stop generating",
    "Conversation",
    "Model to pull",
    "Pull",
    "Cancel pull",
    "Download progress",
    "Delete model",
    "Server log",
    "Host",
]


async def test_every_contract_control_has_its_accessible_name(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window_on = make_window()
    for name in ACCESSIBLE_NAMES:
        control(window_on, name)
    assert isinstance(control(window_on, "Model"), QComboBox)
    assert isinstance(control(window_on, "Download progress"), QProgressBar)
    assert not window_on.isVisible()  # built, not shown


async def test_running_external_server(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window_on = make_window()
    await wait_until(lambda: status_of(window_on).startswith("Running"), 5)
    text = status_of(window_on)
    assert text.startswith("Running - Ollama 0.12.3, ") and " ms" in text
    assert "external" in control(window_on, "Server status").toolTip()
    # Not ours: it can be neither started again nor stopped.
    assert not control(window_on, "Start server").isEnabled()
    assert not control(window_on, "Stop server").isEnabled()
    # The model picker fills when the server comes up.
    await wait_until(lambda: control(window_on, "Model").count() == 1, 5)
    assert control(window_on, "Model").currentText() == "llama3.2:latest"


async def test_server_going_down_is_shown(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window_on = make_window()
    await wait_until(lambda: status_of(window_on).startswith("Running"), 5)
    await asyncio.to_thread(external.stop)
    # No binary on PATH: a local address with nothing answering and no ollama.
    await wait_until(lambda: status_of(window_on).startswith("Not installed"), 4)
    assert "ollama.com/download" in status_of(window_on)


async def test_stopped_when_binary_exists(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    assert control(window, "Start server").isEnabled()
    assert not control(window, "Stop server").isEnabled()


async def test_port_in_use_by_foreign_service(
    monkeypatch: pytest.MonkeyPatch, make_window: Callable[[], MainWindow]
) -> None:
    with ForeignServer() as foreign:
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{foreign.port}")
        window = make_window()
        await wait_until(lambda: status_of(window).startswith("Port in use"), 5)
        assert not control(window, "Start server").isEnabled()


async def test_unreachable_remote_host(make_window: Callable[[], MainWindow]) -> None:
    # A remote host profile from the settings file (loopback, so no traffic
    # leaves the machine): nothing listens there.
    settings = Settings(remotes=[RemoteHost("gpu", "GPU box", f"127.0.0.1:{free_port()}")])
    settings.selected = "gpu"
    save_settings(settings)
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Unreachable"), 5)
    assert "does not answer" in status_of(window)
    # A remote server is never started or stopped from here.
    assert not control(window, "Start server").isEnabled()
    assert not control(window, "Stop server").isEnabled()
    assert control(window, "Host").currentText() == "GPU box"


async def test_start_and_stop_our_own_server(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(ready_delay="0.5")
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Starting"), 2)
    assert not control(window, "Start server").isEnabled()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    supervisor = window.launcher.supervisor
    assert supervisor.running and supervisor.pid is not None
    pid = supervisor.pid
    assert "started by the launcher" in control(window, "Server status").toolTip()
    assert f"127.0.0.1:{fake['port']}" in window.launcher.monitor.profile.base_url
    # The child's own log lines reach the log view.
    log = control(window, "Server log")
    await wait_until(lambda: "Listening on 127.0.0.1" in log.toPlainText(), 5)
    assert control(window, "Stop server").isEnabled()
    # What the indicator said at each change (connected after it: it has updated).
    # "Stopping" can last less than a poll of the status text, so it is recorded.
    shown: list[str] = []
    window.launcher.monitor.statusChanged.connect(lambda _s: shown.append(status_of(window)))
    control(window, "Stop server").click()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 15)
    assert any(text.startswith("Stopping") for text in shown), shown
    assert supervisor.last_exit is not None and supervisor.last_exit.code == 0
    assert not pid_alive(pid)


async def test_crash_is_restarted_with_backoff_then_shown_with_exit_code_and_log(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    # Every server crashes 0.8 s after it starts: three restarts, then it stays down.
    fake_ollama(crash_after="0.8", ready_delay="0.1")
    window = make_window()
    monitor = window.launcher.monitor
    restarts: list[int] = []
    crashes: list[object] = []
    monitor.restarting.connect(lambda attempt, _exit: restarts.append(attempt))
    monitor.crashed.connect(crashes.append)
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    await wait_until(lambda: status_of(window).startswith("Restarting"), 5)
    assert status_of(window) == "Restarting after a crash (exit code 2)\u2026"
    assert not control(window, "Start server").isEnabled()
    await wait_until(lambda: status_of(window).startswith("Crashed"), 30)
    assert restarts == [1, 2, 3]
    assert len(crashes) == 1
    log = control(window, "Server log")
    await wait_until(lambda: "not restarting: too many crashes" in log.toPlainText(), 5)
    assert "restarting in 4 s (restart 3 of 3)" in log.toPlainText()
    assert "exited with code 2" in status_of(window)
    assert "panic" in control(window, "Server status").toolTip()
    assert control(window, "Start server").isEnabled()  # the user can try again
    assert not window.launcher.supervisor.running


async def test_auto_start_at_launch_only_once(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama(auto_start=True)
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    assert window.launcher.monitor.auto_started
    assert "started by the launcher" in control(window, "Server status").toolTip()
    control(window, "Stop server").click()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 15)
    polls = window.launcher.monitor.polls
    await wait_until(lambda: window.launcher.monitor.polls >= polls + 2, 10)
    assert status_of(window).startswith("Stopped")  # a Stop is respected
    assert not window.launcher.supervisor.running


async def test_port_taken_at_start_gives_the_childs_message(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama()
    # Something holds the port but never answers HTTP.
    holder = socket.socket()
    holder.bind(("127.0.0.1", fake["port"]))
    holder.listen(1)
    try:
        window = make_window()
        control(window, "Start server").setEnabled(True)
        await wait_until(lambda: window.launcher.monitor.can_start, 10)
        control(window, "Start server").click()
        await wait_until(lambda: status_of(window).startswith("Crashed"), 10)
        assert "address already in use" in status_of(window)
        assert "during start-up" in status_of(window)
    finally:
        holder.close()


async def test_missing_binary_cannot_start(
    ollama_server: OllamaTestServer,
    monkeypatch: pytest.MonkeyPatch,
    make_window: Callable[[], MainWindow],
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Not installed"), 5)
    assert not control(window, "Start server").isEnabled()


async def test_closing_the_window_stops_our_server(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    pid = window.launcher.supervisor.pid
    assert pid is not None
    window.show()
    window.close()  # the first close starts the orderly shutdown
    await wait_until(lambda: not window.isVisible(), 15)
    assert not pid_alive(pid)
    assert window.launcher.supervisor.last_exit is not None
    assert window.launcher.supervisor.last_exit.code == 0


async def test_keyboard_shortcut_starts_server(
    fake_ollama: Callable[..., dict[str, Any]],
    make_window: Callable[[], MainWindow],
    qtbot: Any,
) -> None:
    fake_ollama()
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    qtbot.keyClick(
        window,
        Qt.Key.Key_S,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    await wait_until(lambda: status_of(window).startswith("Running"), 10)


async def test_keep_in_tray_without_a_tray_still_quits_cleanly(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    """Keeping the launcher in the tray is opt-in; on a desktop with no tray (like this
    offscreen one) closing the window must still quit in order, never leave a hidden,
    unreachable launcher behind."""
    from PySide6.QtWidgets import QSystemTrayIcon

    fake_ollama()
    save_settings(Settings(keep_in_tray=True, local=LocalServerSettings(auto_start=False)))
    window = make_window()
    assert window.launcher.settings.keep_in_tray
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    pid = window.launcher.supervisor.pid
    assert pid is not None
    window.show()
    window.close()
    await wait_until(lambda: not window.isVisible() and window._shutdown_done, 15)
    assert not pid_alive(pid)
    assert not window.tray.icon.isVisible()  # no tray: the icon was never shown


async def test_tuning_reaches_the_server_and_restart_applies_a_change(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    settings = load_settings()
    settings.local.tuning = {"OLLAMA_CONTEXT_LENGTH": "8192", "OLLAMA_FLASH_ATTENTION": "1"}
    settings.local.https_proxy = "http://proxy.example:3128"
    save_settings(settings)
    window = make_window()
    log = control(window, "Server log")
    await wait_until(lambda: control(window, "Start server").isEnabled(), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    await wait_until(lambda: 'msg="server config"' in log.toPlainText(), 5)
    config = next(line for line in log.toPlainText().splitlines() if "server config" in line)
    assert "OLLAMA_CONTEXT_LENGTH:8192" in config
    assert "OLLAMA_FLASH_ATTENTION:true" in config
    assert "OLLAMA_NOPRUNE:true" in config  # on by default: partial downloads survive
    assert "HTTPS_PROXY:http://proxy.example:3128" in config
    assert "OLLAMA_HOST:http://127.0.0.1:" in config  # loopback
    first = window.launcher.supervisor.pid

    changed = load_settings()
    changed.local.tuning = {"OLLAMA_CONTEXT_LENGTH": "16384"}
    window.launcher.apply_settings(changed)
    await window.launcher.monitor.restart_server()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    assert window.launcher.supervisor.pid not in (None, first)
    assert window.launcher.supervisor.last_exit is None
    await wait_until(lambda: "OLLAMA_CONTEXT_LENGTH:16384" in log.toPlainText(), 5)
    assert first is not None and not pid_alive(first)


async def test_ensure_running_starts_the_server_and_waits_for_it(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama(ready_delay="0.3")
    window = make_window()
    await wait_until(lambda: control(window, "Start server").isEnabled(), 5)
    assert await window.launcher.monitor.ensure_running(20)
    assert status_of(window).startswith("Running")
    assert await window.launcher.monitor.ensure_running(1)  # already: at once


async def test_ensure_running_says_no_when_ollama_is_missing(
    monkeypatch: pytest.MonkeyPatch, make_window: Callable[[], MainWindow]
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Not installed"), 5)
    assert not await window.launcher.monitor.ensure_running(5)


async def test_the_log_catches_up_at_once_when_asked(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    # The file tail polls slowly while the Server log is hidden; a turn that asks the
    # log whether its prompt was cut first makes it read what the server wrote.
    fake_ollama()
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 15)
    log = window.launcher.log
    path = window.launcher.supervisor.folder / "server.log"
    line = 'time=2025-10-26T17:15:24Z level=WARN msg="truncating input prompt" limit=8'
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    log.catch_up()
    assert log.lines()[-1] == line
    control(window, "Stop server").click()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 15)
    assert log.reader is None  # nothing follows a file any more
