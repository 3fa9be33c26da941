"""Driving the main window from tests as a user would: find controls, chat, wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from launcher.ui.main_window import MainWindow
from tests.waiting import wait_until


def control(parent: QWidget, name: str) -> Any:
    """The one descendant of `parent` with this accessible name."""
    found = [w for w in parent.findChildren(QWidget) if w.accessibleName() == name]
    assert len(found) == 1, f"{name!r}: {len(found)} widgets"
    return found[0]


def hover(widget: QWidget, point: QPoint) -> None:
    """The pointer moves to `point` over `widget`. Unlike `QTest.mouseMove`, this does
    not run the event loop: inside a test coroutine that would step other tasks while
    the test's own is current ("Cannot enter into task"), and their lost wake-ups hang
    the test's teardown."""
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(point),
        QPointF(widget.mapToGlobal(point)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def status_of(window: MainWindow) -> str:
    return str(control(window, "Server status").accessibleDescription())


async def ready(make_window: Callable[[], MainWindow]) -> MainWindow:
    """A new window whose model picker has filled."""
    window = make_window()
    await wait_until(lambda: window.chat.model_combo.count() > 0, 5)
    return window


def transcript(window: MainWindow) -> str:
    return window.chat.conversation.toPlainText()


def type_and_send(window: MainWindow, text: str) -> None:
    window.chat.message.setPlainText(text)
    window.chat.send_button.click()


async def reply_finished(window: MainWindow, timeout: float = 10) -> None:
    """The reply is shown whole and its last save is on disk."""
    await wait_until(lambda: window.chat._turn is None, timeout)
    await window.launcher.saving.wait(5)
