"""Files dropped or pasted onto a widget (the message box, the transcript) become attachments.

An event filter, so the widgets it watches need not know about files: a drag that
carries local file URLs is accepted, its drop (or a paste of copied files) is
turned into paths and reported; everything else passes through untouched.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QObject, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget


def local_paths(mime: QMimeData | None) -> list[str]:
    """The local files a drag or the clipboard carries (no remote URLs: nothing is fetched)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class FileDrop(QObject):
    """Watches widgets for dropped and pasted files.

    Signals:
        filesDropped(list): local paths, in the order given.
    """

    filesDropped = Signal(list)

    def watch(self, widget: QWidget) -> None:
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)
        if isinstance(widget, QAbstractScrollArea):
            # Drags are delivered to a scroll area's viewport.
            widget.viewport().setAcceptDrops(True)
            widget.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDragMoveEvent)
            if local_paths(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = local_paths(event.mimeData())
            if paths:
                event.acceptProposedAction()
                self.filesDropped.emit(paths)
                return True
        elif kind == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.matches(QKeySequence.StandardKey.Paste):
                paths = local_paths(QGuiApplication.clipboard().mimeData())
                if paths:
                    self.filesDropped.emit(paths)
                    return True
        return super().eventFilter(watched, event)
