"""The conversations sidebar: search, list (newest first), new, rename, delete with undo,
export and import. It only emits what the user asked for; the window wires it to
the history."""

from __future__ import annotations

import datetime
import time

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.core.conversation import ConversationSummary
from launcher.core.when import short_date_from_timestamp

UNDO_SECONDS = 10
SEARCH_DEBOUNCE_MS = 200
UNTITLED = "New chat"
DATE_ROLE = Qt.ItemDataRole.UserRole + 1


class DatedItemDelegate(QStyledItemDelegate):
    """Paints a row's title (elided) with its date right-aligned in a quieter colour."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        when = index.data(DATE_ROLE)
        if not isinstance(when, str) or not when:
            super().paint(painter, option, index)
            return
        date_width = option.fontMetrics.horizontalAdvance(when) + 12
        title_option = QStyleOptionViewItem(option)
        self.initStyleOption(title_option, index)
        title_option.rect = option.rect.adjusted(0, 0, -date_width, 0)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        # The background and selection span the whole row; the title leaves room for the date.
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        title_option.state &= ~QStyle.StateFlag.State_HasFocus
        super().paint(painter, title_option, index)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = (
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText
        )
        painter.save()
        painter.setPen(option.palette.color(role))
        painter.drawText(
            option.rect.adjusted(0, 0, -6, 0),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            when,
        )
        painter.restore()


class ConversationsSidebar(QWidget):
    """Signals:
    activated(int): open this conversation.
    newChatRequested(): start an empty conversation.
    searchChanged(str): the search text, after the user paused typing.
    renameRequested(int, str), deleteRequested(int), undoRequested(int).
    exportRequested(int, str): conversation id and "markdown" or "json".
    importRequested().
    """

    activated = Signal(int)
    newChatRequested = Signal()
    searchChanged = Signal(str)
    renameRequested = Signal(int, str)
    deleteRequested = Signal(int)
    undoRequested = Signal(int)
    exportRequested = Signal(int, str)
    importRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setAccessibleName("Search conversations")
        self.search.setPlaceholderText("Search titles and text")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Conversations")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setItemDelegate(DatedItemDelegate(self.list))
        self.new_button = QPushButton("New chat", self)
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.rename_button = QToolButton(self)
        self.rename_button.setText("Rename")
        self.rename_button.setAccessibleName("Rename conversation")
        self.rename_button.setToolTip("Rename (F2)")
        self.delete_button = QToolButton(self)
        self.delete_button.setText("Delete")
        self.delete_button.setAccessibleName("Delete conversation")
        self.delete_button.setToolTip("Delete (Del); you can undo for a few seconds")
        self.undo_button = QPushButton("Undo delete", self)
        self.undo_button.setAccessibleName("Undo delete")
        self.undo_button.hide()
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setAccessibleName("Export conversation")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("As Markdown…", lambda: self.export_current("markdown"))
        menu.addAction("As JSON (re-importable)…", lambda: self.export_current("json"))
        self.export_button.setMenu(menu)
        self.import_button = QToolButton(self)
        self.import_button.setText("Import")
        self.import_button.setAccessibleName("Import conversation")

        # Two rows of two: the sidebar stays narrow enough to sit beside the chat
        # in a small window.
        actions = QGridLayout()
        for index, button in enumerate(
            (self.rename_button, self.delete_button, self.export_button, self.import_button)
        ):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            actions.addWidget(button, index // 2, index % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.undo_button)
        layout.addLayout(actions)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.searchChanged.emit(self.search.text()))
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_SECONDS * 1000)
        self._undo_timer.timeout.connect(self.undo_button.hide)
        self._deleted: int | None = None
        self._current: int | None = None
        self._filling = False
        self._summaries: list[ConversationSummary] = []
        self._dated_on = datetime.date.today()
        # "Today 14:02" becomes "Yesterday" at midnight: re-date the rows when the day changes.
        self._day_timer = QTimer(self)
        self._day_timer.setInterval(60_000)
        self._day_timer.timeout.connect(self._redate_if_new_day)
        self._day_timer.start()

        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.new_button.clicked.connect(self.newChatRequested.emit)
        self.list.currentItemChanged.connect(self._on_current)
        self.rename_button.clicked.connect(self.rename_current)
        self.delete_button.clicked.connect(self.delete_current)
        self.undo_button.clicked.connect(self._undo)
        self.import_button.clicked.connect(self.importRequested.emit)
        for keys, slot in (("F2", self.rename_current), ("Del", self.delete_current)):
            shortcut = QShortcut(QKeySequence(keys), self.list)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

    # ---- the list -------------------------------------------------------

    def set_conversations(
        self, summaries: list[ConversationSummary], now: float | None = None
    ) -> None:
        """Show these rows (newest first) with when each was last used, keeping the
        current one selected. `now` is the clock to date them by (default: now)."""
        now = time.time() if now is None else now
        self._summaries = list(summaries)
        self._dated_on = datetime.date.fromtimestamp(now)
        self._filling = True
        try:
            self.list.clear()
            for summary in summaries:
                title = summary.title or UNTITLED
                when = short_date_from_timestamp(summary.updated_at, now)
                item = QListWidgetItem(title)
                item.setData(Qt.ItemDataRole.UserRole, summary.id)
                item.setData(DATE_ROLE, when)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{title}, {when}")
                item.setToolTip(f"{title}\n{summary.model}\nLast used: {when}")
                self.list.addItem(item)
            self.select(self._current)
        finally:
            self._filling = False
        self._update_buttons()

    def _redate_if_new_day(self) -> None:
        if datetime.date.today() != self._dated_on and self._summaries:
            self.set_conversations(self._summaries)

    def select(self, conv_id: int | None) -> None:
        """Mark `conv_id` as the open conversation (None: a new, unsaved one)."""
        self._current = conv_id
        was, self._filling = self._filling, True
        try:
            self.list.setCurrentRow(-1)
            for row in range(self.list.count()):
                item = self.list.item(row)
                if item.data(Qt.ItemDataRole.UserRole) == conv_id:
                    self.list.setCurrentItem(item)
                    break
        finally:
            self._filling = was
        self._update_buttons()

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, int) else None

    def _on_current(self, current: QListWidgetItem | None, _previous: object) -> None:
        self._update_buttons()
        if self._filling or current is None:
            return
        conv_id = current.data(Qt.ItemDataRole.UserRole)
        if isinstance(conv_id, int) and conv_id != self._current:
            self._current = conv_id
            self.activated.emit(conv_id)

    def _update_buttons(self) -> None:
        has = self.current_id() is not None
        for button in (self.rename_button, self.delete_button, self.export_button):
            button.setEnabled(has)

    # ---- actions --------------------------------------------------------

    def rename_current(self) -> None:
        conv_id = self.current_id()
        item = self.list.currentItem()
        if conv_id is None or item is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename conversation")
        dialog.setLabelText("Title:")
        dialog.setTextValue(item.text())
        dialog.setAccessibleName("Rename conversation dialog")
        # Wide enough for its title: a QInputDialog sizes itself to its short label
        # and field (its layout overrides a minimum width), and the title is cut off.
        title_width = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
        field = dialog.findChild(QLineEdit)
        if field is not None:
            field.setMinimumWidth(max(320, title_width + 140))
        dialog.textValueSelected.connect(
            lambda text: self.renameRequested.emit(conv_id, text.strip())
        )
        dialog.finished.connect(dialog.deleteLater)
        self.rename_dialog = dialog
        dialog.open()

    def delete_current(self) -> None:
        conv_id = self.current_id()
        if conv_id is None:
            return
        self._deleted = conv_id
        self.deleteRequested.emit(conv_id)
        self.undo_button.show()
        self._undo_timer.start()

    def _undo(self) -> None:
        if self._deleted is not None:
            self.undoRequested.emit(self._deleted)
            self._deleted = None
        self.undo_button.hide()

    def export_current(self, fmt: str) -> None:
        """Ask to export the selected conversation as "markdown" or "json"."""
        conv_id = self.current_id()
        if conv_id is not None:
            self.exportRequested.emit(conv_id, fmt)
