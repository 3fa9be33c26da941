"""Settings > History: the Markdown export folder, chosen, checked and applied at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from launcher.config import settings_path
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import control, ready, reply_finished, type_and_send
from tests.ui.settings_helpers import open_settings, press_ok, type_into
from tests.waiting import wait_until


def _markdown(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}


async def test_a_chosen_folder_gets_every_conversation_at_once_and_clear_turns_it_off(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    external.reply = ReplySpec(text="Knead for ten minutes.")
    window = await ready(make_window)
    type_and_send(window, "Bread tips?")
    await reply_finished(window)
    assert _markdown(folder) == {}  # off until chosen

    dialog = await open_settings(window)
    dialog.tabs.setCurrentWidget(dialog.history_page)
    type_into(qtbot, control(dialog, "Markdown export folder"), str(folder))
    await press_ok(window, dialog)
    saved = json.loads(settings_path().read_text(encoding="utf-8"))
    assert saved["markdown_folder"] == str(folder)
    # The conversation written before the folder was chosen is there at once.
    await wait_until(lambda: "Knead for ten minutes." in "".join(_markdown(folder).values()), 5)
    assert list(_markdown(folder)) == ["Bread tips-1.md"]
    # An imported conversation gets its file at once too.
    exported = tmp_path / "bread.json"
    window.history_wiring.export(1, "json", exported)
    await wait_until(exported.exists, 5)
    await window.launcher.tasks.wait(5)
    window.history_wiring.import_file(exported)
    await wait_until(lambda: sorted(_markdown(folder)) == ["Bread tips-1.md", "Bread tips-2.md"], 5)

    dialog = await open_settings(window)
    assert control(dialog, "Markdown export folder").text() == str(folder)
    control(dialog, "Turn off the Markdown export").click()
    assert control(dialog, "Markdown export folder").text() == ""
    await press_ok(window, dialog)
    assert window.launcher.history.mirror_folder is None
    window.launcher.chat.new_conversation()
    type_and_send(window, "Cake tips?")
    await reply_finished(window)
    await window.launcher.tasks.wait(5)
    await window.launcher.saving.wait(5)
    assert sorted(_markdown(folder)) == ["Bread tips-1.md", "Bread tips-2.md"]  # none new


async def test_a_folder_that_cannot_be_used_keeps_the_dialog_open_and_says_why(
    make_window: Callable[[], MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    dialog.tabs.setCurrentWidget(dialog.general_page)
    field = control(dialog, "Markdown export folder")
    type_into(qtbot, field, str(tmp_path / "not there"))
    control(dialog, "OK").click()
    problem = control(dialog, "Settings problem")
    await wait_until(problem.isVisible, 5)
    assert problem.text().startswith(f"There is no folder “{tmp_path / 'not there'}”")
    assert dialog.tabs.currentWidget() is dialog.history_page  # where the field is
    assert dialog.ok_button.isEnabled() and dialog.isVisible()
    assert window.launcher.settings.markdown_folder == ""
    # Fixed, OK goes through.
    type_into(qtbot, field, str(tmp_path))
    await press_ok(window, dialog)
    assert window.launcher.settings.markdown_folder == str(tmp_path)


async def test_choose_opens_a_folder_dialog_and_its_answer_fills_the_field(
    make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    dialog = await open_settings(window)
    dialog.tabs.setCurrentWidget(dialog.history_page)
    control(dialog, "Choose Markdown export folder").click()
    chooser = dialog.history_page.file_dialog.dialog
    assert isinstance(chooser, QFileDialog)
    await wait_until(chooser.isVisible, 5)  # opened, not exec'd: this test goes on running
    assert chooser.fileMode() is QFileDialog.FileMode.Directory
    chooser.fileSelected.emit(str(tmp_path))
    chooser.reject()
    await wait_until(lambda: dialog.history_page.file_dialog.dialog is None, 5)
    assert control(dialog, "Markdown export folder").text() == str(tmp_path)
    control(dialog, "Cancel").click()
    await wait_until(lambda: window.settings_dialog is None, 5)
