"""The chat extras' widgets on their own: the Context label, switches, file chips and drops,
the cut-context notice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QWidget

from launcher.core.attachments import Attachment
from launcher.core.context import ContextUse, Truncation
from launcher.core.features import ChatFeatures
from launcher.ui.chat_switches import NO_TOOLS, ChatSwitches
from launcher.ui.context_meter import ContextMeter
from launcher.ui.context_notice import ContextNotice
from launcher.ui.file_chips import FileChips
from launcher.ui.file_drop import FileDrop


def test_the_context_label_shows_used_over_limit_and_warns_when_nearly_full(qtbot: Any) -> None:
    meter = ContextMeter()
    qtbot.addWidget(meter)
    assert meter.accessibleName() == "Context"
    assert meter.text() == ""
    meter.show_use(ContextUse(1234, 4096, "default", 131072))
    assert meter.text() == "1,234 / 4,096"
    assert "131,072" in meter.toolTip()
    assert meter.styleSheet() == ""
    meter.show_use(ContextUse(3900, 4096, "conversation"))
    assert "color" in meter.styleSheet()
    assert meter.accessibleDescription() == "3,900 tokens used of 4,096 — nearly full"


def test_switches_write_into_the_conversations_features(qtbot: Any) -> None:
    switches = ChatSwitches()
    qtbot.addWidget(switches)
    features = ChatFeatures(calculator=True)
    switches.load(features)
    assert switches.calculator.isChecked() and not switches.web_search.isChecked()
    names = {w.accessibleName() for w in (switches.web_search, switches.web_fetch)}
    assert names == {"Web search", "Web fetch"}
    with qtbot.waitSignal(switches.edited):
        switches.web_search.setChecked(True)
    assert features.web_search
    switches.logprobs.setChecked(True)
    assert features.logprobs and not switches.tint.isHidden()
    switches.set_tools_available(False)
    assert not switches.web_search.isEnabled() and switches.web_search.toolTip() == NO_TOOLS
    other = ChatFeatures()
    switches.load(other)  # loading another conversation edits nothing
    assert features.web_search and not other.web_search
    assert switches.tint.isHidden()


def test_chips_add_and_remove_files(qtbot: Any) -> None:
    chips = FileChips()
    qtbot.addWidget(chips)
    chips.show()
    notes = Attachment("notes.txt", "text", "hello", 5)
    chips.add(notes)
    chips.add(Attachment("b.pdf", "pdf", "x", 9, pages=3))
    assert [c.accessibleName() for c in chips.chips()] == [
        "Remove file notes.txt",
        "Remove file b.pdf",
    ]
    assert "b.pdf (3 pages)" in chips.chips()[1].text()
    chips.chips()[0].click()
    assert [a.name for a in chips.attachments] == ["b.pdf"]
    chips.clear()
    assert chips.attachments == [] and chips.isHidden()


def drop_files(target: QWidget, paths: list[Path]) -> bool:
    """What a drag from a file manager delivers: DragEnter (accepted or not), then Drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def test_dropped_and_pasted_files_are_reported(qtbot: Any, tmp_path: Path) -> None:
    box = QPlainTextEdit()
    box.setAccessibleName("Message")
    qtbot.addWidget(box)
    drop = FileDrop()
    drop.watch(box)
    got: list[list[str]] = []
    drop.filesDropped.connect(got.append)
    path = tmp_path / "a.txt"
    path.write_text("x")
    assert drop_files(box.viewport(), [path])
    assert got == [[str(path)]]
    assert box.toPlainText() == ""  # the drop did not paste the URL as text
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    QGuiApplication.clipboard().setMimeData(mime)
    paste = QKeyEvent(QKeyEvent.Type.KeyPress, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert paste.matches(QKeySequence.StandardKey.Paste)
    QApplication.sendEvent(box, paste)
    assert got[-1] == [str(path)]
    QGuiApplication.clipboard().setText("plain words")
    QApplication.sendEvent(box, paste)  # text is pasted as text, not reported
    assert len(got) == 2


def test_the_cut_notice_offers_a_larger_context_and_a_summary(qtbot: Any) -> None:
    notice = ContextNotice()
    qtbot.addWidget(notice)
    notice.show_cut(Truncation(4096, 1, 6, 16384))
    assert notice.text.text() == (
        "The start of this conversation no longer fits in the context (4,096 tokens): "
        "the model did not see messages 1-6."
    )
    assert notice.raise_button.text() == "&Raise the context to 16,384 tokens"
    with qtbot.waitSignal(notice.raiseRequested) as raised:
        notice.raise_button.click()
    assert raised.args == [16384]
    notice.show_cut(Truncation(131072, 1, 2, None))  # the model cannot hold more
    assert notice.raise_button.isHidden()
    with qtbot.waitSignal(notice.summaryRequested):
        notice.summary_button.click()
