"""Model details on demand (`/api/show`) and the loaded models (`/api/ps`) with Unload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTableWidget

from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.ui.settings_helpers import control
from tests.waiting import wait_until


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item is not None else ""


def select_installed(window: MainWindow, name: str) -> None:
    table: QTableWidget = control(window, "Installed models")
    rows = [r for r in range(table.rowCount()) if cell(table, r, 0) == name]
    assert rows, f"{name} is not listed"
    table.selectRow(rows[0])


async def test_details_show_capabilities_and_context_length(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model(
        "llava",
        capabilities=["completion", "vision"],
        parameter_size="7B",
        quantization_level="Q4_0",
        size=4_700_000_000,
    )
    window = make_window()
    button = control(window, "Model details")
    await wait_until(lambda: control(window, "Installed models").rowCount() == 2, 5)
    assert not button.isEnabled()  # nothing selected yet
    select_installed(window, "llava:latest")
    assert button.isEnabled()
    button.click()
    details = control(window, "Details of the selected model")
    await wait_until(lambda: "Capabilities: completion, vision" in details.text(), 5)
    text = details.text()
    assert "Context length: 131,072 tokens" in text
    assert "Family: llama" in text
    assert "Parameters: 7B" in text
    assert "Quantization: Q4_0" in text
    assert "Size on disk: 4.7 GB" in text
    # The chat view asks /api/show for its own model too (context label), so
    # the details request is one of several, not necessarily the last.
    assert {"model": "llava:latest"} in [r.body for r in external.requests_to("/api/show")]


async def test_details_of_a_vanished_model_say_why(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = make_window()
    await wait_until(lambda: control(window, "Installed models").rowCount() == 1, 5)
    select_installed(window, "llama3.2:latest")
    external.models.clear()  # deleted behind our back
    control(window, "Model details").click()
    details = control(window, "Details of the selected model")
    await wait_until(lambda: "Could not get details of llama3.2:latest" in details.text(), 5)
    assert "is not installed" in details.text()
    assert not details.isHidden()


async def test_loaded_models_refresh_while_visible_and_unload(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    await wait_until(lambda: control(window, "Installed models").rowCount() == 1, 5)
    loaded: QTableWidget = control(window, "Loaded models")
    message = control(window, "Loaded models message")
    window.tabs.setCurrentWidget(window.models)  # shown: asks /api/ps at once
    await wait_until(lambda: message.text() == "No model is loaded in memory.", 5)
    asked = len(external.requests_to("/api/ps"))

    external.load_model("llama3.2")  # as a chat would; seen at the next 5 s refresh
    await wait_until(lambda: loaded.rowCount() == 1, 8)
    assert len(external.requests_to("/api/ps")) == asked + 1  # one refresh, not a flood
    assert cell(loaded, 0, 0) == "llama3.2:latest"
    assert cell(loaded, 0, 1) == "2.0 GB"  # memory
    assert cell(loaded, 0, 2) == "2.0 GB"  # VRAM
    assert cell(loaded, 0, 3).endswith("(in 5 min)")

    unload = control(window, "Unload model")
    assert not unload.isEnabled()
    loaded.selectRow(0)
    assert unload.isEnabled()
    unload.click()
    await wait_until(lambda: loaded.rowCount() == 0, 5)
    request = external.requests_to("/api/chat")[-1]
    assert request.body["keep_alive"] == 0
    assert request.body["model"] == "llama3.2:latest"
    assert request.body["messages"] == []
    assert "llama3.2:latest" not in external.loaded


async def test_details_open_beside_the_list_follow_the_selection_and_close(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model("qwen3:8b", parameter_size="8.2B")
    window = make_window()
    table: QTableWidget = control(window, "Installed models")
    await wait_until(lambda: table.rowCount() == 2, 5)
    select_installed(window, "llama3.2:latest")
    control(window, "Model details").click()
    details = control(window, "Details of the selected model")
    await wait_until(lambda: "Parameters: 3.2B" in details.text(), 5)
    # A side panel in the same splitter as the list: the list keeps its height.
    assert window.models.splitter.indexOf(window.models.details) == 1
    select_installed(window, "qwen3:8b")
    await wait_until(lambda: "Parameters: 8.2B" in details.text(), 5)
    assert details.text().startswith("qwen3:8b")
    control(window, "Close details").click()
    assert window.models.details.isHidden()


async def test_capabilities_show_as_tags_in_the_list(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    external.add_model("llava", capabilities=["completion", "vision", "tools", "thinking"])
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.models)
    table: QTableWidget = control(window, "Installed models")
    await wait_until(lambda: table.rowCount() == 2, 5)
    await wait_until(lambda: _tags(window, "llava:latest") is not None, 5)
    tags = _tags(window, "llava:latest")
    assert tags is not None
    assert tags.accessibleDescription() == "completion, vision, tools, thinking"
    assert "vision" in tags.text()
    # The column is as wide as the tags, so none is cut off.
    column = table.horizontalHeader().logicalIndex(5)
    assert table.horizontalHeaderItem(column).text() == "Capabilities"
    await wait_until(lambda: table.columnWidth(column) >= tags.sizeHint().width(), 5)


def _tags(window: MainWindow, name: str) -> Any:
    found = [
        w for w in window.findChildren(QLabel) if w.accessibleName() == f"Capabilities of {name}"
    ]
    return found[0] if found else None


async def test_keyboard_return_opens_details_and_delete_asks(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.models)
    table: QTableWidget = control(window, "Installed models")
    await wait_until(lambda: table.rowCount() == 1, 5)
    select_installed(window, "llama3.2:latest")
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Return)
    details = control(window, "Details of the selected model")
    await wait_until(lambda: "Family: llama" in details.text(), 5)
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    box = window.models.installed._confirm
    assert box is not None
    box.reject()
    assert "llama3.2:latest" in external.models
