"""Small previews of the images a user attached, decoded off the Qt thread and kept.

A photo can take tens of milliseconds to decode, so nothing here decodes on the Qt
thread: the composer hands over the previews it already made, and images of older
messages (from history) are decoded in a worker thread; `ready` says when there
are new ones to show. The previews reach the transcript as document resources
named ``thumb:N``: the safe browser still loads nothing by itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

from PySide6.QtCore import QByteArray, QObject, Qt, QUrl, Signal
from PySide6.QtGui import (
    QImage,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)

THUMB_SIZE = 64


def make_thumbnail(data: bytes, size: int = THUMB_SIZE) -> QImage:
    """A preview of at most `size` pixels a side (a null image when `data` is not one)."""
    image = QImage.fromData(QByteArray(data))
    if image.isNull():
        return image
    return image.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def _from_base64(encoded: str) -> QImage:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return QImage()
    return make_thumbnail(data)


class ThumbnailCache(QObject):
    """Previews by the image's base64 text (as messages carry them), and the resource
    name each has in the transcript (``thumb:N``, the same in every document it is in).

    Signals:
        ready(): previews were added (show the conversation again to see them).
    """

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._images: dict[str, QImage] = {}
        self._pending: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._names: dict[str, int] = {}

    def get(self, encoded: str) -> QImage | None:
        return self._images.get(encoded)

    def put(self, encoded: str, image: QImage) -> None:
        self._images[encoded] = image

    def request(self, encoded: list[str]) -> None:
        """Decode these in a worker thread (inside the running loop), then `ready`."""
        wanted = [e for e in encoded if e not in self._images and e not in self._pending]
        if not wanted:
            return
        self._pending.update(wanted)
        self._task = asyncio.ensure_future(self._decode(wanted))

    async def _decode(self, encoded: list[str]) -> None:
        try:
            for item in encoded:
                self._images[item] = await asyncio.to_thread(_from_base64, item)
        finally:
            self._pending.difference_update(encoded)
        self.ready.emit()

    def insert(self, cursor: QTextCursor, images: list[str], target: QTextDocument) -> None:
        """Previews under the text at `cursor`, their images added to `target` as
        resources; images not decoded yet are asked for (then `ready`)."""
        missing = [encoded for encoded in images if self.get(encoded) is None]
        if missing:
            self.request(missing)
        shown = [(e, self.get(e)) for e in images]
        previews = [(e, image) for e, image in shown if image is not None and not image.isNull()]
        if not previews:
            return
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        for encoded, image in previews:
            name = QUrl(f"thumb:{self._names.setdefault(encoded, len(self._names))}")
            target.addResource(QTextDocument.ResourceType.ImageResource, name, image)
            fmt = QTextImageFormat()
            fmt.setName(name.toString())
            fmt.setWidth(image.width())
            fmt.setHeight(image.height())
            cursor.insertImage(fmt)
            cursor.insertText(" ", QTextCharFormat())
