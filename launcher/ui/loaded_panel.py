"""The "Loaded in memory now" panel: what `/api/ps` reports, with memory, VRAM and Unload.

Refreshed when the Models page is shown and every 5 s while it is visible only:
nobody reads it otherwise. For a host that cannot be reached it says so
rather than "nothing loaded".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.core.inspector import ModelInspector, unloads_in
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import RunningModel
from launcher.ui.format import human_bytes

LOADED_REFRESH_MS = 5000
NOTHING_LOADED = "No model is loaded in memory."


class LoadedModelsPanel(QWidget):
    """The loaded models table, its message and Unload."""

    def __init__(
        self, inspector: ModelInspector, tasks: BackgroundTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.inspector = inspector
        self.tasks = tasks
        self.table = QTableWidget(0, 4, self)
        self.table.setAccessibleName("Loaded models")
        self.table.setHorizontalHeaderLabels(["Name", "Memory", "VRAM", "Unloads"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.hide()
        self.unload_button = QPushButton("Unload", self)
        self.unload_button.setAccessibleName("Unload model")
        self.unload_button.setToolTip("Free the memory the selected model uses now")
        self.unload_button.setEnabled(False)
        self.message = QLabel(self)
        self.message.setAccessibleName("Loaded models message")
        self.message.setWordWrap(True)
        title = QLabel("&Loaded in memory now:", self)
        title.setBuddy(self.table)

        row = QHBoxLayout()
        row.addWidget(title)
        row.addWidget(self.message, 1)
        row.addWidget(self.unload_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)

        self._timer = QTimer(self)
        self._timer.setInterval(LOADED_REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._refreshing = False
        self.unload_button.clicked.connect(self.unload_selected)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        inspector.loadedChanged.connect(self.set_loaded)
        inspector.failed.connect(self.message.setText)

    def start(self) -> None:
        """The page is shown: ask now, then every few seconds."""
        self.refresh()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        if self._refreshing:
            return  # one request at a time: a slow host must not pile them up
        self._refreshing = True
        self.tasks.spawn(self._refresh())

    async def _refresh(self) -> None:
        try:
            await self.inspector.refresh_loaded()
        finally:
            self._refreshing = False

    def set_loaded(self, models: list[RunningModel]) -> None:
        selected = self.selected()
        self.table.setRowCount(len(models))
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
                self.table.setItem(row, column, item)
            if model.name == selected:
                self.table.selectRow(row)
        self.table.setVisible(bool(models))
        rows = min(len(models), 3)
        frame = 2 * self.table.frameWidth() + self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(frame + rows * self.table.verticalHeader().defaultSectionSize())
        self.message.setText("" if models else NOTHING_LOADED)
        self._selection_changed()

    def selected(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item is not None else ""

    def _selection_changed(self) -> None:
        self.unload_button.setEnabled(bool(self.selected()))

    def unload_selected(self) -> None:
        """Unload the selected model now (`keep_alive: 0`); the list refreshes after."""
        name = self.selected()
        if not name:
            return
        self.unload_button.setEnabled(False)
        self.message.setText(f"Unloading {name}…")
        self.tasks.spawn(self.inspector.unload(name))
