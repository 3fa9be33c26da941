"""Driving the settings dialog and the Host switcher from tests, as a user would."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QWidget

from launcher.ui.main_window import MainWindow
from launcher.ui.settings_dialog import SettingsDialog
from tests.ui.helpers import control
from tests.waiting import wait_until


async def open_settings(window: MainWindow) -> SettingsDialog:
    control(window, "Settings").click()
    await wait_until(lambda: window.settings_dialog is not None, 5)
    dialog = window.settings_dialog
    assert dialog is not None
    await wait_until(dialog.isVisible, 5)
    return dialog


async def press_ok(window: MainWindow, dialog: SettingsDialog) -> None:
    control(dialog, "OK").click()
    await wait_until(lambda: window.settings_dialog is None, 5, "the dialog did not close")


def type_into(qtbot: Any, field: QWidget, text: str) -> None:
    """Replace a line edit's text by typing (so `textEdited` fires, as for a user)."""
    field.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(field, text)


def add_remote(qtbot: Any, dialog: SettingsDialog, name: str, url: str, key: str = "") -> None:
    dialog.tabs.setCurrentWidget(dialog.remote_page)
    control(dialog, "Add host").click()
    type_into(qtbot, control(dialog, "Host name"), name)
    type_into(qtbot, control(dialog, "Host URL"), url)
    if key:
        type_into(qtbot, control(dialog, "API key"), key)


def choose_host(window: MainWindow, name: str) -> None:
    """Pick a host in the Host combo (what a click on an entry does)."""
    combo: QComboBox = control(window, "Host")
    index = combo.findText(name)
    assert index >= 0, f"{name!r} not in {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
