"""Chat through the real window against the test server: streaming, Stop, thinking, errors."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import control, ready, reply_finished, transcript, type_and_send
from tests.ui.test_history import PNG
from tests.waiting import wait_until


async def test_reply_streams_into_the_conversation(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    # Slow enough that the painter (12 paints a second at model speeds) shows text
    # well before the reply ends.
    external.reply = ReplySpec(text="Paris is the capital of France.", chunk_interval=0.2)
    window = await ready(make_window)
    type_and_send(window, "Capital of France?")
    assert window.chat.message.toPlainText() == ""
    assert not window.chat.send_button.isEnabled()
    assert window.chat.stop_button.isEnabled()
    # Text shows up while the reply is still streaming.
    await wait_until(lambda: "Paris" in transcript(window), 5)
    assert window.chat._turn is not None
    await reply_finished(window)
    text = transcript(window)
    assert "You\nCapital of France?" in text
    assert "Assistant (llama3.2:latest)" in text
    assert "Paris is the capital of France." in text
    assert "tokens/s" in text and "first token" in text
    assert "tokens/s" in window.chat.stats.text()
    assert window.chat.send_button.isEnabled() and not window.chat.stop_button.isEnabled()


async def test_each_turn_sends_the_whole_conversation(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="First answer.")
    window = await ready(make_window)
    type_and_send(window, "one")
    await reply_finished(window)
    external.reply = ReplySpec(text="Second answer.")
    type_and_send(window, "two")
    await reply_finished(window)
    body = external.requests_to("/api/chat")[-1].body
    assert body["messages"] == [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "First answer."},
        {"role": "user", "content": "two"},
    ]
    assert "Second answer." in transcript(window)


async def test_stop_generating_closes_the_connection_and_keeps_the_partial_reply(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="word " * 400, chunk_interval=0.03)
    window = await ready(make_window)
    type_and_send(window, "Talk a lot")
    await wait_until(lambda: transcript(window).count("word") >= 5, 5)
    clicked = time.monotonic()
    window.chat.stop_button.click()
    # Stopped at once: the reply is settled and Send works again.
    assert window.chat.send_button.isEnabled()
    assert not window.chat.stop_button.isEnabled()
    shown = transcript(window).count("word")
    # The server hears it in the click itself: this waits (in the server's thread)
    # without letting the window's event loop turn, so the task has not unwound yet.
    external.wait_for(lambda: external.streams[-1].closed_by_client(), 2)
    record = external.streams[-1]
    assert record.client_closed_at is not None and record.client_closed_at >= clicked
    assert record.chunks_after_close == 0 and not record.finished
    text = transcript(window)
    assert "■ Stopped." in text
    # No text is added after the stop.
    await asyncio.sleep(0.2)  # the thing under test: nothing arrives later
    assert transcript(window).count("word") == shown
    # The next message goes at once and carries the partial reply as history.
    external.reply = ReplySpec(text="Fine.")
    type_and_send(window, "Shorter please")
    await reply_finished(window)
    messages = external.requests_to("/api/chat")[-1].body["messages"]
    assert messages[1]["role"] == "assistant" and messages[1]["content"].startswith("word")
    assert "Fine." in transcript(window)


async def test_keyboard_ctrl_enter_sends_and_escape_stops(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], qtbot: object
) -> None:
    external.reply = ReplySpec(text="tick " * 300, chunk_interval=0.03)
    window = await ready(make_window)
    window.show()
    window.chat.message.setFocus()
    window.chat.message.setPlainText("Go")
    QTest.keyClick(window.chat.message, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await wait_until(lambda: "tick" in transcript(window), 5)
    QTest.keyClick(window.chat.message, Qt.Key.Key_Escape)
    await wait_until(lambda: external.streams[-1].closed_by_client(), 2)
    assert "■ Stopped." in transcript(window)


async def test_thinking_is_shown_inside_its_message_and_collapsed(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model("qwen3", capabilities=["completion", "thinking"])
    external.reply = ReplySpec(text="The answer is 4.", thinking="Two plus two makes four.")
    window = await ready(make_window)
    window.chat.model_combo.setCurrentText("qwen3:latest")
    window.launcher.chat.conversation.settings.think = True
    type_and_send(window, "2+2?")
    await reply_finished(window)
    text = transcript(window)
    assert "The answer is 4." in text
    assert "Two plus two" not in text  # collapsed by default
    # The link sits under the reply's header, before its text, and says how long.
    found = re.search(r"Assistant \(qwen3:latest\)\nThought for \d+\.\d s — show\nThe answer", text)
    assert found, text
    # Opening it (the toggle, or a click on the link) shows the thinking inside the message.
    assert window.chat.thinking_toggle.isVisibleTo(window)
    window.chat.thinking_toggle.click()
    text = transcript(window)
    assert re.search(r"Thought for \d+\.\d s — hide\nTwo plus two makes four.", text), text
    assert window.chat.thinking_toggle.text() == "Hide thinking"
    window.chat.conversation.anchorClicked.emit(QUrl("thinking:1"))
    assert "Two plus two" not in transcript(window)


async def test_thinking_streams_live_inside_the_message_when_open(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model("qwen3", capabilities=["completion", "thinking"])
    external.reply = ReplySpec(
        text="Done.", thinking="step " * 200, chunk_interval=0.02, first_chunk_delay=0
    )
    window = await ready(make_window)
    window.chat.model_combo.setCurrentText("qwen3:latest")
    window.launcher.chat.conversation.settings.think = True
    type_and_send(window, "Think hard")
    await wait_until(lambda: "Thinking… (" in transcript(window), 5)
    assert "step" not in transcript(window)  # collapsed while it streams
    window.chat.thinking_toggle.click()
    await wait_until(lambda: transcript(window).count("step") >= 5, 5)
    seen = transcript(window).count("step")
    await wait_until(lambda: transcript(window).count("step") > seen, 5)  # live
    await reply_finished(window, 20)
    text = transcript(window)
    assert text.count("step") == 200 and "Done." in text
    assert re.search(r"Thought for \d+\.\d s — hide", text)


async def test_unknown_model_error_is_shown_and_send_works_again(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    external.models.clear()  # deleted behind the launcher's back
    type_and_send(window, "hello?")
    await reply_finished(window)
    assert "The model 'llama3.2:latest' is not installed on 127.0.0.1:" in transcript(window)
    assert "pull it on the Models page" in transcript(window)
    assert window.chat.send_button.isEnabled()


async def test_error_line_mid_stream_keeps_partial_text(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="alpha beta gamma delta", error_after=2)
    window = await ready(make_window)
    type_and_send(window, "go")
    await reply_finished(window)
    text = transcript(window)
    assert "alpha beta" in text
    assert "Ollama stopped with an error: an error was encountered while running the model." in text
    external.reply = ReplySpec(text="Recovered.")
    type_and_send(window, "again")
    await reply_finished(window)
    assert "Recovered." in transcript(window)


async def test_server_dying_mid_reply(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="one two three four five", die_after=3)
    window = await ready(make_window)
    type_and_send(window, "go")
    await reply_finished(window)
    text = transcript(window)
    assert "one two three" in text
    assert (
        f"Ollama isn't running on 127.0.0.1:{external.port} — the connection closed "
        "unexpectedly (it may have crashed). What arrived is kept" in text
    )


async def test_malformed_line_is_reported(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="one two three", malformed_after=1)
    window = await ready(make_window)
    type_and_send(window, "go")
    await reply_finished(window)
    assert "in a form the launcher cannot read" in transcript(window)


async def test_connection_refused(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    await asyncio.to_thread(external.stop)
    type_and_send(window, "anyone?")
    await reply_finished(window)
    assert f"Ollama isn't running on 127.0.0.1:{external.port} — Start it." in transcript(window)
    assert "Errno" not in transcript(window)
    assert window.chat.send_button.isEnabled()


async def test_runaway_guard_stops_a_looping_reply(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(tokens=["ha "], repeat=5000, chunk_interval=0.0005)
    window = await ready(make_window)
    type_and_send(window, "laugh")
    await reply_finished(window, 20)
    await wait_until(lambda: external.streams[-1].closed_by_client(), 2)
    assert not external.streams[-1].finished
    assert "kept repeating the same text" in transcript(window)


async def test_send_needs_a_model(
    ollama_server: OllamaTestServer,
    external: OllamaTestServer,
    make_window: Callable[[], MainWindow],
) -> None:
    external.models.clear()
    window = make_window()
    await wait_until(lambda: window.status_indicator.text().startswith("Running"), 5)
    type_and_send(window, "hello")
    assert "Choose a model first" in window.chat.stats.text()
    assert window.chat.message.toPlainText() == "hello"  # nothing lost


async def test_a_burst_is_shown_whole_and_stop_shows_what_arrived(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    """A fast server outruns rendering: the text waits in a backlog, painted within a
    time budget, and nothing is dropped, whether the reply ends or is stopped."""
    # 12,000 chunks, ~77k chars: under the runaway guard's 100k length limit.
    tokens = [f"t{i} " if i % 40 != 39 else f"t{i}\n\n" for i in range(12_000)]
    external.reply = ReplySpec(tokens=tokens)
    window = await ready(make_window)
    type_and_send(window, "burst")
    await reply_finished(window, 60)
    text = transcript(window)
    assert "t0 t1" in text and "t11999" in text
    assert "tokens/s" in text
    assert window.launcher.chat.conversation.messages[-1].content == "".join(tokens)

    external.reply = ReplySpec(tokens=tokens, chunk_interval=0.0002)
    type_and_send(window, "again")
    await wait_until(
        lambda: window.launcher.chat.turn is not None and window.launcher.chat.turn.chunks > 3000,
        30,
    )
    window.chat.stop_button.click()
    reply = window.launcher.chat.conversation.messages[-1]
    assert reply.state == "stopped"
    last = reply.content.split()[-1]
    assert transcript(window).rstrip().endswith("■ Stopped.")
    assert f"{last}\n" in transcript(window) or f"{last} " in transcript(window)


async def test_the_think_toggle_exists_only_for_models_that_can_think(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.add_model("qwen3", capabilities=["completion", "thinking"])
    window = await ready(make_window)
    options = window.chat.options
    window.chat.model_combo.setCurrentText("llama3.2:latest")
    await wait_until(lambda: not options.think.isVisibleTo(options.body), 5)
    window.chat.model_combo.setCurrentText("qwen3:latest")
    await wait_until(lambda: options.think.isVisibleTo(options.body), 5)
    assert options.think.isEnabled()


async def test_plurals_are_words_not_parentheses(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    external.models.clear()
    external.add_model("llava", capabilities=["completion", "vision"])
    window = await ready(make_window)
    await wait_until(lambda: window.chat.attach_button.isEnabled(), 5)
    pictures = []
    for name in ("a.png", "b.png"):
        pictures.append(tmp_path / name)
        pictures[-1].write_bytes(PNG)
    window.chat.attach_files([str(pictures[0])])
    await wait_until(lambda: window.chat.attachments.text() == "1 image attached", 5)
    window.chat.attach_files([str(pictures[1])])
    await wait_until(lambda: window.chat.attachments.text() == "2 images attached", 5)
    # A thumbnail is removable before sending.
    remove = [
        b for b in window.chat.findChildren(QToolButton) if b.accessibleName() == "Remove image 1"
    ]
    assert len(remove) == 1
    remove[0].click()
    assert window.chat.attachments.text() == "1 image attached"
    type_and_send(window, "What is this?")
    await reply_finished(window)
    assert len(external.requests_to("/api/chat")[-1].body["messages"][-1]["images"]) == 1
    assert "[1 image attached]" in transcript(window)
    assert "image(s)" not in transcript(window)


async def test_first_run_without_models_offers_small_models_to_download(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.models.clear()
    external.add_pull("gemma3:1b", size=815_000_000)
    window = make_window()
    await wait_until(lambda: window.launcher.monitor.status.state.value == "Running", 5)
    empty = window.chat.empty
    await wait_until(lambda: empty.downloads[0].isVisibleTo(window), 5)
    assert window.chat.pages.currentWidget() is empty
    assert empty.title.text() == "No models yet"
    assert "Download gemma3:1b (815 MB)" in empty.downloads[0].text()
    assert not empty.prompts[0].isVisibleTo(window)
    control(window, "Download gemma3:1b").click()
    await wait_until(lambda: bool(external.requests_to("/api/pull")), 5)
    assert external.requests_to("/api/pull")[0].body["model"] == "gemma3:1b"
    # Once it is installed, the picker has it and the new chat offers example prompts.
    await wait_until(lambda: window.chat.model_combo.count() == 1, 20)
    await wait_until(lambda: empty.prompts[0].isVisibleTo(window), 5)
    empty.prompts[0].click()
    assert window.chat.message.toPlainText() == empty.prompts[0].text()


async def test_the_picker_keeps_its_models_while_the_server_is_stopped(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    await asyncio.to_thread(external.stop)
    monitor = window.launcher.monitor
    await wait_until(lambda: monitor.status.state.value != "Running", 10)
    window.launcher.catalog.clear()  # what a refresh against a dead server leaves
    window.chat.set_models([])
    assert window.chat.model_combo.count() == 1
    assert window.chat.model_combo.currentText() == "llama3.2:latest"
    assert "No models installed" not in window.chat.model_combo.placeholderText()


async def test_the_message_box_grows_with_its_text_up_to_a_limit(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    window.show()
    box = window.chat.message
    empty = box.height()
    box.setPlainText("one\ntwo\nthree\nfour\nfive")
    five = box.height()
    assert five > empty
    box.setPlainText("\n".join(str(i) for i in range(40)))
    forty = box.height()
    assert forty > five
    box.setPlainText("\n".join(str(i) for i in range(80)))
    assert box.height() == forty  # capped: from here on it scrolls
    box.clear()
    assert box.height() == empty


async def test_copy_from_the_message_actions(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="Copy **this** reply.")
    window = await ready(make_window)
    type_and_send(window, "Say it")
    await reply_finished(window)
    window.chat.conversation.show_actions(1)
    control(window, "Copy message").click()
    assert QGuiApplication.clipboard().text() == "Copy **this** reply."  # the Markdown source
    window.chat.conversation.show_actions(0)
    control(window, "Copy message").click()
    assert QGuiApplication.clipboard().text() == "Say it"


async def test_the_picker_tells_what_each_model_is(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = await ready(make_window)
    picker = window.chat.model_combo
    tip = picker.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert picker.itemText(0) == "llama3.2:latest"
    assert " GB" in tip and " · " in tip, tip


def image_count(window: MainWindow) -> int:
    """Images in the transcript's document (the previews of attached pictures)."""
    doc = window.chat.conversation.document()
    count = 0
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            count += it.fragment().charFormat().isImageFormat()
            it += 1
        block = block.next()
    return count


async def test_attached_images_show_as_previews_on_the_message(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    external.models.clear()
    external.add_model("llava", capabilities=["completion", "vision"])
    window = await ready(make_window)
    await wait_until(lambda: window.chat.attach_button.isEnabled(), 5)
    picture = tmp_path / "red.png"
    red = QImage(8, 8, QImage.Format.Format_RGB32)
    red.fill(QColor("red"))
    assert red.save(str(picture))
    window.chat.attach_files([str(picture)])
    await wait_until(lambda: bool(window.chat.attachments.text()), 5)
    type_and_send(window, "What is this?")
    await reply_finished(window)
    assert image_count(window) == 1
    assert window.chat.conversation.blocked_resource_requests == []
    await window.shutdown()
    # From history: decoded in a worker thread, then shown.
    again = await ready(make_window)
    await wait_until(lambda: "What is this?" in transcript(again), 5)
    await wait_until(lambda: image_count(again) == 1, 5)
    assert again.chat.conversation.blocked_resource_requests == []
