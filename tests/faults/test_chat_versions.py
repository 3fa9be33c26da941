"""Regenerate and edit-and-resend never destroy what they replace; every turn ends.

Through the real window (and, for the turn's life, the real controller and
client) against the test server: versions of a reply `< 2/3 >`, an edit whose
reply fails before its first word, a turn cancelled before its first step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from launcher.core.chat import ChatController, ChatTurn
from launcher.ollama import OllamaClient
from launcher.ui.main_window import MainWindow
from tests.faults.chat_helpers import assert_plain_words
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui import conftest as ui_fixtures
from tests.ui.helpers import control, hover, ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until

# The window fixtures of tests/ui (a conftest here would be shared with other suites).
external = ui_fixtures.external
make_window = ui_fixtures.make_window


async def test_versions_of_a_reply_can_be_flipped_and_are_saved(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    for text in ("Version one.", "Version two.", "Version three."):
        external.reply = ReplySpec(text=text)
        if text == "Version one.":
            type_and_send(window, "Say something")
        else:
            window.chat.regenerate_button.click()
        await reply_finished(window)
    reply = window.launcher.chat.conversation.messages[-1]
    assert (reply.version_count, reply.version_index) == (3, 2)
    assert window.chat.version_label.text() == "3/3"
    assert " 3/3 " in transcript(window) and "Version three." in transcript(window)
    # Back one version, with the button and with the keyboard.
    control(window, "Previous version").click()
    assert "Version two." in transcript(window) and "Version three." not in transcript(window)
    window.show()
    window.chat.message.setFocus()
    QTest.keyClick(window.chat.message, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    await wait_until(lambda: "Version one." in transcript(window), 2)
    assert window.chat.version_label.text() == "1/3"
    assert not control(window, "Previous version").isEnabled()
    # The shown version is the one in the database and the one sent as history.
    await window.launcher.saving.wait(5)
    conv_id = window.launcher.chat.conversation.id
    assert conv_id is not None
    stored = await window.launcher.history.load(conv_id)
    assert stored is not None and stored.messages[-1].content == "Version one."
    external.reply = ReplySpec(text="Next.")
    type_and_send(window, "Go on")
    await reply_finished(window)
    history = external.requests_to("/api/chat")[-1].body["messages"]
    assert history[1] == {"role": "assistant", "content": "Version one."}


async def test_stopping_a_regenerate_before_its_first_word_shows_the_old_reply(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="Keep me.")
    window = await ready(make_window)
    type_and_send(window, "Question")
    await reply_finished(window)
    external.reply = ReplySpec(text="never", first_chunk_delay=60)
    window.chat.regenerate_button.click()
    await wait_until(lambda: len(external.streams) == 2, 5)
    window.chat.stop_button.click()
    assert "Keep me." in transcript(window) and "Stopped" not in transcript(window)
    reply = window.launcher.chat.conversation.messages[-1]
    assert (reply.content, reply.state, reply.version_count) == ("Keep me.", "complete", 1)
    await window.launcher.saving.wait(5)
    conv_id = window.launcher.chat.conversation.id
    assert conv_id is not None
    stored = await window.launcher.history.load(conv_id)
    assert stored is not None and stored.messages[-1].content == "Keep me."


async def test_a_failed_edit_puts_the_old_tail_back_and_keeps_the_edited_text(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="First answer.")
    window = await ready(make_window)
    type_and_send(window, "First question")
    await reply_finished(window)
    window.chat.edit_button.click()
    assert "Send replaces it and the 1 message after it" in window.chat.editing_label.text()
    external.busy = True  # 503 before any word
    type_and_send(window, "Better question")
    await reply_finished(window)
    text = transcript(window)
    assert "First question" in text and "First answer." in text and "Better question" not in text
    assert [m.content for m in window.launcher.chat.conversation.messages] == [
        "First question",
        "First answer.",
    ]
    # The edited text is still in the box, still as an edit, and the reason is given.
    assert window.chat.message.toPlainText() == "Better question"
    assert window.chat.editing_label.isVisibleTo(window)
    assert "is busy with other requests" in window.chat.notice.text()
    assert_plain_words(window)
    await window.launcher.saving.wait(5)
    conv_id = window.launcher.chat.conversation.id
    assert conv_id is not None
    stored = await window.launcher.history.load(conv_id)
    assert stored is not None
    assert [m.content for m in stored.messages] == ["First question", "First answer."]
    # Once the server answers, the edit replaces the tail (on screen and in the DB).
    external.busy = False
    external.reply = ReplySpec(text="Better answer.")
    window.chat.send_button.click()
    await reply_finished(window)
    stored = await window.launcher.history.load(conv_id)
    assert stored is not None
    assert [m.content for m in stored.messages] == ["Better question", "Better answer."]
    assert "First answer." not in transcript(window)


async def test_new_chat_drops_the_text_of_a_cancelled_edit(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    type_and_send(window, "Hi")
    await reply_finished(window)
    window.chat.edit_button.click()
    assert window.chat.message.toPlainText() == "Hi"
    window.launcher.chat.new_conversation()
    assert window.chat.message.toPlainText() == ""
    assert not window.chat.editing_label.isVisibleTo(window)


async def test_enter_sends_and_shift_enter_breaks_the_line(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    window.show()
    box = window.chat.message
    box.setFocus()
    QTest.keyClicks(box, "line one")
    QTest.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(box, "line two")
    assert box.toPlainText() == "line one\nline two"
    QTest.keyClick(box, Qt.Key.Key_Return)
    await reply_finished(window)
    assert external.requests_to("/api/chat")[-1].body["messages"][-1]["content"] == (
        "line one\nline two"
    )
    # The setting flips it: Enter breaks the line, Shift+Enter sends.
    window.launcher.settings.enter_sends = False
    QTest.keyClicks(box, "a")
    QTest.keyClick(box, Qt.Key.Key_Return)
    QTest.keyClicks(box, "b")
    assert box.toPlainText() == "a\nb" and len(external.requests_to("/api/chat")) == 1
    QTest.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    await reply_finished(window)
    assert len(external.requests_to("/api/chat")) == 2


async def test_a_turn_cancelled_before_its_first_step_still_finishes(
    ollama_server: OllamaTestServer, qloop: object
) -> None:
    client = OllamaClient(ollama_server.url)
    controller = ChatController(client)
    ended: list[ChatTurn] = []
    finished: list[ChatTurn] = []
    controller.turnEnded.connect(ended.append)
    controller.turnFinished.connect(finished.append)
    try:
        turn = controller.send("hello", "llama3.2")
        assert turn is not None and controller.busy
        turn.stop()  # before the task ran a single step
        assert not controller.busy and ended == [turn]
        await turn.wait()  # never raises
        await wait_until(lambda: finished == [turn], 2)
        assert turn.reply.state == "stopped" and turn.reply.note == "Stopped."
        assert ollama_server.requests_to("/api/chat") == []
        # And the next one goes through.
        again = controller.send("hello again", "llama3.2")
        assert again is not None
        await again.wait()
        assert again.reply.state == "complete" and again.reply.content
    finally:
        await client.aclose()
        await asyncio.sleep(0)


async def test_message_actions_on_hover_and_from_the_keyboard(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="First reply.")
    window = await ready(make_window)
    window.resize(1000, 700)
    window.show()
    type_and_send(window, "Hello there")
    await reply_finished(window)
    view = window.chat.conversation
    bar = view.actions_bar
    assert not bar.isVisible()
    # Hover over the reply: its actions appear (no Edit on a reply, Regenerate on the last).
    doc_pos = view.toPlainText().index("First reply.")
    cursor = view.textCursor()
    cursor.setPosition(doc_pos + 2)
    hover(view.viewport(), view.cursorRect(cursor).center())
    await wait_until(lambda: bar.isVisible(), 2)
    assert bar.index == 1
    assert control(window, "Regenerate this reply").isVisible()
    assert not control(window, "Edit message").isVisible()
    # From the message box: Alt+Up moves to the user's message and focuses its first action.
    window.chat.message.setFocus()
    QTest.keyClick(window.chat.message, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert bar.index == 0
    assert control(window, "Edit message").isVisible()
    assert not control(window, "Regenerate this reply").isVisible()
    control(window, "Edit message").click()
    assert window.chat.message.toPlainText() == "Hello there"
    assert window.chat.editing_label.isVisibleTo(window)
    # Regenerate from the bar on the reply makes a second version.
    QTest.keyClick(window.chat.message, Qt.Key.Key_Escape)
    QTest.keyClick(window.chat.message, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert bar.index == 1
    external.reply = ReplySpec(text="Second reply.")
    control(window, "Regenerate this reply").click()
    await reply_finished(window)
    assert window.launcher.chat.conversation.messages[-1].version_count == 2
    assert "Second reply." in transcript(window)


async def test_the_action_bar_goes_when_the_pointer_leaves_unless_it_has_focus(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    window.show()
    type_and_send(window, "Hi")
    await reply_finished(window)
    view = window.chat.conversation
    view.show_actions(1)
    QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))
    assert not view.actions_bar.isVisible()
    # From the keyboard the bar keeps its focus when the pointer wanders off.
    window.chat.message.setFocus()
    QTest.keyClick(window.chat.message, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert view.actions_bar.isVisible()

    def bar_has_focus() -> bool:
        focused = QApplication.focusWidget()
        return focused is not None and view.actions_bar.isAncestorOf(focused)

    await wait_until(bar_has_focus, 2)
    QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))
    assert view.actions_bar.isVisible()
