"""The Server settings page through the real settings dialog: checked fields, saved tuning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from launcher.config import load_settings
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control, status_of
from tests.ui.settings_helpers import open_settings, press_ok, type_into
from tests.waiting import wait_until


def choose(combo: Any, data: str) -> None:
    combo.setCurrentIndex(combo.findData(data))


async def test_server_variables_round_trip_through_the_dialog(
    external: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    qtbot: Any,
    tmp_path: Path,
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    page = control(dialog, "Server settings")
    dialog.tabs.setCurrentWidget(page)
    type_into(qtbot, control(dialog, "OLLAMA_CONTEXT_LENGTH"), "8192")
    models = tmp_path / "models"
    type_into(qtbot, control(dialog, "OLLAMA_MODELS"), str(models))
    # One setting, two places: the Local server page shows the same folder.
    assert control(dialog, "Models folder").text() == str(models)
    kv = control(dialog, "OLLAMA_KV_CACHE_TYPE")
    assert not kv.isEnabled()  # a quantized cache needs flash attention
    choose(control(dialog, "OLLAMA_FLASH_ATTENTION"), "1")
    assert kv.isEnabled()
    choose(kv, "q8_0")
    type_into(qtbot, control(dialog, "OLLAMA_KEEP_ALIVE"), "30m")
    type_into(qtbot, control(dialog, "CUDA_VISIBLE_DEVICES"), "0,1")
    type_into(qtbot, control(dialog, "HTTPS_PROXY"), "http://proxy.example:3128")
    control(dialog, "OLLAMA_NOPRUNE").setChecked(False)
    control(dialog, "Add server variable").click()
    table = control(dialog, "Extra server variables")
    table.item(0, 0).setText("OLLAMA_CONTEXT_LENGHT")  # a typo
    table.item(0, 1).setText("4096")
    warning = control(dialog, "Unknown variables")
    assert warning.isVisibleTo(dialog) and "OLLAMA_CONTEXT_LENGHT" in warning.text()
    await press_ok(window, dialog)
    for local in (window.launcher.settings.local, load_settings().local):
        assert local.tuning == {
            "OLLAMA_CONTEXT_LENGTH": "8192",
            "OLLAMA_FLASH_ATTENTION": "1",
            "OLLAMA_KV_CACHE_TYPE": "q8_0",
            "OLLAMA_KEEP_ALIVE": "30m",
            "CUDA_VISIBLE_DEVICES": "0,1",
            "OLLAMA_CONTEXT_LENGHT": "4096",
        }
        assert local.https_proxy == "http://proxy.example:3128"
        assert local.models_dir == str(models)
        assert local.noprune is False
    # Opened again, the page shows what was saved.
    dialog = await open_settings(window)
    assert control(dialog, "OLLAMA_CONTEXT_LENGTH").text() == "8192"
    assert control(dialog, "OLLAMA_KV_CACHE_TYPE").currentData() == "q8_0"
    assert control(dialog, "Extra server variables").rowCount() == 1


async def test_a_wrong_value_keeps_the_dialog_open_and_says_what_to_type(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    dialog.tabs.setCurrentIndex(0)
    type_into(qtbot, control(dialog, "OLLAMA_KEEP_ALIVE"), "five minutes")
    control(dialog, "OK").click()
    problem: QWidget = control(dialog, "Settings problem")
    await wait_until(lambda: problem.isVisibleTo(dialog), 5)
    assert "OLLAMA_KEEP_ALIVE" in problem.text() and "5m" in problem.text()  # type: ignore[attr-defined]
    assert dialog.tabs.currentWidget() is control(dialog, "Server settings")
    assert window.settings_dialog is dialog and window.launcher.settings.local.tuning == {}
    control(dialog, "OLLAMA_KEEP_ALIVE").clear()
    type_into(qtbot, control(dialog, "OLLAMA_MODELS"), "relative/models")
    control(dialog, "OK").click()
    await wait_until(lambda: "full path" in problem.text(), 5)  # type: ignore[attr-defined]
    dialog.reject()


async def test_changing_a_variable_of_our_running_server_offers_restart(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    fake_ollama()
    window = make_window()
    await wait_until(lambda: control(window, "Start server").isEnabled(), 10)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    restart = control(window, "Restart server to apply")
    assert not restart.isVisibleTo(window.diagnostics)
    dialog = await open_settings(window)
    type_into(qtbot, control(dialog, "OLLAMA_NUM_PARALLEL"), "2")
    await press_ok(window, dialog)
    # Saving offers the restart at once (the tab keeps offering it too).
    panel = window.diagnostics
    await wait_until(lambda: panel.question is not None, 5)
    offer = panel.question
    assert offer is not None and "previous settings" in offer.text()
    control(offer, "Later").click()
    await wait_until(lambda: panel.question is None, 5)
    await wait_until(lambda: restart.isVisibleTo(window.diagnostics), 5)
    pid = window.launcher.supervisor.pid
    restart.click()
    await wait_until(
        lambda: (
            window.launcher.supervisor.pid not in (None, pid)
            and status_of(window).startswith("Running")
            and not restart.isVisibleTo(window.diagnostics)
        ),
        15,
    )
    # A change of settings that is not the server's offers nothing.
    settings = window.launcher.settings
    settings.guard = {"max_chars": 123456}
    window.launcher.apply_settings(settings)
    await wait_until(
        lambda: not restart.isVisibleTo(window.diagnostics) and panel._dirty is False, 5
    )
    assert panel.question is None


async def test_accepting_the_offer_restarts_with_the_new_settings(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    window = make_window()
    await wait_until(lambda: control(window, "Start server").isEnabled(), 10)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    pid = window.launcher.supervisor.pid
    settings = window.launcher.settings
    settings.local.tuning = {"OLLAMA_KEEP_ALIVE": "1h"}
    window.launcher.apply_settings(settings)
    panel = window.diagnostics
    await wait_until(lambda: panel.question is not None, 5)
    assert panel.question is not None
    control(panel.question, "Restart server to apply").click()
    await wait_until(
        lambda: (
            window.launcher.supervisor.pid not in (None, pid)
            and status_of(window).startswith("Running")
        ),
        15,
    )
    # The server now reports the new value, and nothing is left to apply.
    facts = panel.tracker
    await wait_until(lambda: facts.facts.config.get("OLLAMA_KEEP_ALIVE") in ("1h", "1h0m0s"), 10)
    restart = control(window, "Restart server to apply")
    await wait_until(lambda: not restart.isVisibleTo(panel), 5)
