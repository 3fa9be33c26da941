"""The window behaves: it keeps the size it is given, never grows by itself, is usable
at 640x480 with the sidebar collapsed, and remembers its layout between runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QApplication, QWidget

from launcher.config import config_dir
from launcher.core.status import ServerState, ServerStatus
from launcher.ui.main_window import MainWindow
from launcher.ui.theme import ThemeMode
from tests.ui.helpers import control
from tests.waiting import wait_until


async def shown(window: MainWindow, qtbot: Any, size: QSize) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.resize(size)
    await wait_until(lambda: window.size() == size, 5, f"size {window.size()} != {size}")


def inside(window: MainWindow, widget: QWidget) -> bool:
    """Shown, not squeezed to nothing, and wholly inside the window."""
    if not widget.isVisible() or widget.width() < 10 or widget.height() < 10:
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


async def test_asking_for_800x500_gives_800x500(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    await shown(window, qtbot, QSize(800, 500))
    assert window.size() == QSize(800, 500)
    assert window.minimumSizeHint().width() <= 640
    assert window.minimumSizeHint().height() <= 480


async def test_at_640x480_with_the_sidebar_collapsed_every_main_control_fits(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    await shown(window, qtbot, QSize(640, 480))
    window.activateWindow()
    await wait_until(lambda: QApplication.activeWindow() is window, 5)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: not window.sidebar.isVisible(), 5)
    assert not window.menus.toggle_sidebar.isChecked()
    assert window.size() == QSize(640, 480)
    for name in ("Host", "Settings", "Model", "Message", "Send", "Sections"):
        assert inside(window, control(window, name)), name
    await wait_until(lambda: window.chat.width() > 500, 5)  # the chat got the sidebar room
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    await wait_until(window.sidebar.isVisible, 5)
    await wait_until(lambda: window.sidebar.width() >= window.sidebar.minimumSizeHint().width(), 5)
    assert window.size() == QSize(640, 480)


async def test_long_texts_and_expanded_options_never_grow_the_window(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    await shown(window, qtbot, QSize(700, 480))
    long = "the host at http://" + "very-long-host-name." * 20 + "example:11434 does not answer"
    window.status_indicator.set_status(ServerStatus(ServerState.UNREACHABLE, long))
    window.statusBar().showMessage("A status message " * 40)
    control(window, "Conversation options").click()
    await wait_until(lambda: window.chat.options.isVisible(), 5)
    # Once the layouts have settled (the text is painted elided), nothing has moved.
    await wait_until(lambda: window.status_indicator.shown_text().endswith("…"), 5)
    assert window.size() == QSize(700, 480)
    shown_text = window.status_indicator.shown_text()
    assert shown_text.endswith("…") and len(shown_text) < len(window.status_indicator.text())
    assert long in window.status_indicator.toolTip()  # the rest is one hover away
    assert control(window, "Server status").accessibleDescription().endswith("does not answer")


async def test_size_position_splitter_tab_sidebar_and_theme_are_remembered(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    first = make_window()
    # (The offscreen test screen is 800x600: a window must fit it to be restored as is.)
    await shown(first, qtbot, QSize(790, 540))
    first.move(5, 20)
    before = first.splitter.sizes()
    first.splitter.setSizes([before[0] - 30, before[1] + 30])
    await wait_until(lambda: first.splitter.sizes() != before, 5)
    sizes = first.splitter.sizes()
    first.tabs.setCurrentIndex(2)
    first.menus.toggle_sidebar.trigger()  # hide the sidebar
    first.menus.theme_actions[ThemeMode.DARK].trigger()
    geometry = first.geometry()
    first.close()  # saves, then shuts down in order
    await wait_until(lambda: not first.isVisible(), 10)
    assert (config_dir() / "window.ini").exists()

    second = make_window()
    second.show()
    qtbot.waitExposed(second)
    await wait_until(lambda: second.size() == geometry.size(), 5)
    assert second.size() == geometry.size()
    # The position comes back up to the frame's few pixels (the platform adds its margins).
    offset = second.geometry().topLeft() - geometry.topLeft()
    assert abs(offset.x()) <= 8 and abs(offset.y()) <= 8, (second.geometry(), geometry)
    assert second.tabs.currentIndex() == 2
    assert second.sidebar.isHidden() and not second.menus.toggle_sidebar.isChecked()
    assert second.theme.mode.value == "dark"
    second.tabs.setCurrentIndex(0)
    second.set_sidebar_visible(True)
    await wait_until(lambda: sum(second.splitter.sizes()) == sum(sizes), 5)
    assert second.splitter.sizes() == sizes


async def test_first_start_uses_the_default_layout(
    make_window: Callable[[], MainWindow],
) -> None:
    window = make_window()
    assert window.size() == QSize(980, 720)
    assert window.tabs.currentIndex() == 0
    assert not window.sidebar.isHidden()
    assert window.theme.mode.value == "system"


async def test_tab_goes_through_the_top_bar_in_reading_order(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    fake_ollama()  # installed, not running: Start is on, Stop is off (and skipped)
    window = make_window()
    await shown(window, qtbot, QSize(900, 600))
    window.activateWindow()
    await wait_until(lambda: QApplication.activeWindow() is window, 5)
    await wait_until(lambda: control(window, "Start server").isEnabled(), 5)
    order = ["Host", "Settings", "Server status", "Start server", "Section tabs"]
    control(window, order[0]).setFocus()
    await wait_until(control(window, order[0]).hasFocus, 5)
    seen = []
    for _ in order[1:]:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        seen.append(widget.accessibleName() or type(widget).__name__)
    assert seen == order[1:]
