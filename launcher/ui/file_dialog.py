"""The one file dialog of a place: opened (the event loop keeps running), never two at once."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QWidget


class FileDialogSlot:
    """Holds the file dialog a place has open; asking again raises it instead of a second one.

    The dialog is window-modal and opened with `open()`, never `exec()`: a nested event loop
    inside a coroutine would freeze the launcher's tasks. It is deleted when it closes.
    """

    def __init__(self) -> None:
        self.dialog: QFileDialog | None = None

    def new(self, parent: QWidget, title: str, directory: str = "") -> QFileDialog | None:
        """A dialog to set up and `open()`, or None when one is open already (it is raised)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return None
        dialog = QFileDialog(parent, title, directory)
        dialog.setAccessibleName(title)
        dialog.finished.connect(self._closed)
        self.dialog = dialog
        return dialog

    def _closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
