"""The real start (`python -m launcher`), watched from inside: for tests/desktop/test_startup.py.

Run as `python -m tests.desktop.startup_child` with the launcher's environment. It only
adds an application-wide event filter (through `launcher.app.application()`, which the
start reuses) and then calls `launcher.cli.main([])`, the entry point itself. At the first
paint of a top-level window it prints which of our heavy modules were loaded by then;
once that window is attached and usable, whether the message box has the focus; then it
sends a message as a user would, prints the transcript once it shows the reply
($STARTUP_EXPECT), and quits through the
window's own Quit. Every line it prints starts with a word the test looks for.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from launcher.app import application
from launcher.cli import main
from launcher.ui.main_window import MainWindow

HEAVY = (
    "launcher.core.launcher",
    "launcher.ui.chat_view",
    "httpx",
    "asyncio",
    "qasync",
    # Each costs milliseconds and the first paint does not need it (see the README's
    # start-up figures).
    "dataclasses",
    "importlib.resources",
    "ctypes",
    "json",
    "hashlib",
    "PySide6.QtSvg",
    "PySide6.QtNetwork",
)
POLL_MS = 20
DEADLINE_MS = 30_000


class Watcher(QObject):
    """Notes the first paint, then drives the same window once it is usable."""

    def __init__(self) -> None:
        super().__init__()
        self.window: MainWindow | None = None
        self.step = "attach"
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._poll)
        self.waited_ms = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.window is None and event.type() == QEvent.Type.Paint:
            top = watched.window() if isinstance(watched, QWidget) else None
            if isinstance(top, MainWindow):
                self.window = top
                loaded = [name for name in HEAVY if name in sys.modules]
                print(f"FIRST-PAINT title={top.windowTitle()!r} loaded={','.join(loaded)}")
                status = top.statusBar().currentMessage()
                print(f"SKELETON attached={top.is_attached()} status={status!r}")
                self.first = id(top)
                self.timer.start(POLL_MS)
        return False

    def _poll(self) -> None:
        window = self.window
        assert window is not None
        self.waited_ms += POLL_MS
        if self.waited_ms > DEADLINE_MS:
            print(f"TIMEOUT at step {self.step}")
            self.timer.stop()
            window.quit()
        elif self.step == "attach":
            usable = window.is_attached() and window.pages.is_finished()
            if usable and window.chat.model_combo.count() > 0:
                focus = QApplication.focusWidget()
                print(
                    f"USABLE same-window={id(window) == self.first} "
                    f"composer-focus={focus is window.chat.message}"
                )
                window.chat.message.setPlainText("Hello there")
                window.chat.send_button.click()
                self.step = "reply"
        elif self.step == "reply" and window.chat._turn is None:
            text = window.chat.conversation.toPlainText()
            if os.environ["STARTUP_EXPECT"] not in text:
                return  # not sent yet (the send first checks the server), or still shown
            print(f"REPLY {text!r}".replace("\n", " "))
            self.step = "quit"
            self.timer.stop()
            window.quit()


if __name__ == "__main__":
    watcher = Watcher()
    application().installEventFilter(watcher)
    code = main([])
    print(f"EXIT {code}")
    sys.exit(code)
