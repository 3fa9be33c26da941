"""Model downloads and deletion through the real window against the test server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox

from launcher.core.downloads import JobState
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.waiting import wait_until


async def ready(make_window: Callable[[], MainWindow]) -> MainWindow:
    window = make_window()
    await wait_until(lambda: window.models.table.rowCount() > 0, 5)
    return window


def start_pull(window: MainWindow, name: str) -> None:
    window.models.pull_name.setText(name)
    window.models.pull_button.click()


async def test_pull_shows_overall_and_layer_progress_then_installs(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("mistral", size=300_000_000, interval=0.05)
    window = await ready(make_window)
    window.tabs.setCurrentIndex(1)
    start_pull(window, "mistral")
    seen: list[int] = []
    texts: list[str] = []

    def sample() -> bool:
        seen.append(window.models.progress.value())
        texts.append(window.models.progress_text.text())
        manager = window.launcher.downloads
        return bool(manager.jobs) and manager.jobs[0].state is JobState.DONE

    await wait_until(sample, 20)
    assert seen == sorted(seen), "the overall bar went backwards"
    assert window.models.progress.value() == window.models.progress.maximum()
    assert any("/s" in t and "left" in t for t in texts), texts[-5:]
    # Layers are named by kind and size, never by digest.
    assert any("Downloading model weights (300.0 MB)" in t for t in texts), texts[-5:]
    assert not any("pulling" in t for t in texts)
    # The per-layer bars are behind a disclosure.
    panel = window.models.download_list
    assert panel.layers_box.isHidden()
    panel.layers_toggle.click()
    assert len(panel._layer_bars) == 5
    # The new model is listed in both places.
    await wait_until(lambda: window.chat.model_combo.findText("mistral:latest") >= 0, 5)
    names = [window.models.table.item(r, 0).text() for r in range(window.models.table.rowCount())]
    assert "mistral:latest" in names


async def test_repaints_are_throttled(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("fast", size=2_000_000_000, interval=0.001, bytes_per_tick=1_000_000)
    window = await ready(make_window)
    started = time.monotonic()
    start_pull(window, "fast")
    job = window.launcher.downloads.jobs[0]
    lines = 0
    job.changed.connect(lambda: None)
    counter = {"n": 0}
    job.changed.connect(lambda: counter.__setitem__("n", counter["n"] + 1))
    await wait_until(lambda: job.state is JobState.DONE, 30)
    elapsed = time.monotonic() - started
    lines = counter["n"]
    assert lines > 500
    # The repaint timer runs every 50 ms: never one paint per progress line.
    assert window.models.repaints <= elapsed / 0.05 + 3
    assert window.models.repaints < lines / 5


async def test_cancel_closes_the_connection_and_next_pull_resumes(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("big", size=4_000_000_000, interval=0.02)
    window = await ready(make_window)
    start_pull(window, "big")
    await wait_until(lambda: window.models.progress.value() > 50, 10)
    assert window.models.cancel_button.isEnabled()
    clicked = time.monotonic()
    window.models.cancel_button.click()
    await wait_until(lambda: external.streams[-1].closed_by_client(), 2)
    record = external.streams[-1]
    assert record.client_closed_at is not None and record.client_closed_at >= clicked
    assert record.chunks_after_close == 0
    job = window.launcher.downloads.jobs[0]
    await wait_until(lambda: job.state is JobState.CANCELLED, 2)
    assert "Cancelled" in window.models.download_list.queue.item(0).text()
    assert window.models.progress.isHidden()  # no bar left standing at 50 %
    # Pull again: the server resumes from the bytes on disk, and the UI says so.
    start_pull(window, "big")
    await wait_until(lambda: "Resuming" in window.models.progress_text.text(), 10)
    second = window.launcher.downloads.jobs[1]
    first_layer = next(iter(second.progress.layers.values()))
    assert first_layer.completed > 0
    window.models.cancel_button.click()
    await wait_until(lambda: second.state is JobState.CANCELLED, 5)


async def test_unknown_model_keeps_the_name_and_says_so(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    start_pull(window, "no-such-model")
    job = window.launcher.downloads.jobs[0]
    await wait_until(lambda: job.state is JobState.FAILED, 5)
    message = window.models.pull_message
    await wait_until(lambda: message.isVisible() or not message.isHidden(), 2)
    assert "There is no model called 'no-such-model'" in message.text()
    assert "check the name" in message.text()
    assert "file does not exist" not in message.text()  # technical: Details only
    assert "file does not exist" in job.details
    # The technical text is one click away, behind "Details".
    assert window.models.error_details.isHidden()
    window.models.details_toggle.click()
    assert not window.models.error_details.isHidden()
    assert "pull model manifest: file does not exist" in window.models.error_details.text()
    assert window.models.pull_name.text() == "no-such-model"  # the typed text is kept
    assert window.models.pull_button.isEnabled()


async def test_invalid_name_is_reported(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    start_pull(window, "Bad Name!")
    job = window.launcher.downloads.jobs[0]
    await wait_until(lambda: job.state is JobState.FAILED, 5)
    await wait_until(lambda: "not a valid model name" in window.models.pull_message.text(), 2)
    assert window.models.pull_name.text() == "Bad Name!"


async def test_pulls_queue_and_keep_running_on_other_tabs(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("one", size=50_000_000, interval=0.01)
    external.add_pull("two", size=50_000_000, interval=0.01)
    window = await ready(make_window)
    window.tabs.setCurrentIndex(1)
    start_pull(window, "one")
    start_pull(window, "two")
    manager = window.launcher.downloads
    assert [j.model for j in manager.jobs] == ["one", "two"]
    assert manager.jobs[1].state is JobState.QUEUED
    window.tabs.setCurrentIndex(0)  # the user goes back to chatting
    await wait_until(lambda: all(j.state is JobState.DONE for j in manager.jobs), 20)
    await wait_until(lambda: window.chat.model_combo.findText("two:latest") >= 0, 5)
    # One after another, never at once.
    pulls = external.streams
    assert pulls[0].last_chunk_at is not None and pulls[1].started_at >= pulls[0].last_chunk_at


async def test_delete_asks_first_then_refreshes(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model("old-model")
    window = await ready(make_window)
    await wait_until(lambda: window.models.table.rowCount() == 2, 5)
    row = next(
        r
        for r in range(window.models.table.rowCount())
        if window.models.table.item(r, 0).text() == "old-model:latest"
    )
    installed = window.models.installed
    window.models.table.selectRow(row)
    assert installed.delete_button.isEnabled()
    installed.delete_button.click()
    box = installed._confirm
    assert isinstance(box, QMessageBox)
    # Cancel first: nothing is deleted.
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert "old-model:latest" in external.models
    window.models.table.selectRow(row)
    installed.delete_button.click()
    box = installed._confirm
    assert isinstance(box, QMessageBox)
    box.button(QMessageBox.StandardButton.Yes).click()
    await wait_until(lambda: window.models.table.rowCount() == 1, 5)
    assert "old-model:latest" not in external.models
    assert window.chat.model_combo.findText("old-model:latest") < 0
    assert external.requests_to("/api/delete")[-1].body == {"model": "old-model:latest"}


async def test_idle_page_shows_no_empty_download_parts_and_dismiss_frees_the_space(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("tiny", size=5_000_000, interval=0.01)
    window = await ready(make_window)
    panel = window.models.download_list
    # Idle: no 0 % bar, no empty Layers box, no empty list: the panel takes no space.
    assert panel.isHidden()
    start_pull(window, "tiny")
    assert not panel.isHidden()
    job = window.launcher.downloads.jobs[0]
    await wait_until(lambda: job.state is JobState.DONE, 10)
    await wait_until(lambda: not panel.dismiss_button.isHidden(), 2)
    assert window.models.progress.isHidden()  # a finished download needs no bar
    assert window.models.pull_name.text() == ""  # installed: the name box is free again
    assert "tiny: Installed" in window.models.progress_text.text()
    panel.dismiss_button.click()
    assert window.launcher.downloads.jobs == []
    assert panel.isHidden()


async def test_pause_keeps_the_item_and_resume_carries_on(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("big", size=4_000_000_000, interval=0.02)
    window = await ready(make_window)
    panel = window.models.download_list
    start_pull(window, "big")
    job = window.launcher.downloads.jobs[0]
    await wait_until(lambda: job.progress.overall > 0.05, 10)
    assert panel.pause_button.accessibleName() == "Pause download"
    panel.pause_button.click()
    await wait_until(lambda: job.state is JobState.PAUSED, 5)
    await wait_until(lambda: external.streams[-1].closed_by_client(), 2)
    at_pause = job.progress.overall
    await wait_until(lambda: not panel.resume_button.isHidden(), 2)
    assert panel.pause_button.isHidden()
    assert not window.models.progress.isEnabled()  # grey, not blue, while paused
    assert window.models.progress.value() == int(at_pause * 1000)
    assert "Paused at" in window.models.progress_text.text()
    assert window.launcher.downloads.jobs == [job]  # the item is kept
    panel.resume_button.click()
    await wait_until(lambda: len(external.requests_to("/api/pull")) == 2, 5)
    await wait_until(lambda: "Resuming" in window.models.progress_text.text(), 5)
    assert job.progress.overall >= at_pause
    panel.cancel_button.click()
    await wait_until(lambda: job.state is JobState.CANCELLED, 5)


def table_row(window: MainWindow, name: str) -> int:
    table = window.models.table
    return next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)


async def test_update_reports_whether_the_model_changed(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model("qwen3:8b")
    external.add_pull("llama3.2", size=3_000_000, interval=0.01)
    external.add_pull("qwen3:8b", size=3_000_000, interval=0.01)
    window = await ready(make_window)
    await wait_until(lambda: window.models.table.rowCount() == 2, 5)
    installed = window.models.installed
    window.models.table.selectRow(table_row(window, "llama3.2:latest"))
    assert installed.update_button.accessibleName() == "Update model"
    installed.update_button.click()
    manager = window.launcher.downloads
    first = manager.jobs[0]
    assert first.update
    await wait_until(lambda: first.state is JobState.DONE, 10)
    assert first.update_result == "updated"  # new layers: a new digest
    await wait_until(lambda: "llama3.2:latest: Updated" in window.models.progress_text.text(), 2)

    # Update all: the one just updated is unchanged now; the other one changes.
    assert installed.update_all_button.accessibleName() == "Update all models"
    installed.update_all_button.click()
    await wait_until(lambda: len(manager.jobs) == 3 and not any(j.active for j in manager.jobs), 15)
    results = {j.model: j.status_text() for j in manager.jobs[1:]}
    assert results == {"llama3.2:latest": "Already up to date", "qwen3:8b": "Updated"}


async def test_stopped_server_keeps_the_list_marked_and_loaded_says_why(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = await ready(make_window)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.models)
    installed = window.models.installed
    assert installed.stale.isHidden()
    external.stop()
    await wait_until(lambda: window.launcher.catalog.stale == "server stopped", 10)
    assert window.models.table.rowCount() == 1  # not "none installed"
    assert window.models.table.item(0, 0).text() == "llama3.2:latest"
    assert installed.stale.isVisible()
    # No ollama on PATH here: the page repeats the status's own advice, not its own.
    assert "Install it from https://ollama.com/download" in installed.stale.text()
    assert "No models installed" not in installed.stale.text()
    assert not installed.delete_button.isEnabled()
    loaded = window.models.loaded
    assert loaded is not None
    loaded.refresh()
    await wait_until(lambda: "Can't tell which models are loaded" in loaded.message.text(), 5)
    assert "isn't running on" in loaded.message.text()
    assert "No model is loaded" not in loaded.message.text()
    assert "Errno" not in loaded.message.text()


async def test_a_finished_item_can_be_picked_and_dismissed_while_another_runs(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_pull("tiny", size=2_000_000, interval=0.01)
    external.add_pull("big", size=4_000_000_000, interval=0.02)
    window = await ready(make_window)
    panel = window.models.download_list
    manager = window.launcher.downloads
    start_pull(window, "tiny")
    await wait_until(lambda: manager.jobs[0].state is JobState.DONE, 10)
    start_pull(window, "big")
    big = manager.jobs[1]
    await wait_until(lambda: big.progress.overall > 0.02, 10)
    assert panel.shown is big
    panel.queue.setCurrentRow(0)  # the user picks the finished one
    await wait_until(lambda: not panel.dismiss_button.isHidden(), 2)
    assert panel.shown is manager.jobs[0]
    painted = window.models.repaints
    await wait_until(lambda: window.models.repaints > painted + 2, 2)  # big keeps moving...
    assert panel.shown is manager.jobs[0]  # ...but the picked item stays on show
    panel.dismiss_button.click()
    assert [j.model for j in manager.jobs] == ["big"]
    assert panel.shown is big  # back to the running one
    panel.cancel_button.click()
    await wait_until(lambda: big.state is JobState.CANCELLED, 5)
