"""Host switching, API keys sent only to their own host, and a planted key that must
leak nowhere: settings file, data files, server log, Python log, UI text, reprs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QTableWidget,
    QTextEdit,
    QWidget,
)

from launcher.config import ENV_ID, LOCAL_ID, RemoteHost, Settings, save_settings, settings_path
from launcher.core.launcher import Launcher
from launcher.ui.main_window import MainWindow
from tests.conftest import free_port
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control, status_of
from tests.ui.settings_helpers import (
    add_remote,
    choose_host,
    open_settings,
    press_ok,
)
from tests.unit.keyring_backends import MemoryKeyring, installed
from tests.waiting import wait_until

KEY = "sk-PLANTED-9f3c7a2e1b8d"


@pytest.fixture
def other_server() -> Iterator[OllamaTestServer]:
    server = OllamaTestServer(version="0.13.0")
    server.add_model("qwen3")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def running(window: MainWindow, version: str) -> Callable[[], bool]:
    return lambda: status_of(window).startswith(f"Running - Ollama {version}")


def models_offered(window: MainWindow) -> list[str]:
    combo: QComboBox = control(window, "Model")
    return [combo.itemText(i) for i in range(combo.count())]


async def test_status_and_models_follow_the_selected_host(
    external: OllamaTestServer,
    other_server: OllamaTestServer,
    make_window: Callable[[], MainWindow],
) -> None:
    save_settings(Settings(remotes=[RemoteHost("other", "Other box", other_server.url)]))
    window = make_window()
    await wait_until(running(window, "0.12.3"), 5)
    await wait_until(lambda: models_offered(window) == ["llama3.2:latest"], 5)
    for _ in range(2):  # back and forth, twice
        choose_host(window, "Other box")
        await wait_until(running(window, "0.13.0"), 5)
        await wait_until(lambda: models_offered(window) == ["qwen3:latest"], 5)
        assert not control(window, "Start server").isVisible()
        choose_host(window, "This computer")
        await wait_until(running(window, "0.12.3"), 5)
        await wait_until(lambda: models_offered(window) == ["llama3.2:latest"], 5)
    assert control(window, "Host").currentText() == "This computer"
    # Remembered: the file is written off the Qt thread, so wait for it to land.
    await wait_until(lambda: json.loads(settings_path().read_text())["selected"] == LOCAL_ID, 5)
    # The status keeps following the selected host: it goes down, we see it.
    choose_host(window, "Other box")
    await wait_until(running(window, "0.13.0"), 5)
    other_server.stop()
    await wait_until(lambda: status_of(window).startswith("Unreachable"), 10)


async def test_api_key_is_sent_to_its_own_host_only(
    external: OllamaTestServer,
    other_server: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    qtbot: Any,
) -> None:
    # OLLAMA_API_KEY belongs to a non-local OLLAMA_HOST: never to the local server.
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key-not-for-local")
    with installed(MemoryKeyring()):
        window = make_window()
        await wait_until(running(window, "0.12.3"), 5)
        dialog = await open_settings(window)
        add_remote(qtbot, dialog, "Other box", other_server.url, KEY)
        await press_ok(window, dialog)
        choose_host(window, "Other box")
        await wait_until(running(window, "0.13.0"), 5)
        await wait_until(lambda: other_server.requests_to("/api/tags"), 5)
        seen_local = len(external.requests_to("/api/tags"))
        choose_host(window, "This computer")
        await wait_until(running(window, "0.12.3"), 5)
        await wait_until(lambda: len(external.requests_to("/api/tags")) > seen_local, 5)
    assert other_server.requests
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in other_server.requests)
    assert external.requests
    assert all("authorization" not in r.headers for r in external.requests)


async def test_ollama_api_key_goes_to_the_ollama_host_only(qloop: Any) -> None:
    environ = {"OLLAMA_HOST": "https://ollama.example", "OLLAMA_API_KEY": "env-key"}
    launcher = Launcher(Settings(remotes=[RemoteHost("r", "R", "http://r.example")]), environ)
    try:
        keys = {p.id: launcher.api_key_for(p) for p in launcher.profiles}
        assert keys == {LOCAL_ID: None, ENV_ID: "env-key", "r": None}
        assert launcher.profile.id == ENV_ID
    finally:
        await launcher.shutdown()


def ui_texts() -> list[str]:
    """Every string a user (or a screen reader) can get from any widget."""
    texts: list[str] = []
    for widget in QApplication.allWidgets():
        try:
            texts += [
                widget.toolTip(),
                widget.accessibleName(),
                widget.accessibleDescription(),
                widget.windowTitle(),
                widget.statusTip(),
            ]
            if isinstance(widget, QLineEdit):
                if widget.echoMode() is QLineEdit.EchoMode.Normal:
                    texts.append(widget.text())
            elif isinstance(widget, QLabel | QAbstractButton):
                texts.append(widget.text())
            elif isinstance(widget, QPlainTextEdit | QTextEdit):
                texts.append(widget.toPlainText())
            elif isinstance(widget, QComboBox):
                texts += [widget.itemText(i) for i in range(widget.count())]
            elif isinstance(widget, QListWidget):
                texts += [widget.item(i).text() for i in range(widget.count())]
            elif isinstance(widget, QTableWidget):
                for row in range(widget.rowCount()):
                    for column in range(widget.columnCount()):
                        item = widget.item(row, column)
                        texts.append(item.text() if item is not None else "")
        except RuntimeError:  # deleted while we looked
            continue
    return texts


def password_fields() -> list[QWidget]:
    return [
        w
        for w in QApplication.allWidgets()
        if isinstance(w, QLineEdit) and w.echoMode() is not QLineEdit.EchoMode.Normal
    ]


async def test_a_planted_key_leaks_nowhere(
    external: OllamaTestServer,
    other_server: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    caplog: pytest.LogCaptureFixture,
    qtbot: Any,
    isolated_env: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    with installed(MemoryKeyring()):
        window = make_window()
        await wait_until(running(window, "0.12.3"), 5)
        dialog = await open_settings(window)
        add_remote(qtbot, dialog, "Dead box", f"http://127.0.0.1:{free_port()}", KEY)
        add_remote(qtbot, dialog, "Other box", other_server.url, KEY)
        await press_ok(window, dialog)
        # A host that answers (the key is really sent)...
        choose_host(window, "Other box")
        await wait_until(running(window, "0.13.0"), 5)
        await wait_until(lambda: other_server.requests_to("/api/tags"), 5)
        # ...and one that does not, with failing requests shown in the UI.
        choose_host(window, "Dead box")
        await wait_until(lambda: status_of(window).startswith("Unreachable"), 5)
        window.tabs.setCurrentWidget(window.models)
        control(window, "Refresh models").click()
        message = control(window, "Models message")
        await wait_until(lambda: "Could not list models" in message.text(), 5)
        # Settings opened and saved again.
        dialog = await open_settings(window)
        assert any(isinstance(w, QLineEdit) and w.text() == KEY for w in password_fields())
        await press_ok(window, dialog)
        choose_host(window, "This computer")
        await wait_until(running(window, "0.12.3"), 5)
        texts = ui_texts()
        launcher = window.launcher
        reprs = [repr(launcher.secrets), *(repr(c) for c in launcher.clients.current())]
        server_log = "\n".join(launcher.log.lines())
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in other_server.requests)
    assert "Could not list models" in "\n".join(texts)  # the scan does see error messages

    places = {
        "settings file": settings_path().read_text(),
        "server log": server_log,
        "Python log": caplog.text,
        "UI text": "\n".join(texts),
        "reprs": "\n".join(reprs),
    }
    for place, text in places.items():
        assert KEY not in text, f"the API key leaked into the {place}"
    for path in isolated_env.rglob("*"):  # settings, conversations database, exports
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"the API key leaked into {path}"
