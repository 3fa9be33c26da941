"""Start-up as the app does it (`build_main_window(deferred=True)`): the pages nobody sees at
first and the tray come after the first paint, the launcher starts after them, and every
page's controls, names and shortcuts end up exactly as in a window built all at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtGui import QAction

from launcher.app import build_main_window
from launcher.ui.log_view import LogView
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.ui.conftest import drain
from tests.ui.helpers import control, status_of
from tests.waiting import wait_until

DEFERRED = ("models", "log", "diagnostics")
ON_DEFERRED_PAGES = ("Model to pull", "Pull", "Server log", "Search log", "Diagnostics server")


@pytest.fixture
def deferred_window(qloop: Any, qrun: Any) -> Iterator[Callable[[], MainWindow]]:
    """Windows built as the app builds them, shut down in order afterwards (as
    `make_window` does for windows built all at once)."""
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        assert qloop.is_running(), "build windows inside an async test"
        window = build_main_window(deferred=True)
        windows.append(window)
        return window

    yield make

    async def close_all() -> None:
        for window in windows:
            await window.shutdown()
            window.close()
            window.deleteLater()
        await drain()

    qrun(close_all())


def shortcuts(window: MainWindow) -> list[tuple[str, str]]:
    return sorted(
        (action.text(), action.shortcut().toString())
        for action in window.findChildren(QAction)
        if action.text()
    )


async def test_hidden_pages_and_the_start_wait_for_the_first_paint(
    external: OllamaTestServer, deferred_window: Callable[[], MainWindow]
) -> None:
    window = deferred_window()
    assert not any(window.pages.is_built(name) for name in DEFERRED)
    assert window.tabs.count() == 4  # the tabs are there, their pages are stand-ins
    assert window.launcher.monitor.polls == 0 and external.requests == []
    assert status_of(window).startswith("Checking")
    window.show()
    await wait_until(lambda: all(window.pages.is_built(name) for name in DEFERRED), 10)
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    for name in ON_DEFERRED_PAGES:
        control(window, name)  # each exactly once
    assert [window.tabs.tabText(i) for i in range(4)] == [
        "&Chat",
        "M&odels",
        "Server &log",
        "&Diagnostics",
    ]
    assert window.tabs.currentIndex() == 0
    assert window.tray.icon.toolTip().startswith("Ollama Launcher\nRunning")


async def test_a_command_that_opens_a_page_builds_it_at_once(
    external: OllamaTestServer, deferred_window: Callable[[], MainWindow]
) -> None:
    window = deferred_window()  # never shown: nothing is built after a paint
    window.menus.show_log.trigger()  # View > Server log (Ctrl+3)
    assert isinstance(window.tabs.currentWidget(), LogView)
    assert control(window, "Server log") is window.log_view.text
    window.menus.ask_pull()  # Models > Pull a model…
    assert window.tabs.currentWidget() is window.models
    assert window.pages.is_built("models") and not window.pages.is_built("diagnostics")
    window.pages.start()  # what the app does when it starts hidden in the tray
    await wait_until(lambda: window.pages.is_built("diagnostics"), 5)
    await wait_until(lambda: status_of(window).startswith("Running"), 10)


async def test_menus_and_shortcuts_end_up_as_in_a_window_built_at_once(
    external: OllamaTestServer,
    deferred_window: Callable[[], MainWindow],
    make_window: Callable[[], MainWindow],
    qtbot: Any,
) -> None:
    eager = make_window()
    window = deferred_window()
    window.show()
    await wait_until(window.pages.is_finished, 10)  # the pages, then the tray and icons
    assert all(window.pages.is_built(name) for name in DEFERRED)
    # A page built after the menus (Models: Ctrl+I, Ctrl+Shift+M) takes its keys from the
    # menu command, which then only names them: never two owners of one key.
    assert shortcuts(window) == shortcuts(eager)
    assert window.menus.import_gguf.shortcut().isEmpty()
    assert window.menus.import_gguf.text().endswith("\tCtrl+I")
