"""A reply's tool steps and token probabilities come back with the conversation: after a
restart (a new window on the same data folder) and when it is opened again from the sidebar."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor

from launcher.config import data_dir
from launcher.core.conversation import ConversationSettings, Message
from launcher.core.features import ChatFeatures
from launcher.core.store import DB_FILENAME, Store
from launcher.ollama import Logprob
from launcher.ollama.types import TokenLogprob
from launcher.ui.chatplus_wiring import MAX_MARKED_TOKENS
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import control, ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until

STEP_SHOWN = 'Tool ▸ calculator: "6*7" — show result'


def _popup_at(window: MainWindow, word: str) -> str:
    """The token-probability popup (tooltip) of the last `word` of the transcript."""
    view = window.chat.conversation
    at = view.toPlainText().rindex(word) + len(word)
    cursor = QTextCursor(view.document())
    cursor.setPosition(at - 1)
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
    # The keyboard reaches the words too (Tab to a word shows its popup): they are known.
    assert any(w.text == "fortytwo" for w in again.history_wiring.chatplus.marks.words.values())
    # The switches of the conversation came back with it.
    assert control(again, "Token probabilities").isChecked()


async def test_reopening_a_conversation_from_the_sidebar_shows_its_steps(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    await _tool_turn_with_probabilities(external, window)
    conv_id = window.launcher.chat.conversation.id
    assert conv_id is not None
    window.chat.conversation.anchorClicked.emit(QUrl("toolstep:1/0"))  # opened here…
    await wait_until(lambda: "6*7 = 42" in transcript(window), 5)
    await window.launcher.open_conversation(conv_id)  # …and closed when opened again
    await wait_until(lambda: "6*7 = 42" not in transcript(window), 5)
    assert STEP_SHOWN in transcript(window)
    window.launcher.chat.new_conversation()
    await wait_until(lambda: "fortytwo" not in transcript(window), 5)
    await window.launcher.open_conversation(conv_id)
    await wait_until(lambda: STEP_SHOWN in transcript(window), 5)
    assert "Alternatives:" in _popup_at(window, "fortytwo")


async def test_a_json_export_of_a_parent_holds_its_branch_and_an_import_keeps_the_link(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    external.reply = ReplySpec(text="Sourdough needs time.")
    window = await ready(make_window)
    control(window, "Web search").click()  # a switch that travels with the conversation
    type_and_send(window, "Bread tips?")
    await reply_finished(window)
    parent = window.launcher.chat.conversation.id
    assert parent is not None
    window.history_wiring.chatplus.branch(1)
    history = window.launcher.history
    await wait_until(lambda: len(history.summaries) == 2, 5)
    branch = window.launcher.chat.conversation.id
    file = tmp_path / "bread.json"
    window.history_wiring.export(parent, "json", file)
    await wait_until(file.exists, 5)
    await window.launcher.tasks.wait(5)
    data = json.loads(file.read_text(encoding="utf-8"))
    assert [c["id"] for c in data["conversations"]] == [parent, branch]
    assert data["conversations"][0]["settings"]["features"]["web_search"] is True

    window.history_wiring.import_file(file)
    await wait_until(lambda: len(history.summaries) == 4, 5)
    new = [s for s in history.summaries if s.id not in (parent, branch)]
    new_parent = next(s for s in new if s.parent_id is None)
    new_branch = next(s for s in new if s.parent_id is not None)
    assert new_branch.parent_id == new_parent.id
    await wait_until(lambda: window.launcher.chat.conversation.id == new_parent.id, 5)
    assert window.launcher.chat.conversation.settings.features.web_search
    assert control(window, "Web search").isChecked()
    assert "Imported bread.json." in window.statusBar().currentMessage()


async def test_each_version_of_a_regenerated_reply_keeps_its_own_steps(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    await _tool_turn_with_probabilities(external, window)
    external.reply = ReplySpec(text="Forty-two, without tools")
    window.chat.regenerate()
    await reply_finished(window)
    await wait_until(lambda: "without tools" in transcript(window), 5)
    assert STEP_SHOWN not in transcript(window)  # the new version called no tool
    assert "Alternatives:" in _popup_at(window, "without")
    window.chat.select_version(1, 0)  # back to the first version: its step and words
    await wait_until(lambda: STEP_SHOWN in transcript(window), 5)
    assert "Alternatives:" in _popup_at(window, "fortytwo")
    await window.launcher.saving.wait(5)
    await window.shutdown()

    again = await ready(make_window)
    await wait_until(lambda: "It is fortytwo" in transcript(again), 5)  # the version shown
    assert STEP_SHOWN in transcript(again)
    assert "Alternatives:" in _popup_at(again, "fortytwo")
    again.chat.select_version(1, 1)
    await wait_until(lambda: "without tools" in transcript(again), 5)
    assert STEP_SHOWN not in transcript(again)
    assert "Alternatives:" in _popup_at(again, "without")


async def test_a_long_reopened_conversation_marks_only_its_latest_replies(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    """Marking every word of every reply would keep the window busy for seconds."""
    words = [f"w{i}" for i in range(MAX_MARKED_TOKENS // 2 + 100)]
    tokens = [Logprob(f" {w}", -0.2, top_logprobs=(TokenLogprob(f" {w}", -0.2),)) for w in words]
    store = Store(data_dir() / DB_FILENAME)
    settings = ConversationSettings("llama3.2:latest", features=ChatFeatures(logprobs=True))
    conv_id = store.create_conversation(settings, "Long").id
    assert conv_id is not None
    for n in range(3):
        store.add_message(conv_id, Message("user", f"Count, part {n}"))
        store.add_message(
            conv_id, Message("assistant", f"Part{n} " + " ".join(words), tokens=tokens)
        )
    store.close()
    window = await ready(make_window)
    await wait_until(lambda: "Part2" in transcript(window), 10)
    shown = {index for index, _number in window.history_wiring.chatplus.marks.words}
    assert shown == {5}  # the last reply; with the one before, the budget would be exceeded
    assert "Alternatives:" in _popup_at(window, "Part2 w0")
    assert _popup_at(window, "Part0 w0") == ""


async def test_a_finished_tool_step_is_saved_while_the_answer_still_streams(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    """A launcher killed mid-answer keeps the steps that ran (the reply is interrupted)."""
    external.models["llama3.2:latest"].capabilities = ["completion", "tools"]
    external.reply = ReplySpec(
        text="",
        tool_calls=[{"function": {"name": "calculator", "arguments": {"expression": "6*7"}}}],
    )

    def answered(_reply: object, step: object) -> None:
        if not getattr(step, "running", True):
            external.reply = ReplySpec(tokens=[f"n{i} " for i in range(400)], chunk_interval=0.02)

    window = await ready(make_window)
    window.launcher.chatplus.stepChanged.connect(answered)
    calculator = control(window, "Calculator")
    await wait_until(calculator.isEnabled, 5)
    calculator.click()
    type_and_send(window, "6 times 7, slowly?")
    reader = Store(data_dir() / DB_FILENAME)  # another connection, as after a crash
    try:

        def saved_reply() -> Message | None:
            conversations = reader.list_conversations()
            if not conversations:
                return None
            messages = reader.get_conversation(conversations[0].id).messages
            return messages[-1] if messages and messages[-1].role == "assistant" else None

        def step_saved_mid_answer() -> bool:
            reply = saved_reply()
            return (
                reply is not None
                and reply.state == "streaming"
                and [s.title() for s in reply.tool_steps] == ['calculator: "6*7"']
                and reply.tool_steps[0].result is not None
                and "n1" in reply.content
            )

        await wait_until(step_saved_mid_answer, 10)
        window.chat.stop_button.click()
        await reply_finished(window)
    finally:
        reader.close()
