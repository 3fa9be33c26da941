"""What the window says: the first run without Ollama, messages that must not outlive
their host, dates in the sidebar, a Rename dialog whose title fits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from launcher.config import RemoteHost, Settings, save_settings
from launcher.core.conversation import ConversationSummary
from launcher.core.guidance import DOWNLOAD_URL, install_command
from launcher.ui.main_window import MainWindow
from launcher.ui.sidebar import DATE_ROLE
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control, status_of
from tests.ui.settings_helpers import choose_host
from tests.waiting import wait_until


def visible_texts(window: QWidget) -> list[str]:
    return [w.text() for w in window.findChildren(QLabel) if w.isVisible() and w.text()]


async def test_first_run_without_ollama_says_how_to_get_it_on_every_page(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    window = make_window()  # the isolated PATH has no `ollama`
    window.show()
    qtbot.waitExposed(window)
    await wait_until(lambda: status_of(window).startswith("Not installed"), 5)
    notice = control(window, "Server notice")
    await wait_until(notice.isVisible, 5)
    text = notice.text()
    assert text.startswith("Ollama isn't installed on this computer.")
    assert DOWNLOAD_URL in text and install_command() in text
    assert control(window, "Server notice action").text() == "Open download page"
    for page in (window.models, window.chat.parentWidget()):
        window.tabs.setCurrentWidget(page)
        await wait_until(notice.isVisible, 5)  # the one message, above every page
    # The new-chat page invents nothing: no example prompts, it points at the notice.
    empty = window.chat.empty
    assert empty.title.text() == "Ollama isn't installed"
    assert "notice above" in empty.hint.text()
    assert not any(b.isVisibleTo(window) for b in (*empty.prompts, *empty.downloads))
    assert not any("Errno" in t for t in visible_texts(window))


async def test_the_notice_goes_once_the_server_answers(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    assert control(window, "Server notice").isHidden()


async def test_an_unreachable_host_is_explained_and_messages_do_not_outlive_their_host(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing answers
    save_settings(Settings(remotes=[RemoteHost("dead", "Dead box", dead)]))
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    window.statusBar().showMessage("Deleted gemma3:1b.")
    choose_host(window, "Dead box")
    await wait_until(lambda: window.statusBar().currentMessage() == "", 5)
    await wait_until(lambda: status_of(window).startswith("Unreachable"), 10)
    notice = control(window, "Server notice")
    await wait_until(notice.isVisible, 5)
    assert "Can't reach Ollama at 127.0.0.1:9" in notice.text()
    assert not any("Errno" in t for t in visible_texts(window))
    choose_host(window, "This computer")
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    await wait_until(notice.isHidden, 5)


async def test_the_sidebar_dates_each_conversation(
    make_window: Callable[[], MainWindow],
) -> None:
    window = make_window()
    now = time.mktime((2026, 12, 1, 18, 30, 0, 0, 0, -1))
    today = time.mktime((2026, 12, 1, 14, 2, 0, 0, 0, -1))
    yesterday = time.mktime((2026, 11, 30, 9, 0, 0, 0, 0, -1))
    march = time.mktime((2026, 3, 12, 9, 0, 0, 0, 0, -1))
    window.sidebar.set_conversations(
        [
            ConversationSummary(1, "Plans", "llama3.2", today, 2),
            ConversationSummary(2, "Poems", "llama3.2", yesterday, 4),
            ConversationSummary(3, "", "llama3.2", march, 0),
        ],
        now=now,
    )
    items = window.sidebar.list
    rows = [(items.item(r).text(), items.item(r).data(DATE_ROLE)) for r in range(items.count())]
    assert rows == [("Plans", "Today 14:02"), ("Poems", "Yesterday"), ("New chat", "12 Mar")]
    assert "Last used: Yesterday" in items.item(1).toolTip()


async def test_the_rename_dialog_is_wide_enough_for_its_title(
    make_window: Callable[[], MainWindow],
) -> None:
    window = make_window()
    window.sidebar.set_conversations([ConversationSummary(7, "Plans", "m", time.time(), 1)])
    window.sidebar.select(7)
    window.sidebar.rename_current()
    dialog = window.sidebar.rename_dialog
    await wait_until(dialog.isVisible, 5)
    title = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title + 120
    assert dialog.textValue() == "Plans"
    dialog.reject()


async def test_dates_move_on_when_the_day_changes(make_window: Callable[[], MainWindow]) -> None:
    window = make_window()
    real_now = time.time()
    a_day_ago = real_now - 24 * 3600
    # Rendered yesterday: the row was "Today …" then.
    window.sidebar.set_conversations(
        [ConversationSummary(1, "Plans", "m", a_day_ago, 1)], now=a_day_ago
    )
    items = window.sidebar.list
    assert str(items.item(0).data(DATE_ROLE)).startswith("Today ")
    window.sidebar._day_timer.timeout.emit()  # the minute tick that notices the new day
    assert items.item(0).data(DATE_ROLE) == "Yesterday"
