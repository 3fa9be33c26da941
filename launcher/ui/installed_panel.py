"""The installed models panel: the main content of the Models page.

Name, size, family, parameters, quantization, capabilities as small tags and
the modified date, with Details, Update, Update all, Refresh and Delete. A
stopped server or an unreachable host keeps the last known list, marked.
"""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.core.models import SERVER_STOPPED, ModelCatalog
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import ModelInfo
from launcher.ui.format import human_bytes

COLUMNS = ["Name", "Size", "Family", "Parameters", "Quant.", "Capabilities", "Modified"]
CAPABILITIES_COLUMN = 5
TAG_STYLE = "background-color:palette(alternate-base); color:palette(text);"


def tags_html(capabilities: tuple[str, ...]) -> str:
    """Capabilities as small tags (escaped: the words come from the server)."""
    return " ".join(
        f'<span style="{TAG_STYLE}">&nbsp;{html.escape(c)}&nbsp;</span>' for c in capabilities
    )


def modified_text(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d") if when is not None else ""


class InstalledModelsPanel(QWidget):
    """The installed models table and its buttons.

    Signals:
        detailsRequested(str): the user asked for the details of a model.
        updateRequested(str): re-pull one model ("Update").
        updateAllRequested(list): re-pull every installed model ("Update all").
    """

    detailsRequested = Signal(str)
    updateRequested = Signal(str)
    updateAllRequested = Signal(list)

    def __init__(
        self, catalog: ModelCatalog, tasks: BackgroundTasks, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.tasks = tasks
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setAccessibleName("Installed models")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.stale = QLabel(self)
        self.stale.setAccessibleName("Models list status")
        self.stale.setWordWrap(True)
        self.stale.hide()
        self.message = QLabel(self)
        self.message.setAccessibleName("Models message")
        self.message.setWordWrap(True)
        self.details_button = QPushButton("&Details", self)
        self.details_button.setAccessibleName("Model details")
        self.details_button.setToolTip("Family, parameters, context length, capabilities")
        self.update_button = QPushButton("&Update", self)
        self.update_button.setAccessibleName("Update model")
        self.update_button.setToolTip("Download the newest version of the selected model")
        self.update_all_button = QPushButton("Update &all", self)
        self.update_all_button.setAccessibleName("Update all models")
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setAccessibleName("Refresh models")
        self.delete_button = QPushButton("Delete model", self)
        self.delete_button.setAccessibleName("Delete model")
        title = QLabel("&Installed models:", self)
        title.setBuddy(self.table)

        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        for button in (
            self.details_button,
            self.update_button,
            self.update_all_button,
            self.refresh_button,
            self.delete_button,
        ):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.stale)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._confirm: QMessageBox | None = None
        self._message_is_failure = False  # a failure names its host: it stays until replaced
        self._capabilities_wanted = False
        self.details_button.clicked.connect(self._details)
        self.update_button.clicked.connect(self._update)
        self.update_all_button.clicked.connect(
            lambda: self.updateAllRequested.emit(self.catalog.names())
        )
        self.refresh_button.clicked.connect(lambda: self.tasks.spawn(self.catalog.refresh()))
        self.delete_button.clicked.connect(self.ask_delete)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self._details())
        for keys, slot in (
            (Qt.Key.Key_Delete, self.ask_delete),
            (Qt.Key.Key_Return, self._details),
        ):
            shortcut = QShortcut(QKeySequence(keys), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        catalog.modelsChanged.connect(self.set_models)
        catalog.staleChanged.connect(lambda _stale: self._show_stale())
        catalog.failed.connect(self._failed)
        self.set_models(catalog.models)

    # ---- the list -------------------------------------------------------

    def set_models(self, models: list[ModelInfo]) -> None:
        selected = self.selected_model()
        if not self._message_is_failure:
            self.message.clear()  # "Deleted X." is about the list before this one
        self.table.setRowCount(len(models))
        for row, model in enumerate(models):
            self.table.removeCellWidget(row, CAPABILITIES_COLUMN)  # it was another model's
            cells = [
                model.name,
                human_bytes(model.size),
                model.details.family,
                model.details.parameter_size,
                model.details.quantization_level,
                "",
                modified_text(model.modified_at),
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
        self._show_stale()
        if self._capabilities_wanted:
            self.load_capabilities()

    def load_capabilities(self) -> None:
        """Fill the Capabilities column (`/api/show`, cached by the catalog)."""
        self._capabilities_wanted = True
        names = self.catalog.names()
        if names and not self.catalog.stale:
            self.tasks.spawn(self._load_capabilities(names))

    async def _load_capabilities(self, names: list[str]) -> None:
        for name in names:
            capabilities = await self.catalog.capabilities(name)
            row = self._row_of(name)
            if row < 0 or not capabilities:
                continue
            label = QLabel(tags_html(capabilities))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAccessibleName(f"Capabilities of {name}")
            label.setAccessibleDescription(", ".join(capabilities))
            self.table.setCellWidget(row, CAPABILITIES_COLUMN, label)
            item = self.table.item(row, CAPABILITIES_COLUMN)
            if item is not None:
                item.setText("")
                item.setToolTip(", ".join(capabilities))
                # The column sizes itself to its items, not to cell widgets: give the
                # item the tags' width, or a model with several capabilities is cut off.
                item.setSizeHint(label.sizeHint())

    def _row_of(self, name: str) -> int:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == name:
                return row
        return -1

    def _show_stale(self) -> None:
        stale = self.catalog.stale
        count = self.table.rowCount()
        if stale and self.catalog.stale_note:
            text = " ".join(self.catalog.stale_note.split())
        elif stale == SERVER_STOPPED:
            text = (
                "The server is stopped — these are the models it had when it last ran."
                if count
                else "The server is stopped — start it to see the installed models."
            )
        elif stale:
            text = (
                "The host can't be reached — these are the models it had when last seen."
                if count
                else "The host can't be reached — its models will show once it answers."
            )
        elif not count:
            text = "No models installed yet — pull one above, for example llama3.2."
        else:
            text = ""
        self.stale.setText(text)
        self.stale.setVisible(bool(text))
        self._selection_changed()

    def selected_model(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item is not None else ""

    def _selection_changed(self) -> None:
        chosen = bool(self.selected_model())
        live = not self.catalog.stale
        self.delete_button.setEnabled(chosen and live)
        self.details_button.setEnabled(chosen and live)
        self.update_button.setEnabled(chosen and live)
        self.update_all_button.setEnabled(live and self.table.rowCount() > 0)

    def _failed(self, text: str) -> None:
        self._message_is_failure = True
        self.message.setText(text)

    def _say(self, text: str) -> None:
        self._message_is_failure = False
        self.message.setText(text)

    def _details(self) -> None:
        if name := self.selected_model():
            self.detailsRequested.emit(name)

    def _update(self) -> None:
        if name := self.selected_model():
            self.updateRequested.emit(name)

    # ---- delete ---------------------------------------------------------

    def ask_delete(self) -> None:
        """Ask before deleting (a window-modal box opened, not exec'd: the loop keeps running)."""
        name = self.selected_model()
        if not name or not self.delete_button.isEnabled() or self._confirm is not None:
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
            self._say(f"Deleting {name}…")
            self.tasks.spawn(self._delete(name))

    async def _delete(self, name: str) -> None:
        if await self.catalog.delete(name):
            self._say(f"Deleted {name}.")
