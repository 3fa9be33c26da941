"""Models you build, through the real window against the test server: import a GGUF file
(upload, skipped upload, cancel), New model from, copy, rename, and what a failure says."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QTableWidget,
    QWidget,
)

from launcher.core.modelimport import BuildJob, BuildOutcome
from launcher.ui.main_window import MainWindow
from launcher.ui.modelbuild_dialog import ModelRecipeDialog
from launcher.ui.modelbuild_panel import ModelBuildPanel, describe
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control
from tests.waiting import wait_until


def make_gguf(tmp_path: Path, size: int, name: str = "Tiny-Model.Q4_K_M.gguf") -> tuple[Path, str]:
    """A file with GGUF's magic and random bytes: the test server, like the upload
    step, only checks the bytes against the digest (it does not parse GGUF)."""
    data = b"GGUF\x03\x00\x00\x00" + os.urandom(size - 8)
    path = tmp_path / name
    path.write_bytes(data)
    return path, "sha256:" + hashlib.sha256(data).hexdigest()


def names(table: QTableWidget) -> list[str]:
    items = [table.item(r, 0) for r in range(table.rowCount())]
    return [item.text() for item in items if item is not None]


def select(window: MainWindow, name: str) -> None:
    table = window.models.table
    table.selectRow(names(table).index(name))


async def opened(make_window: Callable[[], MainWindow]) -> tuple[MainWindow, ModelBuildPanel]:
    window = make_window()
    window.tabs.setCurrentIndex(1)
    await wait_until(lambda: window.models.table.rowCount() > 0, 5)
    return window, window.models.build_panel


async def recipe_dialog(panel: ModelBuildPanel) -> ModelRecipeDialog:
    await wait_until(lambda: panel.dialog is not None and panel.dialog.isVisible(), 5)
    assert panel.dialog is not None
    return panel.dialog


async def choose_file(window: MainWindow, path: Path) -> ModelRecipeDialog:
    """Import GGUF…: the file dialog opens (never exec'd); pick the file in it."""
    panel = window.models.build_panel
    control(window, "Import GGUF").click()
    await wait_until(lambda: panel.file_dialog is not None and panel.file_dialog.isVisible(), 5)
    assert panel.file_dialog is not None
    panel.file_dialog.selectFile(str(path))
    panel.file_dialog.accept()
    return await recipe_dialog(panel)


def ok(dialog: ModelRecipeDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def watch(panel: ModelBuildPanel) -> tuple[list[str], list[str]]:
    """The stages and status lines of the next build, as the job reports them."""
    stages: list[str] = []
    lines: list[str] = []

    def started(job: BuildJob) -> None:
        def changed() -> None:
            if not stages or stages[-1] != job.stage:
                stages.append(job.stage)
            lines.append(describe(job))

        job.changed.connect(changed)

    panel.builder.jobStarted.connect(started)
    return stages, lines


def blob_posts(server: OllamaTestServer) -> list[str]:
    return [r.path for r in server.requests if r.method == "POST" and "/blobs/" in r.path]


async def test_import_uploads_the_file_then_creates_the_model(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, digest = make_gguf(tmp_path, 3 * (1 << 20) + 17)
    window, panel = await opened(make_window)
    stages, lines = watch(panel)
    dialog = await choose_file(window, path)
    assert dialog.name.text() == "tiny-model.q4_k_m"  # a starting name from the file
    dialog.name.setText("tiny")
    dialog.system.setPlainText("You are terse.")
    dialog.template.setPlainText("{{ .Prompt }}")
    dialog.parameters.setPlainText("temperature 0.3\nstop <|end|>\nnum_ctx 8192")
    ok(dialog)
    await wait_until(lambda: "tiny:latest" in names(window.models.table), 10)
    await wait_until(lambda: "tiny is imported" in panel.message.text(), 5)
    assert external.blobs == {digest: path.stat().st_size}
    [post] = [r for r in external.requests if r.method == "POST" and "/blobs/" in r.path]
    assert post.path == f"/api/blobs/{digest}" and post.raw_body == path.read_bytes()
    [create] = external.requests_to("/api/create")
    assert create.body["model"] == "tiny"
    assert create.body["files"] == {path.name: digest}
    assert create.body["system"] == "You are terse."
    assert create.body["template"] == "{{ .Prompt }}"
    assert create.body["parameters"] == {"temperature": 0.3, "stop": ["<|end|>"], "num_ctx": 8192}
    assert "from" not in create.body
    assert stages[:2] == ["hashing", "checking"] and stages[-2:] == ["uploading", "creating"]
    assert any(line.startswith("Uploading Tiny-Model") and "/s" in line for line in lines)
    assert panel.row.isHidden()  # the progress row goes when the job ends
    assert window.models.selected_model() == "tiny:latest"
    assert panel.import_button.isEnabled()


async def test_import_skips_the_upload_when_the_server_has_the_blob(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, digest = make_gguf(tmp_path, 200_000)
    external.blobs[digest] = path.stat().st_size  # uploaded before (by another client)
    window, panel = await opened(make_window)
    _stages, lines = watch(panel)
    dialog = await choose_file(window, path)
    dialog.name.setText("again")
    ok(dialog)
    await wait_until(lambda: "again:latest" in names(window.models.table), 10)
    assert blob_posts(external) == []  # nothing was sent
    heads = [r for r in external.requests if r.method == "HEAD" and "/blobs/" in r.path]
    assert [r.path for r in heads] == [f"/api/blobs/{digest}"]
    assert external.requests_to("/api/create")[0].body["files"] == {path.name: digest}
    assert any("has Tiny-Model.Q4_K_M.gguf already" in line for line in lines)


async def test_cancel_mid_upload_creates_nothing(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, digest = make_gguf(tmp_path, 8 * (1 << 20))
    window, panel = await opened(make_window)
    clicked: list[int] = []

    def started(job: BuildJob) -> None:
        def changed() -> None:
            if job.stage == "uploading" and not clicked:
                clicked.append(job.completed)  # the first block is on its way
                assert not panel.row.isHidden() and panel.cancel_button.isEnabled()
                panel.cancel_button.click()

        job.changed.connect(changed)

    panel.builder.jobStarted.connect(started)
    dialog = await choose_file(window, path)
    dialog.name.setText("never")
    ok(dialog)
    job = panel.builder.job
    assert job is not None
    await wait_until(lambda: job.outcome is not None, 10)
    assert job.outcome is not None and job.outcome.cancelled
    assert clicked and clicked[0] < path.stat().st_size
    await wait_until(lambda: panel.row.isHidden(), 2)
    assert "Stopped before never was created" in panel.message.text()
    # The server got a part of the body, then the connection closed: no blob, no model.
    assert blob_posts(external) == [] and external.blobs == {}
    assert external.requests_to("/api/create") == []
    assert "never:latest" not in names(window.models.table)
    assert digest not in external.blobs
    # The app stays usable: the same import goes through next time.
    dialog = await choose_file(window, path)
    dialog.name.setText("second-try")
    ok(dialog)
    await wait_until(lambda: "second-try:latest" in names(window.models.table), 10)


async def test_a_bad_name_keeps_the_dialog_and_says_what_is_wrong(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, _digest = make_gguf(tmp_path, 4096)
    window, panel = await opened(make_window)
    dialog = await choose_file(window, path)
    dialog.system.setPlainText("Kept while the name is fixed.")
    cases = [
        ("my model", "cannot contain spaces"),
        ("-dash", "start with a letter or digit"),
        ("ok:bad!", "The tag after ':' (bad!) may use only letters"),
        ("a/b/c/d", "at most two '/'"),
        ("llama3.2", "A model called llama3.2 is installed already"),
        ("", "Type a name for the new model"),
    ]
    for typed, said in cases:
        dialog.name.setText(typed)
        ok(dialog)
        assert dialog.isVisible(), typed
        assert dialog.name.text() == typed  # what was typed stays, to be fixed
        assert said in dialog.message.text(), (typed, dialog.message.text())
        assert dialog.message.isVisible()
    dialog.name.setText("fine-name")
    dialog.parameters.setPlainText("temprature 0.5")
    ok(dialog)
    assert dialog.isVisible()
    assert "Line 1: 'temprature' is not a parameter Ollama knows" in dialog.message.text()
    dialog.parameters.setPlainText("temperature warm")
    ok(dialog)
    assert "temperature needs a number, not 'warm'" in dialog.message.text()
    assert dialog.system.toPlainText() == "Kept while the name is fixed."
    assert external.requests_to("/api/create") == [] and blob_posts(external) == []
    dialog.reject()
    await wait_until(lambda: panel.dialog is None, 2)
    assert panel.builder.job is None  # cancelling the dialog builds nothing


async def test_new_model_from_an_installed_model_with_a_system_prompt(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model("qwen3")
    window, panel = await opened(make_window)
    await wait_until(lambda: window.models.table.rowCount() == 2, 5)
    select(window, "qwen3:latest")
    control(window, "New model from").click()
    dialog = await recipe_dialog(panel)
    assert dialog.base.currentText() == "qwen3:latest"  # the selected model first
    assert not dialog.base.isHidden() and dialog.template.isHidden()
    dialog.name.setText("pirate")
    dialog.system.setPlainText("Talk like a pirate.")
    dialog.parameters.setPlainText("temperature 0.9")
    ok(dialog)
    await wait_until(lambda: "pirate:latest" in names(window.models.table), 10)
    [create] = external.requests_to("/api/create")
    assert create.body["from"] == "qwen3:latest"
    assert create.body["system"] == "Talk like a pirate."
    assert create.body["parameters"] == {"temperature": 0.9}
    assert "files" not in create.body and blob_posts(external) == []
    assert 'SYSTEM """Talk like a pirate."""' in external.models["pirate:latest"].modelfile
    assert "pirate is created from qwen3:latest" in panel.message.text()


async def test_copy_then_rename_from_the_context_menu(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window, panel = await opened(make_window)
    table = window.models.table
    actions = {a.text(): a for a in table.actions()}
    assert not actions["Copy model…"].isEnabled()  # nothing selected
    select(window, "llama3.2:latest")
    assert actions["Copy model…"].isEnabled() and actions["Rename model…"].isEnabled()
    actions["Copy model…"].trigger()
    dialog = await recipe_dialog(panel)
    assert dialog.name.text() == "llama3.2-copy"
    assert dialog.system.isHidden() and dialog.base.isHidden()  # a name is all it asks
    ok(dialog)
    await wait_until(lambda: "llama3.2-copy:latest" in names(table), 5)
    assert "llama3.2:latest" in names(table)
    assert external.requests_to("/api/copy")[0].body == {
        "source": "llama3.2:latest",
        "destination": "llama3.2-copy",
    }
    assert "Copied llama3.2:latest to llama3.2-copy." in panel.message.text()
    assert window.models.selected_model() == "llama3.2-copy:latest"

    control(window, "Rename model").click()
    dialog = await recipe_dialog(panel)
    dialog.name.setText("llama3.2-copy")
    ok(dialog)
    assert "different name" in dialog.message.text()  # same name: not a rename
    dialog.name.setText("renamed:v1")
    ok(dialog)
    await wait_until(lambda: "renamed:v1" in names(table), 5)
    assert "llama3.2-copy:latest" not in names(table)
    done = [(r.method, r.path) for r in external.requests if r.path in ("/api/copy", "/api/delete")]
    assert done == [("POST", "/api/copy"), ("POST", "/api/copy"), ("DELETE", "/api/delete")]
    assert external.requests_to("/api/delete")[0].body == {"model": "llama3.2-copy:latest"}
    assert "Renamed llama3.2-copy:latest to renamed:v1." in panel.message.text()


async def test_a_failed_rename_deletes_nothing_and_explains(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window, panel = await opened(make_window)
    select(window, "llama3.2:latest")
    external.call(lambda: external.models.clear())  # gone behind the launcher's back
    await wait_until(lambda: not external.models, 2)
    control(window, "Rename model").click()
    dialog = await recipe_dialog(panel)
    dialog.name.setText("other")
    ok(dialog)
    await wait_until(lambda: "Could not rename" in panel.message.text(), 5)
    text = panel.message.text()
    assert f"is not installed on 127.0.0.1:{external.port}" in text  # explain()'s words
    assert "Errno" not in text and "Error:" not in text and "OllamaResponseError" not in text
    assert external.requests_to("/api/delete") == []  # no copy, so nothing deleted
    assert not panel.details_toggle.isHidden()
    panel.details_toggle.click()
    assert "OllamaResponseError" in panel.details.text()  # the technical text, on demand


async def test_a_file_gone_before_the_import_is_explained(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, _digest = make_gguf(tmp_path, 4096)
    window, panel = await opened(make_window)
    dialog = await choose_file(window, path)
    dialog.name.setText("gone")
    path.unlink()  # moved away while the dialog was open
    ok(dialog)
    await wait_until(lambda: "Could not build gone" in panel.message.text(), 5)
    text = panel.message.text()
    assert f"could not find {path.name} or the folder it is in" in text
    assert "Errno" not in text and "FileNotFoundError" not in text
    assert external.requests_to("/api/create") == [] and blob_posts(external) == []
    assert panel.row.isHidden() and panel.import_button.isEnabled()


async def test_a_base_model_gone_before_create_is_explained(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window, panel = await opened(make_window)
    control(window, "New model from").click()
    dialog = await recipe_dialog(panel)
    dialog.name.setText("persona")
    external.call(lambda: external.models.clear())  # deleted elsewhere meanwhile
    await wait_until(lambda: not external.models, 2)
    ok(dialog)
    await wait_until(lambda: "Could not build persona" in panel.message.text(), 5)
    text = panel.message.text()
    assert f"The model 'llama3.2:latest' is not installed on 127.0.0.1:{external.port}" in text
    assert external.requests_to("/api/create")[0].body["from"] == "llama3.2:latest"
    assert "persona:latest" not in names(window.models.table)


async def test_a_file_that_is_not_gguf_is_refused_before_any_upload(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path = tmp_path / "notes.gguf"
    path.write_text("just some notes, not a model\n")
    window, panel = await opened(make_window)
    dialog = await choose_file(window, path)
    ok(dialog)
    await wait_until(lambda: "is not a GGUF model file" in panel.message.text(), 5)
    assert "Could not build notes from notes.gguf. notes.gguf is not a GGUF model file" in (
        panel.message.text()
    )
    panel.details_toggle.click()
    assert "starts with b'just'" in panel.details.text()  # the technical part, on demand
    assert blob_posts(external) == [] and external.requests_to("/api/create") == []
    heads = [r for r in external.requests if r.method == "HEAD" and "/blobs/" in r.path]
    assert heads == []  # not even hashed and asked about


async def test_quitting_mid_upload_ends_the_job_once_and_creates_nothing(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, _digest = make_gguf(tmp_path, 8 * (1 << 20))
    window, panel = await opened(make_window)
    quitting: list[asyncio.Task[None]] = []
    endings: list[BuildOutcome] = []

    def started(job: BuildJob) -> None:
        job.finished.connect(endings.append)

        def changed() -> None:
            if job.stage == "uploading" and not quitting:
                quitting.append(asyncio.ensure_future(window.shutdown()))

        job.changed.connect(changed)

    panel.builder.jobStarted.connect(started)
    dialog = await choose_file(window, path)
    dialog.name.setText("late")
    ok(dialog)
    await wait_until(lambda: quitting and quitting[0].done(), 10)
    await quitting[0]
    assert [e.cancelled for e in endings] == [True]  # ended once, as cancelled
    assert external.blobs == {} and external.requests_to("/api/create") == []


async def test_keyboard_shortcuts_and_every_control_is_named(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window, panel = await opened(make_window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # shortcuts need the active window
    await wait_until(lambda: QApplication.activeWindow() is window, 5)
    select(window, "llama3.2:latest")
    window.models.table.setFocus()
    qtbot.keyClick(window.models.table, Qt.Key.Key_F2)
    dialog = await recipe_dialog(panel)
    assert dialog.mode == "rename"
    await wait_until(dialog.name.hasFocus, 2)  # typing goes to the name at once
    controls = (QAbstractButton, QLineEdit, QPlainTextEdit, QComboBox, QProgressBar, QLabel)
    for widget in [*panel.findChildren(QWidget), *dialog.findChildren(QWidget)]:
        if isinstance(widget, controls) and not isinstance(widget.parent(), QDialogButtonBox):
            if isinstance(widget, QLabel) and widget.buddy() is not None:
                continue  # a field's caption: the field carries the name
            if isinstance(widget, QLabel) and widget.text() in ("File:", "Model:"):
                continue
            assert widget.accessibleName(), widget
    dialog.reject()
    await wait_until(lambda: panel.dialog is None, 2)
    window.activateWindow()  # the offscreen platform does not hand activation back itself
    await wait_until(lambda: QApplication.activeWindow() is window, 5)
    window.models.table.setFocus()
    qtbot.keyClick(window.models.table, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: panel.file_dialog is not None, 2)
    assert panel.file_dialog is not None
    panel.file_dialog.reject()
    await wait_until(lambda: panel.file_dialog is None, 2)
    assert panel.dialog is None  # no file, no name dialog


async def test_a_gguf_file_without_the_ending_is_named_gguf_for_the_server(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, digest = make_gguf(tmp_path, 50_000, name="weights.bin")  # picked with "All files"
    window, _panel = await opened(make_window)
    dialog = await choose_file(window, path)
    assert dialog.name.text() == "weights"
    ok(dialog)
    await wait_until(lambda: "weights:latest" in names(window.models.table), 10)
    assert external.requests_to("/api/create")[0].body["files"] == {"weights.gguf": digest}


async def test_the_models_menu_opens_import_and_new_model_from(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window, panel = await opened(make_window)
    window.tabs.setCurrentIndex(0)
    window.menus.import_gguf.trigger()
    assert window.tabs.currentWidget() is window.models
    await wait_until(lambda: panel.file_dialog is not None, 2)
    assert panel.file_dialog is not None
    assert window.menus.import_gguf.text().endswith("\tCtrl+I")  # the page's key, shown
    panel.file_dialog.reject()
    await wait_until(lambda: panel.file_dialog is None, 2)
    window.menus.new_model_from.trigger()
    dialog = await recipe_dialog(panel)
    assert dialog.mode == "derive"
    dialog.reject()
