"""File > Restore from backup…: the list of automatic backups, and restoring one after a yes.

The window's File menu calls `open_restore_dialog(parent, launcher)`. The list is
read and the restore runs in the core (off the Qt thread); the dialog only shows
them. Nothing here waits in a nested event loop: the dialog and its confirmation
are opened with `open()`, and the work runs as launcher tasks.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from launcher.core.backups import BackupInfo
from launcher.core.explain import explain
from launcher.core.launcher import Launcher

_REASONS = {"": "daily", "restore": "before a restore"}


def describe(backup: BackupInfo) -> str:
    """One line of the list: when, how many conversations, why it was made."""
    when = backup.taken.strftime("%a %d %b %Y, %H:%M")
    if backup.conversations is None:
        count = "cannot be read"
    else:
        count = f"{backup.conversations} conversation{'s' if backup.conversations != 1 else ''}"
    reason = _REASONS.get(backup.reason)
    if reason is None:
        version = backup.reason.removeprefix("v")
        reason = f"before an upgrade from version {version}"
    return f"{when} — {count} ({reason})"


class RestoreDialog(QDialog):
    """Lists the backups, newest first; Restore replaces every conversation after a yes."""

    def __init__(self, launcher: Launcher, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.launcher = launcher
        self.setWindowTitle("Restore from backup")
        self.setAccessibleName("Restore from backup")
        self.intro = QLabel(
            "The launcher copies your conversations once a day and before every upgrade. "
            "Restoring one replaces all conversations; the current ones are kept as a "
            "backup first.",
            self,
        )
        self.intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Backups")
        self.message = QLabel("Looking for backups…", self)
        self.message.setAccessibleName("Backup status")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.restore_button = QPushButton("&Restore…", self)
        self.restore_button.setAccessibleName("Restore")
        self.restore_button.setEnabled(False)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        self.restore_button.clicked.connect(self.confirm)
        self.list.currentItemChanged.connect(self._selection)
        self.list.itemActivated.connect(lambda _item: self.confirm())
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setTabOrder(self.list, self.restore_button)
        self.setTabOrder(self.restore_button, close)
        self.resize(560, 380)
        self.confirmation: QMessageBox | None = None
        self.launcher.tasks.spawn(self.reload())

    async def reload(self) -> None:
        try:
            found = await self.launcher.history.list_backups()
        except Exception as exc:  # shown, not raised: the dialog stays usable
            if shiboken6.isValid(self):
                self.message.setText(explain(exc).headline)
            return
        if not shiboken6.isValid(self):  # closed meanwhile
            return
        self.list.clear()
        for backup in found:
            item = QListWidgetItem(describe(backup), self.list)
            item.setData(Qt.ItemDataRole.UserRole, str(backup.path))
            if backup.conversations is None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        self.message.setText("" if found else "There are no backups yet.")
        if found:
            self.list.setCurrentRow(0)
            self.list.setFocus()

    def _selection(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        self.restore_button.setEnabled(
            item is not None and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
        )

    def selected(self) -> Path | None:
        item = self.list.currentItem()
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        return Path(str(item.data(Qt.ItemDataRole.UserRole)))

    def confirm(self) -> None:
        """Ask before replacing everything (a window-modal box, opened, not exec'd)."""
        backup = self.selected()
        if backup is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore this backup?",
            f"Replace all conversations with the backup of "
            f"{self.list.currentItem().text()}?\n\nThe current conversations are kept as a "
            "backup first, so this can be undone by restoring that one.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setAccessibleName("Confirm restore")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(
            lambda result: self._answered(backup, result == QMessageBox.StandardButton.Yes)
        )
        self.confirmation = box
        box.open()

    def _answered(self, backup: Path, yes: bool) -> None:
        self.confirmation = None
        if yes:
            self.restore_button.setEnabled(False)
            self.message.setText("Restoring…")
            self.launcher.tasks.spawn(self._restore(backup))

    async def _restore(self, backup: Path) -> None:
        try:
            safety = await self.launcher.restore_backup(backup)
        except Exception as exc:  # shown, not raised: nothing was changed
            if shiboken6.isValid(self):
                text = str(exc) if isinstance(exc, ValueError) else explain(exc).headline
                self.message.setText(text)
                self.restore_button.setEnabled(True)
            return
        await self.reload()
        if shiboken6.isValid(self):
            self.message.setText(
                f"Restored. The conversations you had before are kept as {safety.name}."
            )


def open_restore_dialog(parent: QWidget | None, launcher: Launcher) -> RestoreDialog:
    """Show the restore dialog (window-modal, non-blocking) and return it."""
    dialog = RestoreDialog(launcher, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
