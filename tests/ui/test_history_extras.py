"""A reply's tool steps and token probabilities come back with the conversation: after a
restart (a new window on the same data folder) and when it is opened again from the sidebar."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor

from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import control, ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until

STEP_SHOWN = 'Tool ▸ calculator: "6*7" — show result'


def _popup_at(window: MainWindow, word: str) -> str:
    """The token-probability popup (tooltip) of the last `word` of the transcript."""
    view = window.chat.conversation
    at = view.toPlainText().rindex(word)
    cursor = QTextCursor(view.document())
    cursor.setPosition(at + 1)
    return cursor.charFormat().toolTip()


async def _tool_turn_with_probabilities(server: OllamaTestServer, window: MainWindow) -> None:
    server.models["llama3.2:latest"].capabilities = ["completion", "tools"]
    server.reply = ReplySpec(
        text="",
        tool_calls=[{"function": {"name": "calculator", "arguments": {"expression": "6*7"}}}],
    )

    def answered(_reply: object, step: object) -> None:
        if not getattr(step, "running", True):
            server.reply = ReplySpec(text="It is fortytwo")

    window.launcher.chatplus.stepChanged.connect(answered)
    calculator = control(window, "Calculator")
    await wait_until(calculator.isEnabled, 5)
    calculator.click()
    control(window, "Token probabilities").click()
    type_and_send(window, "6 times 7?")
    await reply_finished(window)
    await wait_until(lambda: STEP_SHOWN in transcript(window), 5)
    assert "Alternatives:" in _popup_at(window, "fortytwo")


async def test_tool_steps_and_token_popups_come_back_after_a_restart(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    await _tool_turn_with_probabilities(external, window)
    await window.shutdown()

    again = await ready(make_window)
    await wait_until(lambda: "It is fortytwo" in transcript(again), 5)
    assert STEP_SHOWN in transcript(again)
    assert "6*7 = 42" not in transcript(again)  # collapsed, as it was
    again.chat.conversation.anchorClicked.emit(QUrl("toolstep:1/0"))
    await wait_until(lambda: "6*7 = 42" in transcript(again), 5)
    assert 'Tool ▾ calculator: "6*7" — hide result' in transcript(again)
    popup = _popup_at(again, "fortytwo")
    assert popup.startswith("“fortytwo”:") and "Alternatives:" in popup
    # The switches of the conversation came back with it.
    assert control(again, "Token probabilities").isChecked()


async def test_reopening_a_conversation_from_the_sidebar_shows_its_steps(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    await _tool_turn_with_probabilities(external, window)
    conv_id = window.launcher.chat.conversation.id
    assert conv_id is not None
    window.launcher.chat.new_conversation()
    await wait_until(lambda: "fortytwo" not in transcript(window), 5)
    await window.launcher.open_conversation(conv_id)
    await wait_until(lambda: STEP_SHOWN in transcript(window), 5)
    assert "Alternatives:" in _popup_at(window, "fortytwo")
