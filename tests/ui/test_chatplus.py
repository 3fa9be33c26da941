"""Issue 12's chat extras in the real window against the real test server: the Context label,
dropped files, web search through the hosted API (and never the key to Ollama), token
probabilities, tool steps, cut context, branches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt, QUrl
from PySide6.QtGui import QHelpEvent, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from launcher.core.webtools import KEY_ID
from launcher.secrets import SecretStore
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ollama_server.websearch import WebRequest, WebSearchServer
from tests.ui.helpers import control, ready, reply_finished, transcript, type_and_send
from tests.ui.test_chatplus_widgets import drop_files
from tests.unit.keyring_backends import MemoryKeyring, installed
from tests.waiting import wait_until


def chats(server: OllamaTestServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.path == "/api/chat" and r.body.get("messages")]


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebSearchServer]:
    server = WebSearchServer().start()
    monkeypatch.setenv("OLLAMA_LAUNCHER_WEB_BASE", server.url)
    try:
        yield server
    finally:
        server.stop()


def with_tools(server: OllamaTestServer) -> OllamaTestServer:
    server.models["llama3.2:latest"].capabilities = ["completion", "tools"]
    return server


async def test_the_context_label_shows_tokens_used_over_the_context_after_a_reply(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="Hello there friend", prompt_eval_count=1231)
    window = await ready(make_window)
    meter = control(window, "Context")
    type_and_send(window, "Hi")
    await reply_finished(window)
    await wait_until(lambda: meter.text() == "1,234 / 4,096", 5, f"meter: {meter.text()!r}")
    assert "131,072" in meter.toolTip()  # the model's maximum, from /api/show


async def test_a_text_file_dropped_on_message_goes_into_the_next_request(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("The launch code is AURORA-7.\nBring snacks.\n")
    window = await ready(make_window)
    message = control(window, "Message")
    assert drop_files(message.viewport(), [notes])
    await wait_until(lambda: bool(_chips(window)), 5)
    chip = _chips(window)[0]
    assert chip.accessibleName() == "Remove file notes.txt"
    type_and_send(window, "What is the launch code?")
    await reply_finished(window)
    last_user = [m for m in chats(external)[-1]["messages"] if m["role"] == "user"][-1]
    assert "The launch code is AURORA-7." in last_user["content"]
    assert '<attached-file name="notes.txt" type="text">' in last_user["content"]
    assert last_user["content"].endswith("What is the launch code?")
    shown = transcript(window)
    assert "[File: notes.txt (" in shown and "AURORA-7" not in shown  # a chip, not the text
    assert _chips(window) == []  # sent: the chips are gone


def _chips(window: MainWindow) -> list[Any]:
    from PySide6.QtWidgets import QToolButton

    return [
        w
        for w in window.chat.findChildren(QToolButton)
        if w.accessibleName().startswith("Remove file ") and not w.isHidden()
    ]


async def _web_search_turn(
    server: OllamaTestServer, web: WebSearchServer, window: MainWindow
) -> None:
    server.reply = ReplySpec(
        text="",
        tool_calls=[{"function": {"name": "web_search", "arguments": {"query": "ollama 0.12"}}}],
    )

    def answer(_: WebRequest) -> None:
        server.reply = ReplySpec(text="Ollama 0.12 added web search.")

    web.on_request = answer
    box = control(window, "Web search")
    await wait_until(box.isEnabled, 5)
    box.click()
    assert box.isChecked()
    type_and_send(window, "What's new in Ollama?")
    await reply_finished(window)


def _check_web_search(server: OllamaTestServer, web: WebSearchServer, key: str) -> None:
    (search,) = web.searches()
    assert search.headers["Authorization"] == f"Bearer {key}"
    assert search.body == {"query": "ollama 0.12", "max_results": 5}
    first, second = chats(server)
    assert [t["function"]["name"] for t in first["tools"]] == ["web_search"]
    tool = second["messages"][-1]
    assert tool["role"] == "tool" and tool["tool_name"] == "web_search"
    assert "https://ollama.com/" in tool["content"]
    for request in server.requests:  # the key never reached the Ollama host
        assert key not in str(request.headers) and key not in str(request.raw_body)
        assert "authorization" not in {h.lower() for h in request.headers}


async def test_web_search_with_the_key_in_the_keyring(
    external: OllamaTestServer, web: WebSearchServer, make_window: Callable[[], MainWindow]
) -> None:
    with_tools(external)
    with installed(MemoryKeyring()):
        SecretStore().set(KEY_ID, web.key)
        window = await ready(make_window)
        await _web_search_turn(external, web, window)
    _check_web_search(external, web, web.key)
    assert "Ollama 0.12 added web search." in transcript(window)
    assert 'Tool ▸ web_search: "ollama 0.12" — show result' in transcript(window)


async def test_web_search_with_the_key_in_ollama_api_key(
    external: OllamaTestServer,
    web: WebSearchServer,
    make_window: Callable[[], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_tools(external)
    monkeypatch.setenv("OLLAMA_API_KEY", web.key)
    with installed(MemoryKeyring()):
        window = await ready(make_window)
        await _web_search_turn(external, web, window)
    _check_web_search(external, web, web.key)


async def test_a_tool_step_opens_into_its_result_as_plain_text(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    with_tools(external)
    external.reply = ReplySpec(
        text="",
        tool_calls=[{"function": {"name": "calculator", "arguments": {"expression": "6*7"}}}],
    )
    window = await ready(make_window)
    control(window, "Calculator").click()
    seen: list[Any] = []

    def answered(_reply: Any, step: Any) -> None:
        seen.append(step.running)
        if not step.running:
            external.reply = ReplySpec(text="It is 42.")

    window.launcher.chatplus.stepChanged.connect(answered)
    type_and_send(window, "6 times 7?")
    await reply_finished(window)
    assert seen == [True, False]
    view = window.chat.conversation
    await wait_until(lambda: 'Tool ▸ calculator: "6*7" — show result' in transcript(window), 5)
    assert "6*7 = 42" not in transcript(window)
    view.anchorClicked.emit(QUrl("toolstep:1/0"))
    assert 'Tool ▾ calculator: "6*7" — hide result' in transcript(window)
    assert "6*7 = 42" in transcript(window)
    tool = chats(external)[-1]["messages"][-1]
    assert tool == {"role": "tool", "content": "6*7 = 42", "tool_name": "calculator"}


@pytest.mark.qt_log_ignore("does not support raise")  # the tooltip, offscreen
async def test_token_probabilities_cost_nothing_when_off_and_show_alternatives_when_on(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="Paris is lovely")
    window = await ready(make_window)
    type_and_send(window, "Capital?")
    await reply_finished(window)
    assert "logprobs" not in chats(external)[-1]
    switch = control(window, "Token probabilities")
    switch.click()
    type_and_send(window, "Again?")
    await reply_finished(window)
    body = chats(external)[-1]
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    view = window.chat.conversation
    text = view.toPlainText()
    at = text.rindex("lovely")
    cursor = QTextCursor(view.document())
    cursor.setPosition(at + 2)
    rect = view.cursorRect(cursor)
    QApplication.sendEvent(
        view.viewport(),
        QHelpEvent(QEvent.Type.ToolTip, rect.center(), view.viewport().mapToGlobal(rect.center())),
    )
    await wait_until(QToolTip.isVisible, 5)
    tip = QToolTip.text()
    assert tip.startswith("“lovely”:") and "Alternatives:" in tip
    assert "lovely1" in tip  # the test server's alternatives
    # Keyboard: Tab into the reply reaches its words (links); the popup follows the focus.
    QToolTip.hideText()
    view.setFocus()
    for _ in range(3):
        QTest.keyClick(view, Qt.Key.Key_Tab)
        if QToolTip.isVisible():
            break
    await wait_until(QToolTip.isVisible, 5)
    assert "sure" in QToolTip.text() and "Alternatives:" in QToolTip.text()
    assert view.textCursor().hasSelection()  # the focused word


async def test_a_cut_context_is_said_at_the_message_with_one_click_fixes(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    conv = window.launcher.chat.conversation
    from launcher.core.conversation import Message

    for n in range(8):
        conv.messages += [Message("user", "word " * 700), Message("assistant", f"answer {n}")]
    window.chat.show_conversation(conv)
    external.reply = ReplySpec(text="ok", prompt_eval_count=4090)
    type_and_send(window, "and now?")
    await reply_finished(window)
    notice = control(window, "Context warning")
    await wait_until(lambda: not window.history_wiring.chatplus.notice.isHidden(), 5)
    assert notice.text().startswith(
        "The start of this conversation no longer fits in the context (4,096 tokens): "
        "the model did not see messages 1-"
    )
    assert "the model did not see messages 1-" in transcript(window)
    control(window, "Raise context length").click()
    assert conv.settings.num_ctx is not None and conv.settings.num_ctx > 4096
    type_and_send(window, "better?")
    await reply_finished(window)
    assert chats(external)[-1]["options"]["num_ctx"] == conv.settings.num_ctx


async def test_branch_from_here_starts_a_linked_conversation_with_the_history_up_to_it(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    for text in ("first", "second"):
        type_and_send(window, text)
        await reply_finished(window)
    parent = window.launcher.chat.conversation
    assert parent.id is not None
    window.chat.conversation.branchRequested.emit(1)  # "Branch from here" on the first reply
    branch = window.launcher.chat.conversation
    assert branch is not parent and branch.parent_id == parent.id
    history = window.launcher.history
    await wait_until(lambda: any(s.parent_id == parent.id for s in history.summaries), 5)
    assert branch.id is not None  # saved at once, listed under its parent
    rows = window.sidebar.list
    await wait_until(
        lambda: any(rows.item(i).text().startswith("↳ ") for i in range(rows.count())), 5
    )
    marked = next(rows.item(i) for i in range(rows.count()) if rows.item(i).text().startswith("↳ "))
    assert "Branch of “" in marked.toolTip()
    assert [m.content for m in branch.messages] == ["first", parent.messages[1].content]
    type_and_send(window, "a different second")
    await reply_finished(window)
    sent = chats(external)[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["first", "a different second"]
    assert len(parent.messages) == 4  # the original is unchanged


async def test_stop_ends_the_tool_loop_while_a_web_search_runs(
    external: OllamaTestServer,
    web: WebSearchServer,
    make_window: Callable[[], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    with_tools(external)
    monkeypatch.setenv("OLLAMA_API_KEY", web.key)
    release = threading.Event()
    searching = threading.Event()

    def slow(_: WebRequest) -> None:
        searching.set()
        release.wait(10)

    web.on_request = slow
    external.reply = ReplySpec(
        text="", tool_calls=[{"function": {"name": "web_search", "arguments": {"query": "q"}}}]
    )
    try:
        with installed(MemoryKeyring()):
            window = await ready(make_window)
            control(window, "Web search").click()
            type_and_send(window, "Search something")
            await wait_until(searching.is_set, 10)
            control(window, "Stop generating").click()
            await reply_finished(window)
    finally:
        release.set()
    reply = window.launcher.chat.conversation.messages[-1]
    assert reply.state == "stopped"
    assert len(chats(external)) == 1  # nothing was asked after the stop
    assert 'Tool ▸ web_search: "q" — stopped' in transcript(window)


async def test_editing_a_message_with_a_file_gives_back_its_text_and_its_chip(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("city,people\nLyon,522000\n")
    window = await ready(make_window)
    assert drop_files(control(window, "Message").viewport(), [data])
    await wait_until(lambda: bool(_chips(window)), 5)
    type_and_send(window, "Biggest city?")
    await reply_finished(window)
    window.chat.start_edit(0)
    assert window.chat.message.toPlainText() == "Biggest city?"
    assert [c.accessibleName() for c in _chips(window)] == ["Remove file data.csv"]
    window.chat.message.setPlainText("Smallest city?")
    window.chat.send()
    await reply_finished(window)
    content = chats(external)[-1]["messages"][-1]["content"]
    assert "Lyon,522000" in content and content.endswith("Smallest city?")
    assert content.count("<attached-file") == 1


async def test_files_that_cannot_be_attached_say_why(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n")
    window = await ready(make_window)
    assert drop_files(control(window, "Message").viewport(), [binary, photo])
    warning = control(window, "Attachment warning")
    await wait_until(lambda: "blob.bin is not a text file" in warning.text(), 5)
    assert "photo.png: this model cannot see images" in warning.text()
    assert _chips(window) == []


async def test_a_new_chat_from_a_summary_starts_from_the_models_summary(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    type_and_send(window, "Plan a trip to Lyon")
    await reply_finished(window)
    old = window.launcher.chat.conversation
    external.reply = ReplySpec(text="- A trip to Lyon is being planned.")
    window.history_wiring.chatplus.summary_chat()
    await wait_until(lambda: window.launcher.chat.conversation is not old, 10)
    fresh = window.launcher.chat.conversation
    assert fresh.messages[0].content.endswith("- A trip to Lyon is being planned.")
    assert "Summary of the earlier conversation" in transcript(window)
    body = chats(external)[-1]
    assert body["stream"] is False and "Plan a trip to Lyon" in body["messages"][1]["content"]


async def test_web_search_without_a_key_says_where_to_put_one_and_keeps_it_in_the_keyring(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    with_tools(external)
    with installed(MemoryKeyring()) as keyring:
        window = await ready(make_window)
        control(window, "Web search").click()
        status = control(window, "Tool status")
        await wait_until(lambda: "needs an ollama.com API key" in status.text(), 5)
        key_button = control(window, "ollama.com API key")
        assert not key_button.isHidden()
        window.history_wiring.chatplus.store_key("sk-typed-0123456789")
        await wait_until(lambda: "in the system keyring" in status.text(), 5)
        assert keyring.secrets[("ollama-launcher", KEY_ID)] == "sk-typed-0123456789"  # type: ignore[attr-defined]


async def test_files_dropped_anywhere_on_the_chat_page_are_attached(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    notes = tmp_path / "todo.md"
    notes.write_text("# Todo\n- ship it\n")
    window = await ready(make_window)
    assert drop_files(control(window, "Conversation").viewport(), [notes])
    await wait_until(lambda: bool(_chips(window)), 5)
    assert drop_files(window.chat, [notes])  # the page itself, outside the two boxes
    await wait_until(lambda: len(_chips(window)) == 2, 5)


async def test_the_switches_follow_the_transcript_in_tab_order(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    view = control(window, "Conversation")
    names = []
    widget = view
    for _ in range(4):
        widget = widget.nextInFocusChain()
        while not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget = widget.nextInFocusChain()
        names.append(widget.accessibleName())
    assert names == ["Attach file", "Web search", "Web fetch", "ollama.com API key"]


async def test_the_context_label_shows_what_is_known_at_once(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    # Before any reply: the context in use; a conversation opened again: its last counts.
    external.reply = ReplySpec(text="one two three", prompt_eval_count=1000)
    window = await ready(make_window)
    meter = control(window, "Context")
    await wait_until(lambda: meter.text() == "– / 4,096", 5)
    type_and_send(window, "count")
    await reply_finished(window)
    await wait_until(lambda: meter.text() == "1,003 / 4,096", 5)
    window.sidebar.new_button.click()
    await wait_until(lambda: meter.text() == "– / 4,096", 5)
    items = window.sidebar.list
    await wait_until(lambda: items.count() == 1, 5)
    items.setCurrentRow(0)
    await wait_until(lambda: "one two three" in transcript(window), 5)
    assert meter.text() == "1,003 / 4,096"  # at once, not after the next reply
    await window.launcher.tasks.wait(5)
