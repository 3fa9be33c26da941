"""Conversations that last: restart, kill mid-reply, sidebar, export/import, options, actions."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from launcher.core.store import Store
from launcher.ui.main_window import MainWindow
from tests.conftest import REPO
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def titles(window: MainWindow) -> list[str]:
    items = window.sidebar.list
    return [items.item(row).text() for row in range(items.count())]


async def test_history_survives_a_restart_of_the_window(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="Bonjour !")
    window = await ready(make_window)
    type_and_send(window, "Say hello in French")
    await reply_finished(window)
    await wait_until(lambda: titles(window) == ["Say hello in French"], 5)
    before = transcript(window)
    await window.shutdown()

    again = await ready(make_window)
    await wait_until(lambda: titles(again) == ["Say hello in French"], 5)
    await wait_until(lambda: "Bonjour !" in transcript(again), 5)
    assert transcript(again).split("\n")[:4] == before.split("\n")[:4]
    assert again.sidebar.list.currentItem().text() == "Say hello in French"
    # The conversation goes on where it was: the history is sent along.
    external.reply = ReplySpec(text="Au revoir !")
    type_and_send(again, "And goodbye?")
    await reply_finished(again)
    messages = external.requests_to("/api/chat")[-1].body["messages"]
    assert [m["content"] for m in messages] == ["Say hello in French", "Bonjour !", "And goodbye?"]


async def test_kill_mid_reply_loses_at_most_about_a_second(
    external: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    isolated_env: Path,
) -> None:
    tokens = [f"w{i} " for i in range(3000)]
    external.reply = ReplySpec(tokens=tokens, chunk_interval=0.02)  # 50 chunks a second
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.ui.chat_driver",
        "Count for me",
        cwd=REPO,
        env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        assert line.strip() == b"sent"
        await wait_until(lambda: external.streams and external.streams[-1].chunks_sent >= 120, 20)
        child.send_signal(signal.SIGKILL)  # no chance to save anything more
        await asyncio.wait_for(child.wait(), 10)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    await wait_until(lambda: external.streams[-1].closed_by_client(), 5)
    sent = external.streams[-1].chunks_sent

    store = Store(Store.default_path())
    try:
        summary = store.list_conversations()[0]
        reply = store.get_conversation(summary.id).messages[-1]
    finally:
        store.close()
    saved = len(reply.content.split())
    assert reply.role == "assistant" and reply.state == "streaming"
    assert reply.content == "".join(tokens[:saved])  # exactly what arrived, in order
    print(f"SIGKILL mid-reply: {sent - saved} of {sent} chunks lost (50 chunks a second)")
    assert sent - saved <= 55, f"{sent - saved} chunks (at 50 a second) were lost"

    # The next start shows the reply as interrupted, with its text.
    window = await ready(make_window)
    await wait_until(lambda: "■ " in transcript(window), 5)
    assert "Interrupted" in transcript(window) or "interrupted" in transcript(window)
    assert tokens[saved - 1].strip() in transcript(window)
    assert window.chat.continue_button.isEnabled()


async def test_sidebar_new_rename_delete_undo_and_search(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="ok")
    window = await ready(make_window)
    type_and_send(window, "First topic: apples")
    await reply_finished(window)
    window.sidebar.new_button.click()
    assert transcript(window) == ""
    type_and_send(window, "Second topic: pears")
    await reply_finished(window)
    await wait_until(lambda: titles(window) == ["Second topic: pears", "First topic: apples"], 5)

    # Rename through the dialog the F2 key opens.
    window.sidebar.list.setCurrentRow(1)
    await wait_until(lambda: "apples" in transcript(window), 5)
    window.sidebar.rename_current()
    window.sidebar.rename_dialog.setTextValue("Fruit, part one")
    window.sidebar.rename_dialog.accept()
    await wait_until(lambda: "Fruit, part one" in titles(window), 5)

    # Search over titles and text.
    window.sidebar.search.setText("pears")
    await wait_until(lambda: titles(window) == ["Second topic: pears"], 5)
    window.sidebar.search.setText("")
    await wait_until(lambda: len(titles(window)) == 2, 5)

    # Delete, then undo.
    window.sidebar.list.setCurrentRow(titles(window).index("Fruit, part one"))
    window.sidebar.delete_button.click()
    await wait_until(lambda: "Fruit, part one" not in titles(window), 5)
    assert window.sidebar.undo_button.isVisibleTo(window)
    window.sidebar.undo_button.click()
    await wait_until(lambda: "Fruit, part one" in titles(window), 5)


async def test_export_markdown_and_json_and_reimport(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    external.reply = ReplySpec(text="Water boils at **100 °C** at sea level.")
    window = await ready(make_window)
    type_and_send(window, "When does water boil?")
    await reply_finished(window)
    conv_id = window.launcher.chat.conversation.id
    assert conv_id is not None
    wiring = window.history_wiring
    md, js = tmp_path / "c.md", tmp_path / "c.json"
    wiring.export(conv_id, "markdown", md)
    wiring.export(conv_id, "json", js)
    await wait_until(lambda: md.exists() and js.exists(), 5)
    await window.launcher.tasks.wait(5)
    assert "When does water boil?" in md.read_text() and "100 °C" in md.read_text()
    data = json.loads(js.read_text())
    assert data["format"] == "ollama-launcher.conversation"
    wiring.import_file(js)
    await wait_until(lambda: len(titles(window)) == 2, 5)
    await wait_until(lambda: window.launcher.chat.conversation.id not in (None, conv_id), 5)
    assert "Water boils at" in transcript(window)
    # A broken file is refused with a message, and nothing is lost.
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    wiring.import_file(bad)
    await wait_until(lambda: "Import failed" in window.statusBar().currentMessage(), 5)
    assert len(titles(window)) == 2


async def test_system_prompt_and_options_are_sent_and_kept(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="Arr.")
    window = await ready(make_window)
    options = window.chat.options
    options.toggle.click()
    options.system_prompt.setPlainText("You are a pirate.")
    options.temperature.setValue(0.3)
    options.seed.setValue(42)
    options.keep_alive.setText("30m")
    options.keep_alive.editingFinished.emit()
    type_and_send(window, "Hello")
    await reply_finished(window)
    body = external.requests_to("/api/chat")[-1].body
    assert body["messages"][0] == {"role": "system", "content": "You are a pirate."}
    assert body["options"] == {"temperature": 0.3, "seed": 42}
    assert body["keep_alive"] == "30m"
    await window.shutdown()
    again = await ready(make_window)
    await wait_until(lambda: "Arr." in transcript(again), 5)
    assert again.chat.options.system_prompt.toPlainText() == "You are a pirate."
    assert again.chat.options.temperature.value() == 0.3


async def test_regenerate_edit_and_continue(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="Answer one.")
    window = await ready(make_window)
    type_and_send(window, "Question")
    await reply_finished(window)
    # Regenerate: the last reply is written again from the same history.
    external.reply = ReplySpec(text="Answer two.")
    window.chat.regenerate_button.click()
    await reply_finished(window)
    assert "Answer two." in transcript(window) and "Answer one." not in transcript(window)
    assert external.requests_to("/api/chat")[-1].body["messages"] == [
        {"role": "user", "content": "Question"}
    ]
    # Edit and resend: the user message is replaced, what followed is dropped.
    window.chat.edit_button.click()
    assert window.chat.message.toPlainText() == "Question"
    external.reply = ReplySpec(text="Better answer.")
    type_and_send(window, "Better question")
    await reply_finished(window)
    text = transcript(window)
    assert "Better question" in text and "Question\n" not in text and "Answer two." not in text
    # Continue a stopped reply: the partial reply goes back as the last message.
    external.reply = ReplySpec(text="part " * 300, chunk_interval=0.02)
    type_and_send(window, "Long one")
    await wait_until(lambda: transcript(window).count("part") >= 3, 5)
    window.chat.stop_button.click()
    await reply_finished(window)
    partial = window.launcher.chat.conversation.messages[-1].content
    assert window.chat.continue_button.isEnabled()
    external.reply = ReplySpec(text=" and the end.")
    window.chat.continue_button.click()
    await reply_finished(window)
    last = external.requests_to("/api/chat")[-1].body["messages"][-1]
    assert last == {"role": "assistant", "content": partial}
    assert window.launcher.chat.conversation.messages[-1].content == partial + " and the end."
    assert (
        transcript(window)
        .rstrip()
        .endswith("tokens/s · first token " + transcript(window).rstrip().split("first token ")[-1])
    )
    # All of it survives a restart.
    await window.shutdown()
    again = await ready(make_window)
    await wait_until(lambda: "and the end." in transcript(again), 5)
    assert "Answer one." not in transcript(again)


async def test_scrolling_up_is_never_yanked_back(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="line\n\n" * 400, chunk_interval=0.005)
    window = await ready(make_window)
    window.resize(800, 500)
    window.show()
    type_and_send(window, "Many lines")
    bar = window.chat.conversation.verticalScrollBar()
    await wait_until(lambda: bar.maximum() > 200, 10)
    assert bar.value() >= bar.maximum() - 8  # following the reply at the bottom
    bar.setValue(0)  # the user scrolls up to read
    grown = bar.maximum()
    await wait_until(lambda: bar.maximum() > grown + 200, 10)
    assert bar.value() == 0
    window.chat.stop_button.click()


async def test_images_for_vision_models(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    external.models.clear()
    external.add_model("llava", capabilities=["completion", "vision"])
    external.add_model("tiny", capabilities=["completion"])
    window = await ready(make_window)
    window.chat.model_combo.setCurrentText("llava:latest")
    await wait_until(lambda: window.chat.attach_button.isEnabled(), 5)
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    window.chat.attach_files([str(picture)])
    await wait_until(lambda: "1 image" in window.chat.attachments.text(), 5)
    type_and_send(window, "What is this?")
    await reply_finished(window)
    sent = external.requests_to("/api/chat")[-1].body["messages"][-1]
    import base64

    assert base64.b64decode(sent["images"][0]) == PNG
    window.chat.model_combo.setCurrentText("tiny:latest")
    await wait_until(lambda: not window.chat.attach_button.isEnabled(), 5)
