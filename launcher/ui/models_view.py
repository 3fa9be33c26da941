"""The Models page: the pull field, the downloads, build, installed, details and loaded panels.

This module only lays the panels out and connects them; each panel is its own
widget (`downloads_panel`, `installed_panel`, `details_panel`, `loaded_panel`).
A mistyped name keeps the typed text and says what was wrong.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.core.downloads import DownloadManager, PullJob
from launcher.core.inspector import ModelInspector
from launcher.core.modelbuild import ModelBuilder
from launcher.core.models import ModelCatalog
from launcher.core.tasks import BackgroundTasks
from launcher.ui.details_panel import ModelDetailsPanel
from launcher.ui.downloads_panel import DownloadsPanel
from launcher.ui.installed_panel import InstalledModelsPanel
from launcher.ui.loaded_panel import LoadedModelsPanel
from launcher.ui.modelbuild_panel import ModelBuildPanel


class ModelsPanel(QWidget):
    """The Models page.

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

        self.pull_name = QLineEdit(self)
        self.pull_name.setAccessibleName("Model to pull")
        self.pull_name.setPlaceholderText("e.g. llama3.2 or qwen3:8b")
        self.pull_button = QPushButton("Pull", self)
        self.pull_button.setAccessibleName("Pull")
        self.pull_message = QLabel(self)
        self.pull_message.setAccessibleName("Pull message")
        self.pull_message.setTextFormat(Qt.TextFormat.PlainText)
        self.pull_message.setWordWrap(True)
        self.pull_message.hide()
        self.details_toggle = QToolButton(self)
        self.details_toggle.setText("Details")
        self.details_toggle.setAccessibleName("Show pull error details")
        self.details_toggle.setCheckable(True)
        self.details_toggle.hide()
        self.error_details = QLabel(self)
        self.error_details.setAccessibleName("Pull error details")
        self.error_details.setTextFormat(Qt.TextFormat.PlainText)  # the server's own words
        self.error_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_details.setWordWrap(True)
        self.error_details.hide()
        self.download_list = DownloadsPanel(downloads, self)
        self.installed = InstalledModelsPanel(catalog, tasks, self)
        self.details = ModelDetailsPanel(self)
        self.loaded: LoadedModelsPanel | None = None
        if inspector is not None:
            self.loaded = LoadedModelsPanel(inspector, tasks, self)
        else:
            self.installed.details_button.hide()

        # Import GGUF, New model from, Copy and Rename (issue 12): one row of its own.
        self.builder = ModelBuilder(catalog, tasks, self)
        self.build_panel = ModelBuildPanel(self.builder, self.installed, self)

        pull_row = QHBoxLayout()
        pull_label = QLabel("Model to &pull:", self)
        pull_label.setBuddy(self.pull_name)
        pull_row.addWidget(pull_label)
        pull_row.addWidget(self.pull_name, 1)
        pull_row.addWidget(self.pull_button)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.installed)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(pull_row)
        message_row = QHBoxLayout()
        message_row.addWidget(self.pull_message, 1)
        message_row.addWidget(self.details_toggle, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(message_row)
        layout.addWidget(self.error_details)
        layout.addWidget(self.download_list)
        layout.addWidget(self.build_panel)
        layout.addWidget(self.splitter, 1)
        if self.loaded is not None:
            layout.addWidget(self.loaded)
        self.setTabOrder(self.pull_name, self.pull_button)

        self.pull_button.clicked.connect(self.pull)
        self.pull_name.returnPressed.connect(self.pull)
        self.pull_name.textEdited.connect(lambda _text: self._say(""))
        self.details_toggle.toggled.connect(self._show_error_details)
        self._details_text = ""
        self.download_list.summaryChanged.connect(self.summaryChanged)
        self.download_list.jobFailed.connect(self._pull_failed)
        self.installed.detailsRequested.connect(self.show_details)
        self.installed.updateRequested.connect(downloads.update)
        self.installed.updateAllRequested.connect(downloads.update_all)
        self.installed.table.itemSelectionChanged.connect(self._selection_changed)
        if inspector is not None:
            inspector.detailsFailed.connect(self.details.show_failure)

    # ---- shortcuts to the panels' parts (tests and the window use them) --

    @property
    def table(self) -> QTableWidget:
        return self.installed.table

    @property
    def progress(self) -> QProgressBar:
        return self.download_list.progress

    @property
    def progress_text(self) -> QLabel:
        return self.download_list.progress_text

    @property
    def cancel_button(self) -> QPushButton:
        return self.download_list.cancel_button

    @property
    def repaints(self) -> int:
        return self.download_list.repaints

    # ---- pulling --------------------------------------------------------

    def pull(self) -> None:
        name = self.pull_name.text().strip()
        if not name:
            self._say("Type the name of a model to pull, for example llama3.2.")
            return
        self._say("")
        paused = [j for j in self.downloads.jobs if j.model == name and not j.active]
        if self.downloads.pull(name) is None and not paused:
            self._say(f"{name} is already being downloaded.")
            return
        self.pull_name.clear()  # free for the next name; a failure puts it back

    def _say(self, text: str, details: str = "") -> None:
        """A message under the name box; technical details only behind "Details"."""
        self.pull_message.setText(text)
        self.pull_message.setVisible(bool(text))
        self._details_text = details
        self.details_toggle.setVisible(bool(details))
        self.details_toggle.setChecked(False)
        self._show_error_details(False)

    def _show_error_details(self, shown: bool) -> None:
        # The text is set only while shown: nothing technical sits in a hidden widget.
        self.error_details.setText(self._details_text if shown else "")
        self.error_details.setVisible(shown)

    def _pull_failed(self, job: PullJob) -> None:
        """Keep the typed name and say what was wrong, next to it."""
        if self.pull_name.text().strip() in ("", job.model):
            self.pull_name.setText(job.model)
            self._say(job.error, job.details)
            self.pull_name.setFocus()

    # ---- details and loaded models --------------------------------------

    def selected_model(self) -> str:
        return self.installed.selected_model()

    def show_details(self, name: str = "") -> None:
        """Fetch `/api/show` for the model and show what matters in the side panel."""
        name = name or self.selected_model()
        if not name or self.inspector is None:
            return
        self.details.asking(name)
        self.tasks.spawn(self._fetch_details(self.inspector, name))

    async def _fetch_details(self, inspector: ModelInspector, name: str) -> None:
        size = next((m.size for m in self.catalog.models if m.name == name), None)
        facts = await inspector.details(name, size)
        if facts is not None:
            self.details.show_facts(facts)

    def _selection_changed(self) -> None:
        selected = self.selected_model()
        if not self.details.isHidden() and selected and selected != self.details.model:
            self.show_details(selected)  # the panel follows the selection

    def showEvent(self, event: QShowEvent) -> None:
        """Refresh what is loaded when the page is shown, then every few seconds."""
        super().showEvent(event)
        self.installed.load_capabilities()
        if self.loaded is not None:
            self.loaded.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if self.loaded is not None:
            self.loaded.stop()
