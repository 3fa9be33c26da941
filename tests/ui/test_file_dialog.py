"""The one file dialog of a place (`ui/file_dialog.py`): never two at once, deleted on close."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from launcher.ui.file_dialog import FileDialogSlot


@pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen: no raise(), no hints
def test_a_second_ask_raises_the_open_dialog_and_closing_frees_the_slot(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    slot = FileDialogSlot()

    dialog = slot.new(owner, "Save the server log", "/tmp/x.log")
    assert isinstance(dialog, QFileDialog)
    assert dialog.accessibleName() == "Save the server log"
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.open()
    assert dialog.isVisible()
    assert slot.new(owner, "Save the server log") is None  # the open one is raised instead
    assert slot.dialog is dialog

    dialog.reject()  # `finished` is emitted at once: the slot is free, the dialog deleted later
    assert slot.dialog is None
    again = slot.new(owner, "Save the server log")
    assert again is not None and again is not dialog
    again.deleteLater()
