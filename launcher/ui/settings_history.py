"""Settings > History: the folder where every conversation is also kept as a Markdown file.

The folder is typed or picked with Choose… (a window-modal dialog opened with
`open()`, its answer taken by a callback: the event loop never waits inside
it); Clear turns the copies off. `check()` tries the folder off the Qt thread
before the settings are saved, so a folder that does not exist or cannot be
written is refused with words for a person, and the old choice stays.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from launcher.config import Settings
from launcher.core.mirror import check_folder
from launcher.ui.file_dialog import FileDialogSlot
from launcher.ui.settings_common import buddy_label, named
from launcher.ui.settings_common import row as field_row


class HistoryPage(QWidget):
    """The continuous Markdown export; `apply_to()` writes the choice into a settings copy.

    Attributes:
        file_dialog: holds the Choose… dialog while it is open.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = QLineEdit(self)
        named(
            self.folder,
            "Markdown export folder",
            "Every conversation is also written here as a Markdown file, updated when it changes",
        )
        self.folder.setPlaceholderText("Off: conversations are kept in the launcher only")
        self.choose = QPushButton("&Choose…", self)
        named(self.choose, "Choose Markdown export folder")
        self.clear = QPushButton("Cl&ear", self)
        named(self.clear, "Turn off the Markdown export", "Stop writing Markdown copies")
        self.note = QLabel(
            "For notes apps and sync tools: each conversation becomes a file named after its "
            "title, rewritten whenever it changes. Files of deleted conversations are left in "
            "the folder. Choosing a folder writes every conversation there at once.",
            self,
        )
        self.note.setWordWrap(True)
        named(self.note, "Markdown export note")
        self.file_dialog = FileDialogSlot()
        form = QFormLayout(self)
        form.addRow(
            buddy_label(self, "&Markdown copies in:", self.folder),
            field_row(self.folder, self.choose, self.clear),
        )
        form.addRow(self.note)
        self.choose.clicked.connect(self.ask_folder)
        self.clear.clicked.connect(self.folder.clear)

    def load(self, settings: Settings) -> None:
        self.folder.setText(settings.markdown_folder)

    def chosen(self) -> str:
        """The folder as typed, "~" expanded ("" when off)."""
        text = self.folder.text().strip()
        return str(Path(text).expanduser()) if text else ""

    def apply_to(self, settings: Settings) -> None:
        settings.markdown_folder = self.chosen()

    async def check(self, settings: Settings, current: str) -> str:
        """Why the chosen folder cannot be used ("" when it can, is off, or is the
        `current` one); it is tried in a worker thread (a network folder may be slow)."""
        if not settings.markdown_folder or settings.markdown_folder == current:
            return ""
        return await asyncio.to_thread(check_folder, settings.markdown_folder)

    def ask_folder(self) -> None:
        """The folder dialog, opened (not exec'd); its choice lands in the field."""
        dialog = self.file_dialog.new(self, "Choose Markdown export folder", self.chosen())
        if dialog is None:
            return
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()
