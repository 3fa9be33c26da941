"""What the fault tests check after every chat failure: the words a person sees."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QAbstractButton, QLabel, QTextEdit, QWidget

from launcher.ui.main_window import MainWindow
from tests.waiting import wait_until

#: Technical words that must never be shown to a person.
TECHNICAL = re.compile(
    r"Errno|Traceback|\b[A-Z][A-Za-z]*(Error|Exception)\b|httpx|asyncio|NoneType|KeyError"
)


def visible_texts(window: MainWindow) -> list[str]:
    """Every text a person can read in the window (labels, buttons, documents)."""
    texts: list[str] = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window):
            continue
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QTextEdit):
            texts.append(widget.toPlainText())
    return texts


def assert_plain_words(window: MainWindow) -> None:
    for text in visible_texts(window):
        found = TECHNICAL.search(text)
        assert found is None, f"technical text shown: {found.group(0)!r} in {text!r}"


async def send_works(window: MainWindow, server_text: str, timeout: float = 10) -> None:
    """Send is usable and a new message gets its reply."""
    assert window.chat.send_button.isEnabled()
    window.chat.message.setPlainText("Are you there?")
    window.chat.send_button.click()
    await wait_until(lambda: server_text in window.chat.conversation.toPlainText(), timeout)
    await wait_until(lambda: window.chat._turn is None, timeout)
