"""The downloads panel of the Models page: the shown download with its controls, and the list.

It takes no space when there is nothing to show. Progress is repainted by a
50 ms timer from the jobs' state (at most 20 paints a second), never per
progress line: a fast pull must not flood the UI.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.core.downloads import DownloadManager, JobState, PullJob, SavedPull
from launcher.ui.format import human_bytes, human_duration

REPAINT_INTERVAL_MS = 50
LIST_ROWS = 4  # the list grows to this many rows, then scrolls


def describe(job: PullJob) -> str:
    """The status line of a download: what it does, how far, how fast, how long."""
    progress = job.progress
    text = f"{job.model}: {job.status_text()}"
    if job.state is JobState.RUNNING and progress.total:
        text += f" — {human_bytes(progress.completed)} of {human_bytes(progress.total)}"
        if progress.speed:
            text += f", {human_bytes(progress.speed)}/s"
        if progress.eta is not None and progress.speed:
            text += f", {human_duration(progress.eta)} left"
    elif job.state is JobState.CANCELLED and progress.completed:
        text += f" — {human_bytes(progress.completed)} kept; pulling it again resumes"
    return text


class DownloadsPanel(QFrame):
    """The shown download (bar, status, Pause/Resume, Cancel, Dismiss, layers) and the list.

    Signals:
        summaryChanged(str, int): the shown download and its progress in per mille
            (-1 when none runs), for the window's status bar.
        jobSucceeded(object): a PullJob finished well.
        jobFailed(object): a PullJob failed (the page keeps the name and says why).
    """

    summaryChanged = Signal(str, int)
    jobSucceeded = Signal(object)
    jobFailed = Signal(object)

    def __init__(self, downloads: DownloadManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.downloads = downloads
        self.repaints = 0
        self.setFrameShape(QFrame.Shape.StyledPanel)

        self.resume_banner = QFrame(self)
        self.resume_text = QLabel(self.resume_banner)
        self.resume_text.setAccessibleName("Saved downloads")
        self.resume_saved_button = QPushButton("&Resume them", self.resume_banner)
        self.resume_saved_button.setAccessibleName("Resume saved downloads")
        self.forget_saved_button = QPushButton("Forget them", self.resume_banner)
        self.forget_saved_button.setAccessibleName("Forget saved downloads")
        banner = QHBoxLayout(self.resume_banner)
        banner.setContentsMargins(0, 0, 0, 0)
        banner.addWidget(self.resume_text, 1)
        banner.addWidget(self.resume_saved_button)
        banner.addWidget(self.forget_saved_button)
        self.resume_banner.hide()

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.progress_text = QLabel(self)
        self.progress_text.setAccessibleName("Download status")
        self.progress_text.setTextFormat(Qt.TextFormat.PlainText)
        self.progress_text.setWordWrap(True)
        self.pause_button = QPushButton("Pau&se", self)
        self.pause_button.setAccessibleName("Pause download")
        self.resume_button = QPushButton("Resu&me", self)
        self.resume_button.setAccessibleName("Resume download")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel pull")
        self.cancel_button.setToolTip("Stop this download (pulling it again resumes)")
        self.dismiss_button = QPushButton("D&ismiss", self)
        self.dismiss_button.setAccessibleName("Dismiss download")
        self.layers_toggle = QToolButton(self)
        self.layers_toggle.setText("Layers")
        self.layers_toggle.setAccessibleName("Show layers")
        self.layers_toggle.setCheckable(True)
        self.layers_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.layers_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.layers_box = QWidget(self)
        self.layers_layout = QFormLayout(self.layers_box)
        self.layers_layout.setContentsMargins(16, 0, 0, 0)
        self.layers_box.hide()
        self._layer_bars: dict[str, QProgressBar] = {}
        self.queue = QListWidget(self)
        self.queue.setAccessibleName("Downloads")
        self.clear_button = QPushButton("Clear finished", self)
        self.clear_button.setAccessibleName("Clear finished downloads")

        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        for button in (self.pause_button, self.resume_button, self.cancel_button):
            row.addWidget(button)
        status_row = QHBoxLayout()
        status_row.addWidget(self.progress_text, 1)
        status_row.addWidget(self.dismiss_button)
        status_row.addWidget(self.layers_toggle)
        list_row = QHBoxLayout()
        list_row.addWidget(self.queue, 1)
        list_row.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addWidget(self.resume_banner)
        layout.addLayout(row)
        layout.addLayout(status_row)
        layout.addWidget(self.layers_box)
        layout.addLayout(list_row)

        self._timer = QTimer(self)
        self._timer.setInterval(REPAINT_INTERVAL_MS)
        self._timer.timeout.connect(self._repaint)
        self._dirty = False
        self._shown: PullJob | None = None
        self._offered: list[SavedPull] = []

        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel)
        self.dismiss_button.clicked.connect(self.dismiss)
        self.clear_button.clicked.connect(self.clear_finished)
        self.layers_toggle.toggled.connect(self._toggle_layers)
        self.queue.currentRowChanged.connect(self._row_chosen)
        self.resume_saved_button.clicked.connect(self._resume_saved)
        self.forget_saved_button.clicked.connect(self._forget_saved)
        downloads.jobAdded.connect(self._on_job_added)
        downloads.jobFinished.connect(self._on_job_finished)
        downloads.jobRemoved.connect(self._on_job_removed)
        downloads.resumable.connect(self.offer)
        self._update_visibility()
        if downloads.offered:  # restored before this panel existed
            self.offer(downloads.offered)

    # ---- commands -------------------------------------------------------

    @property
    def shown(self) -> PullJob | None:
        return self._shown

    def cancel(self) -> None:
        """Cancel the shown download (the connection closes now)."""
        job = self._shown
        if job is not None and (job.active or job.state is JobState.PAUSED):
            self.downloads.cancel(job)
        self._refresh_now()

    def pause(self) -> None:
        if self._shown is not None and self._shown.active:
            self.downloads.pause(self._shown)
        self._refresh_now()

    def resume(self) -> None:
        if self._shown is not None and not self._shown.active:
            self.downloads.resume(self._shown)
            self._timer.start()
        self._refresh_now()

    def dismiss(self) -> None:
        if self._shown is not None and self._shown.dismissible:
            self.downloads.dismiss(self._shown)

    def clear_finished(self) -> None:
        for job in [j for j in self.downloads.jobs if j.dismissible]:
            self.downloads.dismiss(job)

    def offer(self, saved: list[SavedPull]) -> None:
        """'Resume 2 downloads?' for the pulls saved by the last session."""
        self._offered = list(saved)
        names = ", ".join(p.model for p in saved[:3]) + ("…" if len(saved) > 3 else "")
        count = len(saved)
        noun = "download" if count == 1 else "downloads"
        self.resume_text.setText(f"Resume {count} {noun}? ({names}, from last time)")
        self.resume_banner.setVisible(bool(saved))
        self._update_visibility()
        if saved and self._shown is None:  # seen from every page, in the status bar
            self.summaryChanged.emit(f"{self.resume_text.text()} (Models page)", -1)

    def _resume_saved(self) -> None:
        self.resume_banner.hide()
        self.downloads.resume_saved()
        self._update_visibility()

    def _forget_saved(self) -> None:
        self.resume_banner.hide()
        self.downloads.forget_saved()
        self._update_visibility()
        self._refresh_now()

    # ---- following the jobs ---------------------------------------------

    def _on_job_added(self, job: PullJob) -> None:
        job.changed.connect(self._mark_dirty)
        item = QListWidgetItem(f"{job.model}: {job.status_text()}")
        item.setData(Qt.ItemDataRole.UserRole, id(job))
        self.queue.addItem(item)
        if self._shown is None or not self._shown.active:
            self.queue.setCurrentRow(-1)  # the new download takes the stage
            self._show_job(job)
        self._update_visibility()
        self._dirty = True
        self._timer.start()

    def _on_job_finished(self, job: PullJob) -> None:
        self._refresh_now()
        if job.state is JobState.DONE:
            self.jobSucceeded.emit(job)
        elif job.state is JobState.FAILED:
            self.jobFailed.emit(job)
        if not any(j.active for j in self.downloads.jobs):
            self._timer.stop()

    def _on_job_removed(self, job: PullJob) -> None:
        for row in range(self.queue.count()):
            item = self.queue.item(row)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == id(job):
                self.queue.takeItem(row)
                break
        if job is self._shown:
            following = next((j for j in self.downloads.jobs if j.active), None)
            following = following or (self.downloads.jobs[-1] if self.downloads.jobs else None)
            self._show_job(following)
        self._update_visibility()
        self._refresh_now()

    def _row_chosen(self, row: int) -> None:
        if 0 <= row < len(self.downloads.jobs) and self.downloads.jobs[row] is not self._shown:
            self._show_job(self.downloads.jobs[row])
            self._refresh_now()

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _refresh_now(self) -> None:
        self._dirty = True
        self._repaint()

    def _show_job(self, job: PullJob | None) -> None:
        self._shown = job
        for bar in self._layer_bars.values():
            self.layers_layout.removeRow(bar)
        self._layer_bars.clear()

    def _toggle_layers(self, on: bool) -> None:
        self.layers_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self._refresh_now()

    def _update_visibility(self) -> None:
        """No space taken when nothing is downloading and nothing is to be offered."""
        has_jobs = bool(self.downloads.jobs)
        self.setVisible(has_jobs or not self.resume_banner.isHidden())
        for widget in (self.progress, self.progress_text, self.queue, self.layers_toggle):
            widget.setVisible(has_jobs)
        self.queue.setVisible(len(self.downloads.jobs) > 1)
        self.clear_button.setVisible(len(self.downloads.jobs) > 1)
        rows = min(max(len(self.downloads.jobs), 1), LIST_ROWS)
        self.queue.setFixedHeight(rows * self.queue.fontMetrics().height() + 12)

    # ---- painting -------------------------------------------------------

    def _repaint(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.repaints += 1
        current = self.downloads.current
        if current is not None and current is not self._shown and not self._user_picked():
            self._show_job(current)
        for row, item_job in enumerate(self.downloads.jobs):
            item = self.queue.item(row)
            if item is not None:
                item.setText(f"{item_job.model}: {item_job.status_text()}")
        self.clear_button.setEnabled(any(j.dismissible for j in self.downloads.jobs))
        job = self._shown
        if job is None:
            self.summaryChanged.emit("", -1)
            for button in (self.pause_button, self.resume_button, self.cancel_button):
                button.hide()
            self.dismiss_button.hide()
            return
        self._paint_job(job)

    def _user_picked(self) -> bool:
        """The user chose an item in the list: keep showing it (to pause, resume or
        dismiss it) until it is dismissed or another download is added."""
        row = self.queue.currentRow()
        jobs = self.downloads.jobs
        return self._shown is not None and 0 <= row < len(jobs) and jobs[row] is self._shown

    def _paint_job(self, job: PullJob) -> None:
        progress = job.progress
        value = int(progress.overall * 1000)
        live = job.active or job.state is JobState.PAUSED
        self.progress.setVisible(live)
        self.progress.setValue(value)
        self.progress.setEnabled(job.state is not JobState.PAUSED)  # grey while paused
        self.progress.setAccessibleDescription(f"{progress.overall * 100:.0f}% of {job.model}")
        self.progress_text.setText(describe(job))
        self.pause_button.setVisible(job.active)
        self.resume_button.setVisible(job.state in (JobState.PAUSED, JobState.FAILED))
        self.cancel_button.setVisible(live)
        self.cancel_button.setEnabled(live)
        self.dismiss_button.setVisible(job.dismissible)
        self.summaryChanged.emit(f"{job.model}: {job.status_text()}", value if job.active else -1)
        self.layers_toggle.setVisible(bool(progress.layers) and live)
        wanted = self.layers_toggle.isChecked() and bool(progress.layers)
        self.layers_box.setVisible(wanted)
        if not wanted:
            return
        for digest, layer in progress.layers.items():
            bar = self._layer_bars.get(digest)
            if bar is None:
                bar = QProgressBar(self.layers_box)
                bar.setRange(0, 1000)
                bar.setAccessibleName(f"Layer: {layer.label}")
                self._layer_bars[digest] = bar
                self.layers_layout.addRow(layer.label, bar)
            bar.setValue(int(layer.fraction * 1000))
