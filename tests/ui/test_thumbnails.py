"""Image previews in the transcript: one document resource per image, the same name everywhere."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from pytestqt.qtbot import QtBot

from launcher.core.conversation import Message
from launcher.ui.transcript_document import TranscriptDocument


def _image(width: int, height: int, colour: Qt.GlobalColor) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(colour)
    return image


def _image_names(document: QTextDocument) -> list[str]:
    """The names of the images in the document, in order."""
    names: list[str] = []
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fmt = fragments.fragment().charFormat()
            if fmt.isImageFormat():
                names.append(fmt.toImageFormat().name())
            fragments += 1
        block = block.next()
    return names


def test_previews_are_named_once_per_image_and_shared_with_earlier_messages(
    qtbot: QtBot,
) -> None:
    view = TranscriptDocument()
    qtbot.addWidget(view)
    view.thumbnails.put("AAAA", _image(10, 8, Qt.GlobalColor.red))
    view.thumbnails.put("BBBB", _image(6, 12, Qt.GlobalColor.blue))

    view.append_user(Message("user", "look", images=["AAAA", "BBBB"]), 0)
    view.append_user(Message("user", "again", images=["BBBB"]), 1)

    document = view.document()
    assert _image_names(document) == ["thumb:0", "thumb:1", "thumb:1"]
    resource = document.resource(QTextDocument.ResourceType.ImageResource, QUrl("thumb:1"))
    assert isinstance(resource, QImage) and resource.size() == QSize(6, 12)
    assert "[2 images attached]" in view.toPlainText()

    # Earlier messages are written apart; their previews keep the names and land in
    # the shown document, where the fragment is moved in.
    earlier = TranscriptDocument()
    qtbot.addWidget(earlier)
    earlier.start_earlier(view)
    view.thumbnails.put("CCCC", _image(4, 4, Qt.GlobalColor.green))
    earlier.append_user(Message("user", "first", images=["BBBB", "CCCC"]), 0)
    assert _image_names(earlier.document()) == ["thumb:1", "thumb:2"]
    added = document.resource(QTextDocument.ResourceType.ImageResource, QUrl("thumb:2"))
    assert isinstance(added, QImage) and added.size() == QSize(4, 4)
