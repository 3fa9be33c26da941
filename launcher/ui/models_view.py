"""The Models tab: pull with honest progress, a download queue, installed models, delete.

Progress is repainted by a 50 ms timer from the jobs' state (at most 20 paints
a second), never per progress line: a fast pull must not flood the UI.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
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
from launcher.core.models import ModelCatalog
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import ModelInfo
from launcher.ui.format import human_bytes, human_duration

REPAINT_INTERVAL_MS = 50


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
    ) -> None:
        super().__init__(parent)
        self.downloads = downloads
        self.catalog = catalog
        self.tasks = tasks
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

        pull_row = QHBoxLayout()
        pull_label = QLabel("Model to &pull:", self)
        pull_label.setBuddy(self.pull_name)
        pull_row.addWidget(pull_label)
        pull_row.addWidget(self.pull_name, 1)
        pull_row.addWidget(self.pull_button)
        pull_row.addWidget(self.cancel_button)
        installed_row = QHBoxLayout()
        installed_row.addWidget(self.message, 1)
        installed_row.addWidget(self.refresh_button)
        installed_row.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addLayout(pull_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.layers_box)
        layout.addWidget(self.queue)
        layout.addWidget(QLabel("Installed models:", self))
        layout.addWidget(self.table, 1)
        layout.addLayout(installed_row)

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
