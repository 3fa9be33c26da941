"""The Server log tab with a real (fake) `ollama serve`: our own polling hidden by default,
warnings and errors coloured, search, copy, and save off the Qt thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication, QTextCursor

from launcher.ui.log_view import COLOURS, DARK_COLOURS
from launcher.ui.main_window import MainWindow
from tests.ui.helpers import control, status_of
from tests.waiting import wait_until

POLL = '"/api/version"'


def kept(window: MainWindow) -> list[str]:
    return window.launcher.log.lines()


async def running_log(window: MainWindow) -> Any:
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 15)
    # The launcher's status probe has reached the server and been logged.
    await wait_until(lambda: any(POLL in line and "[GIN]" in line for line in kept(window)), 10)
    log = control(window, "Server log")
    await wait_until(lambda: "Listening on" in log.toPlainText(), 5)
    return log


async def test_our_polling_is_hidden_until_asked_for(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    window = make_window()
    log = await running_log(window)
    assert POLL not in log.toPlainText()
    toggle = control(window, "Show launcher requests")
    assert not toggle.isChecked()
    toggle.click()
    await wait_until(lambda: POLL in log.toPlainText(), 5)
    toggle.click()
    await wait_until(lambda: POLL not in log.toPlainText(), 5)
    assert "Listening on" in log.toPlainText()  # the rest stays


async def test_warnings_and_errors_are_coloured(make_window: Callable[[], MainWindow]) -> None:
    window = make_window()
    log = control(window, "Server log")
    window.launcher.log.append("time=t level=INFO source=a.go:1 msg=fine")
    window.launcher.log.append("time=t level=WARN source=a.go:1 msg=low memory")
    window.launcher.log.append("time=t level=ERROR source=a.go:1 msg=runner died")
    await wait_until(lambda: "runner died" in log.toPlainText(), 5)
    colours = (
        DARK_COLOURS if window.log_view.palette().base().color().lightness() < 128 else COLOURS
    )

    def colour_of(text: str) -> str:
        cursor = log.document().find(text)
        assert not cursor.isNull(), text
        return str(cursor.charFormat().foreground().color().name())

    from launcher.core.logfilter import LineKind

    assert colour_of("low memory") == colours[LineKind.WARNING]
    assert colour_of("runner died") == colours[LineKind.ERROR]
    assert colour_of("fine") not in colours.values()


async def test_search_copy_and_save(
    make_window: Callable[[], MainWindow], qtbot: Any, tmp_path: Path
) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.log_view)
    log = control(window, "Server log")
    for n in range(5):
        window.launcher.log.append(f"time=t level=INFO msg=line {n} loaded model")
    window.launcher.log.append("time=t level=INFO msg=Listening on 127.0.0.1:11434")
    await wait_until(lambda: "Listening" in log.toPlainText(), 5)

    search = control(window, "Search log")
    log.setFocus()
    window.log_view.focus_search()  # what Ctrl+F does in the log
    assert search.hasFocus()
    qtbot.keyClicks(search, "LOADED")
    assert control(window, "Search log result").text() == "5 lines"
    assert window.log_view.find_next()
    assert log.textCursor().selectedText() == "loaded"
    qtbot.keyClicks(search, "-nowhere")
    assert control(window, "Search log result").text() == "No match"

    log.moveCursor(QTextCursor.MoveOperation.End)  # nothing selected: Copy takes it all
    control(window, "Copy log").click()
    assert QGuiApplication.clipboard().text() == log.toPlainText()
    cursor = log.document().find("line 3 loaded model")
    log.setTextCursor(cursor)
    control(window, "Copy log").click()
    assert QGuiApplication.clipboard().text() == "line 3 loaded model"

    target = tmp_path / "server.log"
    window.log_view.save(target)  # the path the Save… dialog hands over
    await wait_until(target.exists, 5)
    await wait_until(lambda: "Log saved to" in window.statusBar().currentMessage(), 5)
    assert target.read_text() == log.toPlainText() + "\n"

    window.log_view.save(tmp_path / "missing-folder" / "server.log")
    await wait_until(lambda: "not saved" in window.statusBar().currentMessage(), 5)
    message = window.statusBar().currentMessage()
    assert "Errno" not in message and "Error" not in message


async def test_ctrl_f_in_the_log_goes_to_its_search_box(
    make_window: Callable[[], MainWindow], qtbot: Any
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    await wait_until(lambda: QApplication.activeWindow() is window, 5)
    window.tabs.setCurrentWidget(window.log_view)
    log = control(window, "Server log")
    log.setFocus()
    await wait_until(log.hasFocus, 5)
    qtbot.keyClick(log, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    await wait_until(control(window, "Search log").hasFocus, 5)
