"""The menu bar, the Keyboard shortcuts dialog, About, and the light/dark theme."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QDialog

from launcher import __version__
from launcher.ui.help_dialogs import AboutDialog, ShortcutsDialog, action_keys
from launcher.ui.main_window import MainWindow
from launcher.ui.theme import ThemeMode
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import status_of
from tests.waiting import wait_until

MENUS = ["File", "Edit", "View", "Server", "Models", "Help"]


def menu_actions(window: MainWindow) -> list[QAction]:
    found: list[QAction] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        assert menu is not None
        for action in menu.actions():
            if action.isSeparator():
                continue
            sub = action.menu()
            found.extend(sub.actions() if sub is not None else [action])
    return found


async def active(window: MainWindow, qtbot: Any) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    await wait_until(lambda: QApplication.activeWindow() is window, 5)


async def test_every_menu_action_has_text_and_every_key_is_listed(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    await active(window, qtbot)
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == MENUS
    actions = menu_actions(window)
    assert len(actions) >= 20
    assert all(a.text().strip() for a in actions)
    keyed = {action_keys(a) for a in actions if action_keys(a)}
    for keys in ("Ctrl+N", "Ctrl+,", "Ctrl+Q", "Ctrl+B", "Ctrl+1", "Ctrl+Shift+S", "F1", "F5"):
        assert keys in keyed, keys
    qtbot.keyClick(window, Qt.Key.Key_F1)
    await wait_until(lambda: isinstance(window.menus.dialog, ShortcutsDialog), 5)
    dialog = window.menus.dialog
    assert isinstance(dialog, ShortcutsDialog)
    await wait_until(dialog.isVisible, 5)
    listed = {keys for _what, keys in dialog.rows()}
    assert keyed <= listed, keyed - listed
    # The chat's own keys and the typing keys are there too.
    assert {"Ctrl+R", "Ctrl+E", "Esc", "Enter", "F2", "Ctrl+F"} <= listed
    assert all(what for what, _keys in dialog.rows())
    dialog.close()


async def test_menu_shortcuts_do_what_they_say(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    await active(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: window.tabs.currentWidget() is window.log_view, 5)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: window.tabs.currentWidget() is window.models, 5)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: window.tabs.currentIndex() == 0, 5)
    window.menus.pull.trigger()
    await wait_until(lambda: window.tabs.currentWidget() is window.models, 5)
    # Without a local server to stop, Stop and Restart are off; absent panels are absent.
    assert not window.menus.stop.isEnabled() and not window.menus.restart.isEnabled()
    texts = [a.text() for a in menu_actions(window)]
    assert ("Restore from backup…" in " ".join(texts)) == (window.menus.restore is not None)
    # File > Restore from backup… opens the backups dialog (launcher/ui/backups_dialog.py).
    assert window.menus.restore is not None
    window.menus.restore.trigger()
    await wait_until(lambda: any(d.isVisible() for d in window.findChildren(QDialog)), 5)
    for dialog in window.findChildren(QDialog):
        dialog.close()


async def test_about_lists_every_version_including_the_servers(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    window.menus.about.trigger()
    await wait_until(lambda: isinstance(window.menus.dialog, AboutDialog), 5)
    assert isinstance(window.menus.dialog, AboutDialog)
    text = window.menus.dialog.versions.text()
    assert f"Ollama Launcher: {__version__}" in text
    assert "Ollama server: 0.12.3" in text
    assert f"Qt: {qVersion()}" in text
    assert "PySide6: " in text and "Python: 3." in text
    window.menus.dialog.close()
    await wait_until(lambda: window.menus.dialog is None, 5)
    window.menus.shortcuts.trigger()  # another help dialog after the first was closed
    await wait_until(lambda: isinstance(window.menus.dialog, ShortcutsDialog), 5)
    window.menus.dialog.close()


def window_colour() -> int:
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness()


async def test_theme_follows_the_system_unless_overridden_and_is_remembered(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    hints = QGuiApplication.styleHints()
    window = make_window()
    await active(window, qtbot)
    window.resize(QSize(800, 600))
    assert window.menus.theme_actions[ThemeMode.SYSTEM].isChecked()
    window.menus.theme_actions[ThemeMode.DARK].trigger()
    assert window_colour() < 100
    window.menus.theme_actions[ThemeMode.LIGHT].trigger()
    assert window_colour() > 200
    window.menus.theme_actions[ThemeMode.SYSTEM].trigger()
    # The desktop switching scheme, as the platform reports it (the offscreen test
    # platform has no desktop scheme of its own to switch).
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    await wait_until(lambda: window_colour() < 100, 5, "did not follow the system to dark")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    await wait_until(lambda: window_colour() > 200, 5, "did not follow the system to light")
    window.menus.theme_actions[ThemeMode.LIGHT].trigger()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the override wins over the system
    assert window_colour() > 200
    hints.colorSchemeChanged.emit(hints.colorScheme())
    window.menus.theme_actions[ThemeMode.DARK].trigger()
    assert window.theme.mode is ThemeMode.DARK
    window.close()
    await wait_until(lambda: not window.isVisible(), 10)
    again = make_window()
    assert again.theme.mode is ThemeMode.DARK and window_colour() < 100
    again.menus.theme_actions[ThemeMode.LIGHT].trigger()


async def test_server_menu_restarts_our_server(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    assert window.menus.start.isEnabled() and not window.menus.restart.isEnabled()
    window.menus.start.trigger()
    await wait_until(lambda: status_of(window).startswith("Running"), 15)
    first = window.launcher.supervisor.pid
    await wait_until(window.menus.restart.isEnabled, 5)
    window.menus.restart.trigger()
    await wait_until(
        lambda: (
            window.launcher.supervisor.pid not in (None, first)
            and status_of(window).startswith("Running")
        ),
        20,
    )
    assert window.menus.stop.isEnabled()
