"""Model downloads and deletion through the real window against the test server."""

from __future__ import annotations

import time
from collections.abc import Callable

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
