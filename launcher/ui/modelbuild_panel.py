"""The Models page's build row: Import GGUF…, New model from…, Copy, Rename, and their progress.

The buttons open `ModelRecipeDialog`s (and a file dialog for the GGUF), all with
`open()`: nothing here waits inside the event loop. A running build shows one
compact row (what it does, a bar, speed, Cancel), repainted by a timer from
the job's state, never per block. Every ending is one message (`explain()`'s
words; technical text only behind "Details").
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.core.modelbuild import ModelBuilder
from launcher.core.modelimport import BuildJob, BuildOutcome, ModelRecipe
from launcher.core.modelnames import full_name
from launcher.ui.format import human_bytes
from launcher.ui.installed_panel import InstalledModelsPanel
from launcher.ui.modelbuild_dialog import COPY, DERIVE, IMPORT, RENAME, ModelRecipeDialog

REPAINT_INTERVAL_MS = 100


def describe(job: BuildJob) -> str:
    """The status line of a build: what it does now, how far, how fast (and on which host,
    when the user has switched to another one since it started)."""
    headline = job.headline()
    now = _stage_text(job)
    return f"{headline} {now}" if headline else now


def _stage_text(job: BuildJob) -> str:
    recipe = job.recipe
    file = recipe.path.name if recipe.path is not None else ""
    done = f"{human_bytes(job.completed)} of {human_bytes(job.total)}"
    if job.stage == "hashing":
        return f"Reading {file} to fingerprint it — {done}"
    if job.stage == "checking":
        return f"Asking the server whether it has {file} already…"
    if job.stage == "uploading" and job.skipped_upload:
        return f"The server has {file} already — nothing to upload."
    if job.stage == "uploading":
        speed = f", {human_bytes(job.speed)}/s" if job.speed else ""
        return f"Uploading {file} — {done}{speed}"
    if job.stage == "creating":
        return f"Creating {recipe.name}" + (f": {job.status}" if job.status else "…")
    return f"{recipe.name}: waiting…"


class ModelBuildPanel(QWidget):
    """The build buttons, the import row and the build message.

    Args:
        builder: does the work (core).
        installed: the installed list (its selection is the model to copy,
            rename or build on; its context menu gets our actions).
    """

    def __init__(
        self, builder: ModelBuilder, installed: InstalledModelsPanel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.builder = builder
        self.installed = installed
        self.catalog = builder.catalog
        self.file_dialog: QFileDialog | None = None
        self.dialog: ModelRecipeDialog | None = None

        self.import_button = self._button("Import &GGUF…", "Import GGUF", "Ctrl+I")
        self.import_button.setToolTip("Make a model from a .gguf file on this computer (Ctrl+I)")
        self.derive_button = self._button("&New model from…", "New model from", "Ctrl+Shift+M")
        self.derive_button.setToolTip(
            "A persona: an installed model with your system prompt and parameters (Ctrl+Shift+M)"
        )
        self.copy_button = self._button("Cop&y model…", "Copy model")
        self.rename_button = self._button("Rena&me model…", "Rename model", "F2")

        self.row = QFrame(self)
        self.row.setFrameShape(QFrame.Shape.StyledPanel)
        self.status = QLabel(self.row)
        self.status.setAccessibleName("Import status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar(self.row)
        self.progress.setAccessibleName("Import progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel", self.row)
        self.cancel_button.setAccessibleName("Cancel import")
        row = QHBoxLayout(self.row)
        row.setContentsMargins(6, 2, 6, 2)
        row.addWidget(self.status, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        self.row.hide()

        self.message = QLabel(self)
        self.message.setAccessibleName("Build message")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.hide()
        self.details_toggle = QToolButton(self)
        self.details_toggle.setText("Details")
        self.details_toggle.setAccessibleName("Show build error details")
        self.details_toggle.setCheckable(True)
        self.details_toggle.hide()
        self.details = QLabel(self)
        self.details.setAccessibleName("Build error details")
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setWordWrap(True)
        self.details.hide()
        self._details_text = ""
        self._actions: list[tuple[QPushButton, QAction]] = []  # context menu entries

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.import_button, self.derive_button, self.copy_button):
            buttons.addWidget(button)
        buttons.addWidget(self.rename_button)
        buttons.addStretch(1)
        message = QHBoxLayout()
        message.addWidget(self.message, 1)
        message.addWidget(self.details_toggle, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.row)
        layout.addLayout(message)
        layout.addWidget(self.details)

        self._timer = QTimer(self)
        self._timer.setInterval(REPAINT_INTERVAL_MS)
        self._timer.timeout.connect(self._repaint)
        self.import_button.clicked.connect(self.ask_import)
        self.derive_button.clicked.connect(self.ask_derive)
        self.copy_button.clicked.connect(lambda: self.ask_name(COPY))
        self.rename_button.clicked.connect(lambda: self.ask_name(RENAME))
        self.cancel_button.clicked.connect(builder.cancel)
        self.details_toggle.toggled.connect(self._show_details)
        builder.jobStarted.connect(self._job_started)
        builder.done.connect(self._done)
        installed.table.itemSelectionChanged.connect(self._enable)
        self.catalog.staleChanged.connect(lambda _stale: self._enable())
        self.catalog.modelsChanged.connect(lambda _models: self._enable())
        self._add_context_menu(installed)
        self._enable()

    def _button(self, text: str, name: str, keys: str = "") -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(name)
        if keys:
            shortcut = QShortcut(QKeySequence(keys), self.parentWidget() or self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(button.click)
        return button

    def _add_context_menu(self, installed: InstalledModelsPanel) -> None:
        """Copy, Rename and New model from on the installed list's right-click menu."""
        table = installed.table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for button in (self.derive_button, self.copy_button, self.rename_button):
            action = QAction(button.text().replace("&", ""), table)
            action.triggered.connect(button.click)
            table.addAction(action)
            self._actions.append((button, action))

    def _enable(self) -> None:
        live = not self.catalog.stale
        chosen = bool(self.installed.selected_model())
        idle = not self.builder.busy
        self.import_button.setEnabled(live and idle)
        self.derive_button.setEnabled(live and idle and bool(self.catalog.models))
        self.copy_button.setEnabled(live and chosen)
        self.rename_button.setEnabled(live and chosen)
        for button, action in self._actions:
            action.setEnabled(button.isEnabled())

    # ---- asking ---------------------------------------------------------

    def ask_import(self) -> None:
        """Pick a .gguf file (a file dialog opened, not exec'd), then name the model."""
        if not self.import_button.isEnabled() or self._asking():
            return
        start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
        dialog = QFileDialog(self, "Import GGUF", start, "GGUF models (*.gguf);;All files (*)")
        dialog.setAccessibleName("Choose a GGUF file")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.fileSelected.connect(self._file_chosen)
        dialog.finished.connect(self._file_dialog_closed)
        self.file_dialog = dialog
        dialog.open()

    def _file_dialog_closed(self, _result: int) -> None:
        dialog, self.file_dialog = self.file_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _file_chosen(self, file: str) -> None:
        if file:
            self._open(ModelRecipeDialog(IMPORT, self.catalog.names(), self, path=Path(file)))

    def ask_derive(self) -> None:
        if not self.derive_button.isEnabled() or self._asking():
            return
        names = self.catalog.names()
        selected = self.installed.selected_model()
        if selected in names:
            names.remove(selected)
            names.insert(0, selected)
        self._open(ModelRecipeDialog(DERIVE, self.catalog.names(), self, models=names))

    def ask_name(self, mode: str) -> None:
        """The new name for a copy or rename of the selected model."""
        source = self.installed.selected_model()
        if not source or self._asking():
            return
        self._open(ModelRecipeDialog(mode, self.catalog.names(), self, source=source))

    def _asking(self) -> bool:
        return self.dialog is not None or self.file_dialog is not None

    def _open(self, dialog: ModelRecipeDialog) -> None:
        dialog.recipeChosen.connect(lambda recipe: self._chosen(dialog.mode, recipe))
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _chosen(self, mode: str, recipe: ModelRecipe) -> None:
        self._say("")
        if mode == COPY:
            self._say(f"Copying {recipe.base} to {recipe.name}…")
            self.builder.copy(recipe.base, recipe.name)
        elif mode == RENAME:
            self._say(f"Renaming {recipe.base} to {recipe.name}…")
            self.builder.rename(recipe.base, recipe.name)
        else:
            self.builder.build(recipe)

    # ---- progress and the end -------------------------------------------

    def _job_started(self, job: BuildJob) -> None:
        self.row.show()
        self.cancel_button.setEnabled(True)
        self._enable()
        self._repaint()
        self._timer.start()

    def _repaint(self) -> None:
        job = self.builder.job
        if job is None:
            return
        self.status.setText(describe(job))
        if job.stage in ("hashing", "uploading") and job.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * job.completed / job.total))
        else:
            self.progress.setRange(0, 0)  # creating: busy, no fraction to show

    def _done(self, outcome: BuildOutcome) -> None:
        job = self.builder.job
        if job is not None and not job.active:
            self._timer.stop()
            self.row.hide()
        self._say(outcome.message, outcome.details)
        self._enable()
        if outcome.ok and outcome.model and not outcome.host:  # not in another host's list
            self._select(outcome.model)

    def _select(self, name: str) -> None:
        table = self.installed.table
        for row in range(table.rowCount()):
            item = table.item(row, 0)
            if item is not None and full_name(item.text()) == full_name(name):
                table.selectRow(row)
                return

    def _say(self, text: str, details: str = "") -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self._details_text = details
        self.details_toggle.setVisible(bool(details))
        self.details_toggle.setChecked(False)
        self._show_details(False)

    def _show_details(self, shown: bool) -> None:
        self.details.setText(self._details_text if shown else "")
        self.details.setVisible(shown)
