"""The settings dialog through the real window: round trip to disk, network warning,
address checks, and API keys with and without a system keyring."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QListWidget,
    QTableWidget,
    QWidget,
)

from launcher.config import settings_path
from launcher.secrets import SERVICE, SecretStore
from launcher.ui.main_window import MainWindow
from launcher.ui.settings_pages import SESSION_ONLY_NOTE
from tests.conftest import free_port
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control, status_of
from tests.ui.settings_helpers import (
    add_remote,
    choose_host,
    open_settings,
    press_ok,
    type_into,
)
from tests.unit.keyring_backends import MemoryKeyring, installed
from tests.waiting import wait_until

KEY = "sk-dialog-5e0b9c1d77"


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed(MemoryKeyring()) as backend:
        assert isinstance(backend, MemoryKeyring)
        yield backend


@pytest.fixture
def other_server() -> Iterator[OllamaTestServer]:
    """A second Ollama (another version, another model), to be added as a remote host."""
    server = OllamaTestServer(version="0.13.0")
    server.add_model("qwen3")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def saved() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(settings_path().read_text())
    return data


async def test_settings_round_trip_through_the_dialog(
    external: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    memory_keyring: MemoryKeyring,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    assert f"OLLAMA_HOST=127.0.0.1:{external.port}" in control(dialog, "Listen address note").text()
    type_into(qtbot, control(dialog, "Listen address"), "127.0.0.1:23456")
    type_into(qtbot, control(dialog, "Models folder"), str(tmp_path / "models"))
    control(dialog, "Add variable").click()
    table = control(dialog, "Environment variables")
    table.item(0, 0).setText("OLLAMA_KEEP_ALIVE")
    table.item(0, 1).setText("1h")
    control(dialog, "Keep the server running after quit").click()
    type_into(qtbot, control(dialog, "Ollama binary"), "/opt/ollama/bin/ollama")
    add_remote(qtbot, dialog, "GPU box", "gpu.invalid:8080", KEY)
    dialog.tabs.setCurrentWidget(dialog.guard_page)
    control(dialog, "Length limit").setValue(5000)
    control(dialog, "Long span repeats").setValue(4)
    await press_ok(window, dialog)

    data = saved()
    assert data["local"]["listen"] == "127.0.0.1:23456"
    assert data["local"]["models_dir"] == str(tmp_path / "models")
    assert data["local"]["extra_env"] == {"OLLAMA_KEEP_ALIVE": "1h"}
    assert data["local"]["keep_running_after_quit"] is True
    assert data["local"]["binary"] == "/opt/ollama/bin/ollama"
    assert data["guard"]["max_chars"] == 5000
    assert data["guard"]["min_repeats_long"] == 4
    assert data["guard"]["enabled"] is True
    [remote] = data["remotes"]
    assert remote["name"] == "GPU box" and remote["url"] == "gpu.invalid:8080"
    assert KEY not in settings_path().read_text()
    assert memory_keyring.secrets == {(SERVICE, remote["id"]): KEY}
    assert control(window, "Host").findText("GPU box") >= 0  # the switcher has it at once
    assert window.launcher.guard_settings().max_chars == 5000

    await window.shutdown()
    again = make_window()
    dialog = await open_settings(again)
    assert control(dialog, "Listen address").text() == "127.0.0.1:23456"
    assert control(dialog, "Models folder").text() == str(tmp_path / "models")
    table = control(dialog, "Environment variables")
    assert (table.item(0, 0).text(), table.item(0, 1).text()) == ("OLLAMA_KEEP_ALIVE", "1h")
    assert control(dialog, "Keep the server running after quit").isChecked()
    assert control(dialog, "Ollama binary").text() == "/opt/ollama/bin/ollama"
    assert control(dialog, "Remote hosts").count() == 1
    assert control(dialog, "Host name").text() == "GPU box"
    key_field = control(dialog, "API key")
    assert key_field.text() == KEY  # read back from the keyring
    assert key_field.echoMode() is QLineEdit.EchoMode.Password
    assert control(dialog, "Length limit").value() == 5000
    assert control(dialog, "Long span repeats").value() == 4
    control(dialog, "Cancel").click()
    await wait_until(lambda: again.settings_dialog is None, 5)


async def test_allow_network_listens_everywhere_and_warns(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    port = free_port()
    window = make_window()
    dialog = await open_settings(window)
    warning = control(dialog, "Network warning")
    assert not warning.isVisible()
    assert not control(dialog, "Listen address note").isVisible()  # no OLLAMA_HOST here
    type_into(qtbot, control(dialog, "Listen address"), f"127.0.0.1:{port}")
    control(dialog, "Allow other devices on the network").click()
    assert warning.isVisible()
    assert f"0.0.0.0:{port}" in warning.text()
    assert "anyone on the network" in warning.text()
    await press_ok(window, dialog)

    local = window.launcher.settings.local
    assert local.allow_network
    assert local.child_host() == f"0.0.0.0:{port}"
    assert window.launcher.profile.child_host == f"0.0.0.0:{port}"
    assert window.launcher.monitor.profile.child_host == f"0.0.0.0:{port}"
    assert window.launcher.profile.base_url == f"http://127.0.0.1:{port}"  # we use loopback
    assert saved()["local"]["allow_network"] is True


async def test_a_bad_host_url_keeps_the_dialog_open(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    add_remote(qtbot, dialog, "Broken", "ftp://gpu")
    assert "only http:// and https://" in control(dialog, "Host URL problem").text()
    control(dialog, "OK").click()
    problem = control(dialog, "Settings problem")
    assert problem.isVisible() and "Broken" in problem.text()
    assert dialog.isVisible()
    assert dialog.tabs.currentWidget() is dialog.remote_page
    assert not settings_path().exists()  # nothing saved
    type_into(qtbot, control(dialog, "Host URL"), "gpu.invalid")
    await press_ok(window, dialog)
    assert saved()["remotes"][0]["url"] == "gpu.invalid"


async def test_without_a_keyring_the_key_works_for_this_session(
    external: OllamaTestServer,
    other_server: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    qtbot: Any,
) -> None:
    with installed(fail.Keyring()):  # type: ignore[no-untyped-call]
        window = make_window()
        dialog = await open_settings(window)
        dialog.tabs.setCurrentWidget(dialog.remote_page)
        note = control(dialog, "Keyring notice")
        # No remote host yet: nothing needs a key, so no red warning either.
        assert not note.isVisible()
        add_remote(qtbot, dialog, "Other box", other_server.url, KEY)
        assert note.isVisible()
        assert note.text() == SESSION_ONLY_NOTE
        await press_ok(window, dialog)
        assert "kept for this session only" in window.statusBar().currentMessage()
        assert "Other box" in window.statusBar().currentMessage()

        choose_host(window, "Other box")
        await wait_until(lambda: status_of(window).startswith("Running - Ollama 0.13.0"), 5)
        await wait_until(lambda: other_server.requests_to("/api/tags"), 5)
        remote_id = saved()["remotes"][0]["id"]
        assert KEY not in settings_path().read_text()
        assert await asyncio.to_thread(SecretStore().get, remote_id) is None  # not persisted
    assert other_server.requests
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in other_server.requests)


async def test_ctrl_comma_opens_the_dialog_and_every_control_is_named(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # window shortcuts need the active window
    await wait_until(lambda: QApplication.activeWindow() is window, 5)
    assert control(window, "Settings").text() == "Settings…"
    qtbot.keyClick(window, ",", Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: window.settings_dialog is not None, 5)
    dialog = window.settings_dialog
    assert dialog is not None
    await wait_until(dialog.isVisible, 5)
    assert dialog.isModal() or dialog.windowModality() is not Qt.WindowModality.NonModal
    inputs = (QAbstractButton, QLineEdit, QAbstractSpinBox, QTableWidget, QListWidget)
    unnamed = [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        for w in dialog.findChildren(QWidget)
        if isinstance(w, inputs)
        # Parts of a named control: a spin box's editor, a table's corner button.
        and not isinstance(w.parent(), QAbstractSpinBox | QTableWidget)
        and not w.accessibleName()
    ]
    assert unnamed == []
    control(dialog, "Cancel").click()
    await wait_until(lambda: window.settings_dialog is None, 5)


async def test_general_and_auto_start_options_round_trip(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    enter = control(dialog, "Enter sends the message")
    auto = control(dialog, "Start Ollama automatically")
    assert enter.isChecked() and auto.isChecked()  # the defaults
    assert enter.text().replace("&", "") == "Enter sends the message"
    assert auto.text().replace("&", "") == "Start Ollama automatically"
    enter.click()
    auto.click()
    await press_ok(window, dialog)
    data = saved()
    assert data["enter_sends"] is False
    assert data["local"]["auto_start"] is False
    assert window.launcher.settings.enter_sends is False

    dialog = await open_settings(window)
    assert not control(dialog, "Enter sends the message").isChecked()
    assert not control(dialog, "Start Ollama automatically").isChecked()
    control(dialog, "Cancel").click()
    await wait_until(lambda: window.settings_dialog is None, 5)


async def test_fields_the_pages_do_not_show_survive_ok(
    make_window: Callable[[], MainWindow],
) -> None:
    """Proxy, CA file and tuning are edited elsewhere: OK on these pages keeps them."""
    from launcher.config import LocalServerSettings, RemoteHost, Settings, save_settings

    save_settings(
        Settings(
            local=LocalServerSettings(https_proxy="http://proxy.invalid:3128", tuning={"a": "1"}),
            remotes=[
                RemoteHost("r1", "Box", "http://box.invalid:11434", proxy="none", ca_file="/ca.pem")
            ],
        )
    )
    window = make_window()
    dialog = await open_settings(window)
    await press_ok(window, dialog)
    data = saved()
    assert data["local"]["https_proxy"] == "http://proxy.invalid:3128"
    assert data["local"]["tuning"] == {"a": "1"}
    assert data["remotes"][0]["proxy"] == "none"
    assert data["remotes"][0]["ca_file"] == "/ca.pem"


async def test_guard_settings_read_as_plain_words_with_units(
    make_window: Callable[[], MainWindow],
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    dialog.tabs.setCurrentWidget(dialog.guard_page)
    summary = control(dialog, "Guard summary")
    assert summary.text().startswith("Stop a reply after 100,000 characters")
    assert "at least 256 characters long" in summary.text()
    control(dialog, "Length limit").setValue(200_000)
    assert summary.text().startswith("Stop a reply after 200,000 characters")
    assert control(dialog, "Long span repeats").suffix() == " times in a row"
    assert control(dialog, "Minimum repeated characters").suffix() == " characters"
    control(dialog, "Length limit").setValue(0)
    assert control(dialog, "Length limit").text() == "No limit"
    assert "There is no length limit." in summary.text()
    control(dialog, "Runaway guard enabled").click()
    assert "never stopped by the guard" in summary.text()
    control(dialog, "Cancel").click()
    await wait_until(lambda: window.settings_dialog is None, 5)


async def test_a_failed_save_says_so_in_words_and_keeps_the_dialog(
    make_window: Callable[[], MainWindow],
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().unlink(missing_ok=True)
    settings_path().mkdir()  # a folder where the file should go: the save cannot succeed
    control(dialog, "OK").click()
    problem = control(dialog, "Settings problem")
    await wait_until(problem.isVisible, 5)
    assert problem.text().startswith("The settings could not be saved.")
    assert "Errno" not in problem.text() and "Error" not in problem.text()
    assert window.settings_dialog is dialog and control(dialog, "OK").isEnabled()
    control(dialog, "Cancel").click()
    await wait_until(lambda: window.settings_dialog is None, 5)
