"""The files attached to the message being written: a chip per file, each removable.

The files are read (off the UI thread) when attached, so a chip means the text is
ready to go; removing a chip removes the file from the message. The chips are
what the sent message shows too, instead of the files' full text.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from launcher.core.attachments import Attachment


class FileChips(QWidget):
    """Pending attachments as chips.

    Signals:
        changed(): a file was added or removed.

    Attributes:
        attachments: the files, in the order they were attached.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Attached files")
        self.attachments: list[Attachment] = []
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self.warning = QLabel(self)
        self.warning.setAccessibleName("Attachment warning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        self._row.addStretch(1)
        self._row.addWidget(self.warning, 100)
        self.hide()

    def add(self, attachment: Attachment) -> None:
        self.attachments.append(attachment)
        chip = QToolButton(self)
        chip.setText(f"{attachment.chip()}  ✕")
        chip.setAccessibleName(f"Remove file {attachment.name}")
        chip.setToolTip(f"{attachment.chip()} — click to remove it from the message")
        chip.setAutoRaise(False)
        chip.clicked.connect(lambda: self.remove(attachment))
        self._row.insertWidget(len(self.attachments) - 1, chip)
        self._sync()

    def remove(self, attachment: Attachment) -> None:
        if attachment not in self.attachments:
            return
        index = self.attachments.index(attachment)
        del self.attachments[index]
        item = self._row.takeAt(index)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
        self._sync()

    def clear(self) -> None:
        while self.attachments:
            self.remove(self.attachments[-1])
        self.set_warning("")

    def set_warning(self, text: str) -> None:
        self.warning.setText(text)
        self.warning.setVisible(bool(text))

    def chips(self) -> list[QToolButton]:
        return [
            w
            for w in self.findChildren(QToolButton)
            if w.accessibleName().startswith("Remove file")
        ]

    def _sync(self) -> None:
        self.setVisible(bool(self.attachments) or bool(self.warning.text()))
        self.changed.emit()
