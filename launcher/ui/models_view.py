"""The Models tab: pull with honest progress, a download queue, installed models, delete,
details on demand, and the models loaded in memory now (with Unload).

Progress is repainted by a 50 ms timer from the jobs' state (at most 20 paints
a second), never per progress line: a fast pull must not flood the UI. The
loaded list is refreshed when the tab is shown and every 5 s while it is
visible only: nobody reads it otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.core.downloads import DownloadManager, JobState, PullJob
from launcher.core.inspector import ModelFacts, ModelInspector, unloads_in
from launcher.core.models import ModelCatalog
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import ModelInfo, RunningModel
from launcher.ui.format import human_bytes, human_duration

REPAINT_INTERVAL_MS = 50
LOADED_REFRESH_MS = 5000


class ModelsPanel(QWidget):
    """Pull field and buttons, overall and per-layer bars, the queue, installed models.

    Signals:
        summaryChanged(str, int): a one-line summary of the shown download and its
            progress in per mille (-1 when none runs), for the window's status bar.
    """

    summaryChanged = Signal(str, int)

    def __init__(
        self,
        downloads: DownloadManager,
        catalog: ModelCatalog,
        tasks: BackgroundTasks,
        parent: QWidget | None = None,
        *,
        inspector: ModelInspector | None = None,
    ) -> None:
        super().__init__(parent)
        self.downloads = downloads
        self.catalog = catalog
        self.tasks = tasks
        self.inspector = inspector
        self.repaints = 0

        self.pull_name = QLineEdit(self)
        self.pull_name.setAccessibleName("Model to pull")
        self.pull_name.setPlaceholderText("e.g. llama3.2 or qwen3:8b")
        self.pull_button = QPushButton("Pull", self)
        self.pull_button.setAccessibleName("Pull")
        self.cancel_button = QPushButton("Cancel pull", self)
        self.cancel_button.setAccessibleName("Cancel pull")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress_text = QLabel("No download running.", self)
        self.progress_text.setAccessibleName("Download status")
        self.progress_text.setWordWrap(True)
        self.layers_box = QGroupBox("Layers", self)
        self.layers_layout = QFormLayout(self.layers_box)
        self._layer_bars: dict[str, QProgressBar] = {}
        self.queue = QListWidget(self)
        self.queue.setAccessibleName("Downloads")
        self.queue.setMaximumHeight(110)

        self.table = QTableWidget(0, 5, self)
        self.table.setAccessibleName("Installed models")
        self.table.setHorizontalHeaderLabels(["Name", "Size", "Family", "Parameters", "Quant."])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.delete_button = QPushButton("Delete model", self)
        self.delete_button.setAccessibleName("Delete model")
        self.delete_button.setEnabled(False)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setAccessibleName("Refresh models")
        self.message = QLabel(self)
        self.message.setAccessibleName("Models message")
        self.message.setWordWrap(True)
        self.details_button = QPushButton("Details", self)
        self.details_button.setAccessibleName("Model details")
        self.details_button.setToolTip("Family, parameters, context length, capabilities")
        self.details_button.setEnabled(False)
        self.details = QLabel(self)
        self.details.setAccessibleName("Details of the selected model")
        self.details.setTextFormat(Qt.TextFormat.PlainText)  # names come from the server
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setWordWrap(True)
        self.details.hide()
        self._details_for = ""
        self.loaded_table = QTableWidget(0, 4, self)
        self.loaded_table.setAccessibleName("Loaded models")
        self.loaded_table.setHorizontalHeaderLabels(["Name", "Memory", "VRAM", "Unloads"])
        self.loaded_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.loaded_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.loaded_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.loaded_table.verticalHeader().setVisible(False)
        header = self.loaded_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.loaded_table.setMaximumHeight(110)
        self.unload_button = QPushButton("Unload", self)
        self.unload_button.setAccessibleName("Unload model")
        self.unload_button.setToolTip("Free the memory the selected model uses now")
        self.unload_button.setEnabled(False)
        self.loaded_message = QLabel(self)
        self.loaded_message.setAccessibleName("Loaded models message")
        self.loaded_message.setWordWrap(True)

        pull_row = QHBoxLayout()
        pull_label = QLabel("Model to &pull:", self)
        pull_label.setBuddy(self.pull_name)
        pull_row.addWidget(pull_label)
        pull_row.addWidget(self.pull_name, 1)
        pull_row.addWidget(self.pull_button)
        pull_row.addWidget(self.cancel_button)
        installed_row = QHBoxLayout()
        installed_row.addWidget(self.message, 1)
        installed_row.addWidget(self.details_button)
        installed_row.addWidget(self.refresh_button)
        installed_row.addWidget(self.delete_button)
        loaded_row = QHBoxLayout()
        loaded_row.addWidget(self.loaded_message, 1)
        loaded_row.addWidget(self.unload_button)
        layout = QVBoxLayout(self)
        layout.addLayout(pull_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.layers_box)
        layout.addWidget(self.queue)
        layout.addWidget(QLabel("Installed models:", self))
        layout.addWidget(self.table, 1)
        layout.addLayout(installed_row)
        layout.addWidget(self.details)
        loaded_label = QLabel("&Loaded in memory now:", self)
        loaded_label.setBuddy(self.loaded_table)
        layout.addWidget(loaded_label)
        layout.addWidget(self.loaded_table)
        layout.addLayout(loaded_row)
        if inspector is None:
            for widget in (self.details_button, loaded_label, self.loaded_table):
                widget.hide()
            self.unload_button.hide()

        self._timer = QTimer(self)
        self._timer.setInterval(REPAINT_INTERVAL_MS)
        self._timer.timeout.connect(self._repaint)
        self._dirty = False
        self._shown: PullJob | None = None
        self._confirm: QMessageBox | None = None

        self.pull_button.clicked.connect(self.pull)
        self.pull_name.returnPressed.connect(self.pull)
        self.cancel_button.clicked.connect(self.cancel)
        self.delete_button.clicked.connect(self.ask_delete)
        self.refresh_button.clicked.connect(lambda: self.tasks.spawn(self.catalog.refresh()))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        downloads.jobAdded.connect(self._on_job_added)
        downloads.jobFinished.connect(self._on_job_finished)
        catalog.modelsChanged.connect(self.set_models)
        catalog.failed.connect(self.message.setText)
        self._loaded_timer = QTimer(self)
        self._loaded_timer.setInterval(LOADED_REFRESH_MS)
        self._loaded_timer.timeout.connect(self.refresh_loaded)
        self._loaded_refreshing = False
        if inspector is not None:
            self.details_button.clicked.connect(self.show_details)
            self.unload_button.clicked.connect(self.unload_selected)
            self.loaded_table.itemSelectionChanged.connect(self._loaded_selection_changed)
            inspector.loadedChanged.connect(self.set_loaded)
            inspector.failed.connect(self.loaded_message.setText)
            inspector.detailsFailed.connect(self.details.setText)

    # ---- pulling --------------------------------------------------------

    def pull(self) -> None:
        name = self.pull_name.text().strip()
        if not name:
            self.progress_text.setText("Type the name of a model to pull, e.g. llama3.2.")
            return
        job = self.downloads.pull(name)
        if job is None:
            self.progress_text.setText(f"{name} is already being downloaded.")
            return
        self.pull_name.clear()

    def cancel(self) -> None:
        """Cancel the running download (or the one shown); the connection closes now."""
        job = self.downloads.current or self._shown
        if job is not None and job.active:
            self.downloads.cancel(job)
        self._dirty = True
        self._repaint()

    def _on_job_added(self, job: PullJob) -> None:
        job.changed.connect(self._mark_dirty)
        self.queue.addItem(f"{job.model}: {job.status_text()}")
        if self._shown is None or not self._shown.active:
            self._show_job(job)
        self._dirty = True
        self._timer.start()

    def _on_job_finished(self, job: PullJob) -> None:
        self._dirty = True
        self._repaint()
        if not any(j.active for j in self.downloads.jobs):
            self._timer.stop()

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _show_job(self, job: PullJob) -> None:
        self._shown = job
        for bar in self._layer_bars.values():
            self.layers_layout.removeRow(bar)
        self._layer_bars.clear()

    def _repaint(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.repaints += 1
        current = self.downloads.current
        if current is not None and current is not self._shown:
            self._show_job(current)
        job = self._shown
        for row, item_job in enumerate(self.downloads.jobs):
            item = self.queue.item(row)
            if item is not None:
                item.setText(f"{item_job.model}: {item_job.status_text()}")
        self.cancel_button.setEnabled(any(j.active for j in self.downloads.jobs))
        if job is None:
            return
        progress = job.progress
        value = int(progress.overall * 1000)
        self.progress.setValue(value)
        self.summaryChanged.emit(f"{job.model}: {job.status_text()}", value if job.active else -1)
        self.progress.setAccessibleDescription(f"{progress.overall * 100:.0f}% of {job.model}")
        self.progress_text.setText(self._describe(job))
        for digest, layer in progress.layers.items():
            bar = self._layer_bars.get(digest)
            if bar is None:
                bar = QProgressBar(self.layers_box)
                bar.setRange(0, 1000)
                bar.setAccessibleName(f"Layer {digest.removeprefix('sha256:')[:12]}")
                self._layer_bars[digest] = bar
                self.layers_layout.addRow(
                    f"{digest.removeprefix('sha256:')[:12]} ({human_bytes(layer.total)})", bar
                )
            bar.setValue(int(layer.fraction * 1000))

    @staticmethod
    def _describe(job: PullJob) -> str:
        progress = job.progress
        text = f"{job.model}: {job.status_text()}"
        if job.state is JobState.RUNNING and progress.total:
            text += f" — {human_bytes(progress.completed)} of {human_bytes(progress.total)}"
            if progress.speed:
                text += f", {human_bytes(progress.speed)}/s"
            if progress.eta is not None and progress.speed:
                text += f", {human_duration(progress.eta)} left"
        return text

    # ---- installed models ----------------------------------------------

    def set_models(self, models: list[ModelInfo]) -> None:
        selected = self.selected_model()
        self.table.setRowCount(len(models))
        for row, model in enumerate(models):
            cells = [
                model.name,
                human_bytes(model.size),
                model.details.family,
                model.details.parameter_size,
                model.details.quantization_level,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
            if model.name == selected:
                self.table.selectRow(row)
        self._selection_changed()

    def selected_model(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item is not None else ""

    def _selection_changed(self) -> None:
        self.delete_button.setEnabled(bool(self.selected_model()))
        self.details_button.setEnabled(bool(self.selected_model()))
        if self.selected_model() != self._details_for:
            self.details.hide()  # they were about another model

    # ---- details and loaded models --------------------------------------

    def show_details(self) -> None:
        """Fetch `/api/show` for the selected model and show what matters."""
        name = self.selected_model()
        if not name or self.inspector is None:
            return
        self._details_for = name
        self.details.setText(f"Asking the server about {name}…")
        self.details.show()
        self.tasks.spawn(self._fetch_details(self.inspector, name))

    async def _fetch_details(self, inspector: ModelInspector, name: str) -> None:
        size = next((m.size for m in self.catalog.models if m.name == name), None)
        facts = await inspector.details(name, size)
        if facts is not None and self.selected_model() == name:
            self.details.setText(self._describe_facts(facts))

    @staticmethod
    def _describe_facts(facts: ModelFacts) -> str:
        context = f"{facts.context_length:,} tokens" if facts.context_length else "not reported"
        size = human_bytes(facts.size) if facts.size is not None else "unknown"
        first = [
            f"Family: {facts.family or 'unknown'}",
            f"Parameters: {facts.parameter_size or 'unknown'}",
            f"Quantization: {facts.quantization or 'unknown'}",
            f"Size on disk: {size}",
        ]
        second = [
            f"Context length: {context}",
            f"Capabilities: {', '.join(facts.capabilities) or 'none reported'}",
        ]
        return f"{facts.name} — " + " · ".join(first) + "\n" + " · ".join(second)

    def showEvent(self, event: QShowEvent) -> None:
        """Refresh what is loaded when the tab is shown, then every few seconds."""
        super().showEvent(event)
        if self.inspector is not None:
            self.refresh_loaded()
            self._loaded_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._loaded_timer.stop()

    def refresh_loaded(self) -> None:
        if self.inspector is None or self._loaded_refreshing:
            return  # one request at a time: a slow host must not pile them up
        self._loaded_refreshing = True
        self.tasks.spawn(self._refresh_loaded(self.inspector))

    async def _refresh_loaded(self, inspector: ModelInspector) -> None:
        try:
            await inspector.refresh_loaded()
        finally:
            self._loaded_refreshing = False

    def set_loaded(self, models: list[RunningModel]) -> None:
        selected = self.selected_loaded()
        self.loaded_table.setRowCount(len(models))
        for row, model in enumerate(models):
            cells = [
                model.name,
                human_bytes(model.size),
                human_bytes(model.size_vram),
                unloads_in(model.expires_at),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.loaded_table.setItem(row, column, item)
            if model.name == selected:
                self.loaded_table.selectRow(row)
        if not models:
            self.loaded_message.setText("No model is loaded in memory.")
        else:
            self.loaded_message.clear()
        self._loaded_selection_changed()

    def selected_loaded(self) -> str:
        rows = self.loaded_table.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self.loaded_table.item(rows[0].row(), 0)
        return item.text() if item is not None else ""

    def _loaded_selection_changed(self) -> None:
        self.unload_button.setEnabled(bool(self.selected_loaded()))

    def unload_selected(self) -> None:
        """Unload the selected model now (`keep_alive: 0`); the list refreshes after."""
        name = self.selected_loaded()
        if not name or self.inspector is None:
            return
        self.unload_button.setEnabled(False)
        self.loaded_message.setText(f"Unloading {name}…")
        self.tasks.spawn(self.inspector.unload(name))

    def ask_delete(self) -> None:
        """Ask before deleting (a window-modal box opened, not exec'd: the loop keeps running)."""
        name = self.selected_model()
        if not name:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete model",
            f"Delete {name}? Its files are removed from the server's disk.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAccessibleName("Confirm delete")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda result: self._delete_answered(name, result))
        self._confirm = box
        box.open()

    def _delete_answered(self, name: str, result: int) -> None:
        box, self._confirm = self._confirm, None
        if box is not None:
            box.deleteLater()
        if result == QMessageBox.StandardButton.Yes:
            self.message.setText(f"Deleting {name}…")
            self.tasks.spawn(self._delete(name))

    async def _delete(self, name: str) -> None:
        if await self.catalog.delete(name):
            self.message.setText(f"Deleted {name}.")
