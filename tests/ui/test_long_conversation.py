"""A long conversation opens with its newest messages; the earlier ones come on request
(the "Show earlier messages" button, scrolling to the top, Alt+Up), and everything that
acts on a message by its number still acts on the right one."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtTest import QTest

from launcher.core.conversation import Conversation, ConversationSettings, Message
from launcher.core.store import Store
from launcher.ui.code_colours import warm
from launcher.ui.conversation_view import ConversationView
from launcher.ui.main_window import MainWindow
from launcher.ui.transcript_budget import FIRST_MESSAGES, batch_start
from launcher.ui.transcript_document import TranscriptDocument
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import control, hover, ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until

COUNT = 300  # 150 questions and answers: far more than the first paint writes


def question(n: int) -> str:
    return f"Question {n}: what comes after {n}? " + "Some context here. " * 10


def answer(n: int) -> str:
    body = f"Answer {n}: **{n + 1}** comes next.\n\n- one item\n- another item\n"
    if n % 10 == 0:  # code now and then: its Copy link must copy the right block
        body += f"\n```python\nprint({n})\n```\n"
    return body


def long_messages() -> list[Message]:
    messages = []
    for n in range(COUNT // 2):
        messages.append(Message("user", question(n)))
        messages.append(Message("assistant", answer(n), stats={"tokens_per_second": 40.0}))
    return messages


def save_long_conversation() -> int:
    """The long conversation in the store the window will open (the isolated home's)."""
    store = Store(Store.default_path())
    try:
        conv = store.create_conversation(ConversationSettings(model="llama3.2"), "Long one")
        for message in long_messages():
            store.add_message(conv.id or 0, message)
        # A newer, short one: the window opens it at start, the test opens the long one.
        short = store.create_conversation(ConversationSettings(model="llama3.2"), "Short one")
        store.add_message(short.id or 0, Message("user", "Hello"))
        assert conv.id is not None
        return conv.id
    finally:
        store.close()


async def settle(window: MainWindow) -> None:
    """Earlier messages on their way are in."""
    await wait_until(lambda: not window.chat.conversation.earlier.loading, 5)


async def open_long(make_window: Callable[[], MainWindow]) -> tuple[MainWindow, ConversationView]:
    """Open the long conversation from the history sidebar; its newest answer is shown."""
    save_long_conversation()
    window = await ready(make_window)
    window.resize(1000, 700)
    window.show()  # scrolling and the pointer need a window on the screen
    items = window.sidebar.list
    await wait_until(lambda: items.count() == 2 and "Hello" in transcript(window), 5)
    await settle(window)
    row = next(r for r in range(items.count()) if items.item(r).text() == "Long one")
    items.setCurrentRow(row)
    last = f"Answer {COUNT // 2 - 1}"
    await wait_until(lambda: last in transcript(window), 5)
    return window, window.chat.conversation


def top_of(view: ConversationView, index: int) -> int:
    """Where message `index` starts, in viewport pixels."""
    start = next(s for s, _e, i, _r in view._ranges if i == index)
    cursor = QTextCursor(view.document())
    cursor.setPosition(start)
    return view.cursorRect(cursor).top()


async def test_a_long_conversation_opens_with_its_newest_messages_then_the_earlier_ones(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window, view = await open_long(make_window)
    # Only the newest messages are written; the button says how many more there are.
    assert 0 < view.first_shown <= COUNT - 2
    assert COUNT - view.first_shown <= FIRST_MESSAGES
    assert "Question 0:" not in transcript(window)
    button = control(window, "Show earlier messages")
    assert button.isVisible()
    assert f"({view.first_shown:,})" in button.text()
    assert view.at_bottom()

    # The button: the next batch comes in front, and the reader stays where they were.
    first = view.first_shown
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum() // 2)
    place = top_of(view, first)
    button.click()
    await wait_until(lambda: view.first_shown < first, 5)
    assert abs(top_of(view, first) - place) <= 2
    assert f"Question {view.first_shown // 2}:" in transcript(window)
    assert f"({view.first_shown:,})" in button.text()

    # Scrolling to the top brings the rest, batch by batch.
    while view.first_shown > 0:
        shown = view.first_shown
        view.verticalScrollBar().setValue(0)
        await wait_until(lambda: view.first_shown < shown, 5)  # noqa: B023 (awaited here)
    await wait_until(lambda: not button.isVisible(), 5)
    assert transcript(window).lstrip("\n").startswith("You\nQuestion 0:")
    assert view.shows_messages(COUNT)

    # The same document as writing the whole conversation in one go (code ids aside).
    whole = TranscriptDocument()
    whole.document().rootFrame().setFrameFormat(view.document().rootFrame().frameFormat())
    conversation = window.chat.controller.conversation
    whole.write_messages(conversation, 0, len(conversation.messages))
    strip = re.compile(r"copy-code:\d+")
    assert strip.sub("", view.document().toHtml()) == strip.sub("", whole.document().toHtml())
    whole.deleteLater()
    await settle(window)


async def test_actions_on_earlier_messages_act_on_the_right_message(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    warm(["python"], wait=True)
    window, view = await open_long(make_window)
    first = view.first_shown
    control(window, "Show earlier messages").click()
    await wait_until(lambda: view.first_shown < first, 5)
    # A user's message and an answer that came in with the batch.
    asked = view.first_shown
    answered = asked + 1
    assert window.chat.controller.conversation.messages[asked].role == "user"

    # The pointer over it: the action bar is for that message; Copy copies it.
    view.verticalScrollBar().setValue(view.verticalScrollBar().value() + top_of(view, asked))
    point = QPoint(view.viewport().width() // 2, top_of(view, answered) + 30)
    hover(view.viewport(), point)
    await wait_until(lambda: view.actions_bar.isVisible(), 5)
    assert view.actions_bar.index == answered
    control(view.actions_bar, "Copy message").click()
    assert QGuiApplication.clipboard().text() == answer(answered // 2)

    # The code block's own Copy link in that batch copies that block.
    if (answered // 2) % 10 == 0:
        ids = [int(n) for n in re.findall(r"copy-code:(\d+)", view.document().toHtml())]
        assert any(view.code_text(i) == f"print({answered // 2})" for i in ids)

    # Edit and resend on the earlier question: its own text goes back in the box.
    view.show_actions(asked)
    control(view.actions_bar, "Edit message").click()
    assert window.chat.message.toPlainText() == question(asked // 2)
    window.chat.cancel_edit()

    # Alt+Up past the first message shown brings the earlier ones in too.
    shown = view.first_shown
    view.show_actions(shown)
    window.chat.message.setFocus()
    QTest.keyClick(window.chat.message, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    await wait_until(lambda: view.first_shown < shown, 5)

    await settle(window)


async def test_a_reply_sent_after_opening_lands_at_the_end(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window, view = await open_long(make_window)
    first = view.first_shown
    external.reply = ReplySpec(text="The newest answer.")
    type_and_send(window, "One more question")
    await reply_finished(window)
    text = transcript(window)
    assert text.index("One more question") > text.index(f"Answer {COUNT // 2 - 1}")
    assert "The newest answer." in text.split("One more question", 1)[1]
    # A plain send appends: nothing was written again, the earlier ones still wait.
    assert view.first_shown == first
    assert view.shows_messages(COUNT + 2)
    # The whole history went to the model, not just what is shown.
    sent = external.requests_to("/api/chat")[-1].body["messages"]
    assert len(sent) == COUNT + 1
    # Loading the earlier ones now still puts them in front of everything.
    control(window, "Show earlier messages").click()
    await wait_until(lambda: view.first_shown < first, 5)
    assert transcript(window).rstrip().endswith(view.toPlainText().rstrip()[-40:])
    assert transcript(window).index("One more question") > transcript(window).index(
        f"Question {first // 2}:"
    )
    await settle(window)


def test_batches_start_at_a_question_and_stay_within_their_budget() -> None:
    messages = long_messages()
    start = batch_start(messages, len(messages))
    assert messages[start].role == "user"
    assert len(messages) - start <= FIRST_MESSAGES
    assert batch_start(messages[:10], 10) == 0  # short: all of it, as always
    big = "x" * 100_000
    huge = [Message("user", "q"), Message("assistant", big), Message("user", "q2")]
    huge.append(Message("assistant", big))
    assert batch_start(huge, 4) == 2  # a budget spent by one reply: it and its question
    assert batch_start(huge, 2) == 0
    assert batch_start([], 0) == 0


def test_showing_another_conversation_forgets_the_code_blocks_of_the_last(qapp: object) -> None:
    view = ConversationView()
    settings = ConversationSettings(model="m")
    code = Conversation(None, "a", settings, [Message("assistant", "```\nsecret()\n```")])
    view.show_conversation(code)
    assert view.code_text(0) == "secret()"
    view.show_conversation(Conversation(None, "b", settings, [Message("user", "hello")]))
    assert view.code_text(0) is None
    view.deleteLater()
