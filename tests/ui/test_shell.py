"""The main window before and after the launcher is attached (paint-first start-up): the shell
is the remembered window with nothing to click, and attaching turns that same window into
the working one without moving it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QMainWindow, QTabBar, QWidget

from launcher.app import attach_launcher
from launcher.ui.main_window import MainWindow
from launcher.ui.window_state import WindowState, save_state
from tests.ollama_server import OllamaTestServer
from tests.ui.conftest import drain
from tests.waiting import wait_until


def window_colour() -> int:
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness()


def remember(size: QSize, *, theme: str, tab: int = 0) -> None:
    """What an earlier run left in window.ini (a real window's saved geometry)."""
    earlier = QMainWindow()
    earlier.resize(size)
    save_state(WindowState(geometry=earlier.saveGeometry(), tab=tab, theme=theme))
    earlier.deleteLater()


@pytest.fixture
def shells(qloop: Any, qrun: Any) -> Iterator[list[MainWindow]]:
    """Windows the test made; attached ones are shut down in order, shells just hidden."""
    windows: list[MainWindow] = []
    yield windows

    async def close_all() -> None:
        for window in windows:
            if window.is_attached():
                await window.shutdown()
                window.close()
            window.hide()
            window.deleteLater()
        await drain()

    qrun(close_all())


def clickable(window: QWidget) -> list[str]:
    """What a user could click in the window: enabled, visible buttons, menu titles, tabs."""
    found = [
        b.text() or b.accessibleName()
        for b in window.findChildren(QAbstractButton)
        if b.isVisible() and b.isEnabled()
    ]
    assert isinstance(window, QMainWindow)
    found += [a.text() for a in window.menuBar().actions() if a.isEnabled()]
    for bar in window.findChildren(QTabBar):
        found += [bar.tabText(i) for i in range(bar.count()) if bar.isTabEnabled(i)]
    return found


async def test_the_shell_is_the_remembered_window_with_nothing_to_click(
    shells: list[MainWindow], qtbot: Any
) -> None:
    remember(QSize(700, 500), theme="dark", tab=1)
    window = MainWindow()
    shells.append(window)
    # Before it is ever shown: its remembered size, and the dark theme that was chosen.
    assert window.size() == QSize(700, 500)
    assert window_colour() < 100
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "Ollama Launcher"
    assert window.statusBar().currentMessage() == "Starting…"
    assert [a.text() for a in window.menuBar().actions()] == [
        "&File",
        "&Edit",
        "&View",
        "&Server",
        "&Models",
        "&Help",
    ]
    # Only the tab that will be shown (the remembered one) looks current; nothing acts.
    assert clickable(window) == ["M&odels"]
    assert not window.is_attached()


async def test_attaching_turns_the_same_window_into_the_working_one(
    external: OllamaTestServer, shells: list[MainWindow], qtbot: Any
) -> None:
    remember(QSize(720, 520), theme="light")
    window = MainWindow()
    shells.append(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    attach_launcher(window, deferred=True)
    assert window.is_attached()
    assert window.size() == QSize(720, 520) and window.isVisible()
    assert window_colour() > 200
    assert window.statusBar().currentMessage() == ""  # "Starting…" is gone
    assert not [w for w in window.findChildren(QWidget) if w.accessibleName() == "Starting…"]
    assert [a.text() for a in window.menuBar().actions()] == [
        "&File",
        "&Edit",
        "&View",
        "&Server",
        "&Models",
        "&Help",
    ]
    assert all(a.isEnabled() for a in window.menuBar().actions())
    await wait_until(window.pages.is_finished, 10)  # after its next paint
    await wait_until(lambda: window.chat.model_combo.count() > 0, 10)
    await wait_until(lambda: QApplication.focusWidget() is window.chat.message, 5)
    assert "Send" in clickable(window) and "&Chat" in clickable(window)


async def test_a_close_before_the_launcher_is_attached_closes_right_after(
    external: OllamaTestServer, shells: list[MainWindow], qtbot: Any
) -> None:
    window = MainWindow()
    shells.append(window)
    window.show()
    qtbot.waitExposed(window)
    window.close()  # nothing to shut down yet: it waits for the launcher
    assert window.isVisible() and window.close_requested
    finished: list[bool] = []
    window.shutdownFinished.connect(lambda: finished.append(True))
    attach_launcher(window, deferred=True)
    # Then closed as any close does: shut down in order, gone.
    await wait_until(lambda: finished and not window.isVisible(), 10)
