"""Where the user writes: the message box that grows with its text, image thumbnails, Send/Stop.

Keys (handled where the user types, so they work whether or not the window
manager made the window active): Enter sends and Shift+Enter breaks the line
(swapped when `Settings.enter_sends` is off); Ctrl+Enter always sends.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.ui.format import counted
from launcher.ui.thumbnails import ThumbnailCache, make_thumbnail

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp)"
THUMB_SIZE = 48
MIN_LINES = 2
MAX_LINES = 10


class Composer(QWidget):
    """The message box and what goes with it.

    Signals:
        sendRequested(): the user asked to send (key or button).
        escapePressed(): Esc in the message box.
        versionStep(int): Alt+Left (-1) / Alt+Right (+1): another version of the last reply.
        messageStep(int): Alt+Up (-1) / Alt+Down (+1): the actions of an earlier/later message.
        imagesChanged(): an image was added or removed.
    """

    sendRequested = Signal()
    escapePressed = Signal()
    versionStep = Signal(int)
    messageStep = Signal(int)
    imagesChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enter_sends: Callable[[], bool] = lambda: True
        self.images: list[str] = []  # base64, as Ollama expects them
        self.thumbnails: ThumbnailCache | None = None
        self._image_dialog: QFileDialog | None = None
        self._reading: asyncio.Future[None] | None = None
        self.attachments = QLabel(self)
        self.attachments.setAccessibleName("Attachments")
        self._thumbs = QHBoxLayout()
        self._thumbs.setContentsMargins(0, 0, 0, 0)
        self.editing_label = QLabel(self)
        self.editing_label.setAccessibleName("Editing")
        self.editing_label.setWordWrap(True)
        self.editing_label.hide()
        self.message = QPlainTextEdit(self)
        self.message.setAccessibleName("Message")
        self.message.setTabChangesFocus(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.message.textChanged.connect(self._fit_height)
        self.message.installEventFilter(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send")
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop generating", self)
        self.stop_button.setAccessibleName("Stop generating")
        self.stop_button.setToolTip("Stop the reply now (Esc)")
        self.stop_button.setEnabled(False)
        self.stats = QLabel(self)
        self.stats.setAccessibleName("Reply statistics")
        self.stats.setWordWrap(True)
        self.stats.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        strip = QHBoxLayout()
        strip.addLayout(self._thumbs)
        strip.addWidget(self.attachments, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stats, 1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(strip)
        layout.addWidget(self.editing_label)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.send_button.clicked.connect(self.sendRequested.emit)
        self.update_hints()
        self._fit_height()
        self.attachments.hide()

    def update_hints(self) -> None:
        """Placeholder and tooltip that say which key sends."""
        keys = "Enter" if self.enter_sends() else "Shift+Enter"
        other = "Shift+Enter" if self.enter_sends() else "Enter"
        self.message.setPlaceholderText(f"Type a message. {keys} sends, {other} starts a new line.")
        self.send_button.setToolTip(f"Send the message ({keys} or Ctrl+Enter)")

    # ---- keys ------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.message and event.type() == QEvent.Type.FocusIn:
            self.update_hints()  # the Enter-sends setting may have changed meanwhile
        if watched is self.message and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                mods = event.modifiers()
                ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
                shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
                if ctrl or shift != self.enter_sends():
                    self.sendRequested.emit()
                else:
                    self.message.insertPlainText("\n")
                return True
            alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
            if alt and key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
                self.versionStep.emit(-1 if key == Qt.Key.Key_Left else 1)
                return True
            if alt and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                self.messageStep.emit(-1 if key == Qt.Key.Key_Up else 1)
                return True
            if key == Qt.Key.Key_Escape:
                self.escapePressed.emit()
                return True
        return super().eventFilter(watched, event)

    def _fit_height(self) -> None:
        """Grow with the text, from MIN_LINES up to MAX_LINES (then it scrolls)."""
        lines = int(self.message.document().size().height())
        shown = min(MAX_LINES, max(MIN_LINES, lines))
        margins = self.message.contentsMargins()
        doc_margin = int(self.message.document().documentMargin())
        height = (
            shown * self.message.fontMetrics().lineSpacing()
            + margins.top()
            + margins.bottom()
            + 2 * doc_margin
            + 2
        )
        if self.message.height() != height:
            self.message.setFixedHeight(height)

    # ---- images ----------------------------------------------------------

    async def add_images(self, paths: list[str]) -> list[str]:
        """Read, encode and preview images off the Qt thread; the names that failed."""
        failed: list[str] = []
        for path in paths:
            try:
                data = await asyncio.to_thread(Path(path).read_bytes)
            except OSError:
                failed.append(Path(path).name)
                continue
            thumb = await asyncio.to_thread(make_thumbnail, data, THUMB_SIZE)
            encoded = base64.b64encode(data).decode("ascii")
            self.images.append(encoded)
            if self.thumbnails is not None:  # the transcript shows it without decoding again
                self.thumbnails.put(encoded, thumb)
            self._add_thumb(thumb)
        self._show_count()
        return failed

    def choose_images(self) -> None:
        """Pick images with a non-blocking file dialog (the event loop keeps running)."""
        dialog = QFileDialog(self, "Attach images", str(Path.home()), IMAGE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.attach_files)
        dialog.finished.connect(dialog.deleteLater)
        self._image_dialog = dialog
        dialog.open()

    def attach_files(self, paths: list[str]) -> None:
        """Read and encode the images off the Qt thread (photos can be large)."""
        self._reading = asyncio.ensure_future(self._read_images(paths))

    async def _read_images(self, paths: list[str]) -> None:
        failed = await self.add_images(paths)
        if failed:
            self.stats.setText(f"Could not read {', '.join(failed)} — check that the file exists.")

    def _add_thumb(self, thumb: QImage) -> None:
        button = QToolButton(self)
        number = len(self.images)
        button.setAccessibleName(f"Remove image {number}")
        button.setToolTip("Remove this image")
        if not thumb.isNull():
            button.setIcon(QIcon(QPixmap.fromImage(thumb)))
            button.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        else:
            button.setText("✕")
        button.clicked.connect(lambda: self.remove_image(self._thumb_index(button)))
        self._thumbs.addWidget(button)

    def _thumb_index(self, button: QToolButton) -> int:
        return self._thumbs.indexOf(button)

    def remove_image(self, index: int) -> None:
        """Drop image `index` before sending."""
        if not 0 <= index < len(self.images):
            return
        del self.images[index]
        item = self._thumbs.takeAt(index)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
        for position in range(self._thumbs.count()):
            item = self._thumbs.itemAt(position)
            other = item.widget() if item is not None else None
            if other is not None:
                other.setAccessibleName(f"Remove image {position + 1}")
        self._show_count()

    def clear_images(self) -> None:
        while self.images:
            self.remove_image(len(self.images) - 1)
        self._show_count()

    def _show_count(self) -> None:
        count = len(self.images)
        self.attachments.setVisible(count > 0)
        self.attachments.setText(
            counted(self, "%n image attached", "%n images attached", count) if count else ""
        )
        self.imagesChanged.emit()
