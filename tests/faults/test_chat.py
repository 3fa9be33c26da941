"""Chat failure paths through the real window: every turn ends, says what happened, keeps text.

Fault cases 4, 5, 6, 7, 17 and 18 of issue 7. Each test checks the words a person
sees (a specific message, no technical text), what is kept (on screen and in the
database), and that Send works afterwards.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from launcher.config import Settings, save_settings
from launcher.ui.main_window import MainWindow
from tests.conftest import free_port
from tests.faults.chat_helpers import assert_plain_words, send_works
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ollama_server.server import HttpError
from tests.ui import conftest as ui_fixtures
from tests.ui.helpers import ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until

# The window fixtures of tests/ui (a conftest here would be shared with other suites).
external = ui_fixtures.external
fake_ollama = ui_fixtures.fake_ollama
make_window = ui_fixtures.make_window


async def saved_reply(window: MainWindow) -> tuple[str, str, str]:
    """(content, state, note) of the last message as the database has it."""
    await window.launcher.saving.wait(5)
    conv_id = window.launcher.chat.conversation.id
    assert conv_id is not None
    stored = await window.launcher.history.load(conv_id)
    assert stored is not None
    last = stored.messages[-1]
    return last.content, last.state, last.note


# ---- 4: the server accepts a chat and never answers -------------------------------


async def test_4_stop_closes_a_chat_that_never_answers(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="never", first_chunk_delay=120)
    window = await ready(make_window)
    type_and_send(window, "Hello?")
    await wait_until(lambda: len(external.streams) == 1, 5)
    assert window.chat.stop_button.isEnabled()
    clicked = time.monotonic()
    window.chat.stop_button.click()
    # Settled at once: Send usable, Stop not, the reply marked as stopped.
    assert window.chat.send_button.isEnabled() and not window.chat.stop_button.isEnabled()
    assert not window.launcher.chat.busy
    assert transcript(window).rstrip().endswith("■ Stopped.")
    # The server sees the disconnect: the request is really gone.
    await wait_until(lambda: external.streams[0].closed_by_client(), 2)
    closed_at = external.streams[0].client_closed_at
    assert closed_at is not None and closed_at >= clicked
    assert external.streams[0].chunks_sent == 0
    assert_plain_words(window)
    external.reply = ReplySpec(text="Here now.")
    await send_works(window, "Here now.")


# ---- 5 and 6: a broken stream keeps what arrived -----------------------------------


@pytest.mark.parametrize(
    ("spec", "headline"),
    [
        (
            ReplySpec(text="alpha beta gamma delta epsilon", malformed_after=3),
            "sent part of the reply in a form the launcher cannot read",
        ),
        (
            ReplySpec(
                text="alpha beta gamma delta epsilon",
                error_after=3,
                error_message="llama runner process has terminated: signal: killed",
            ),
            "Ollama stopped with an error: llama runner process has terminated: signal: killed.",
        ),
    ],
    ids=["5-not-json", "6-error-line"],
)
async def test_5_6_a_broken_stream_keeps_the_partial_reply(
    external: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    spec: ReplySpec,
    headline: str,
) -> None:
    external.reply = spec
    window = await ready(make_window)
    type_and_send(window, "go")
    await reply_finished(window)
    text = transcript(window)
    assert "alpha beta gamma" in text
    assert headline in text
    assert_plain_words(window)
    content, state, note = await saved_reply(window)
    assert content.startswith("alpha beta gamma") and state == "error"
    assert headline in note
    external.reply = ReplySpec(text="Recovered.")
    await send_works(window, "Recovered.")


# ---- 7: HTTP 500 and 503 on chat ---------------------------------------------------


class FailingChatServer(OllamaTestServer):
    """A test server whose /api/chat answers with one HTTP error before any byte."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__()
        self.fail_status = status
        self.fail_message = message
        self.failing = True

    async def _chat(self, request: Any, exchange: Any) -> None:
        if self.failing:
            raise HttpError(self.fail_status, self.fail_message)
        await super()._chat(request, exchange)


@pytest.mark.parametrize(
    ("status", "message", "headline"),
    [
        (
            500,
            "llama runner process has terminated: exit status 2",
            "reported an error: llama runner process has terminated: exit status 2.",
        ),
        (
            503,
            "server busy, please try again.  maximum pending requests exceeded",
            "is busy with other requests — try again in a moment.",
        ),
    ],
    ids=["500", "503"],
)
async def test_7_http_errors_on_chat(
    make_window: Callable[[], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    message: str,
    headline: str,
) -> None:
    server = FailingChatServer(status, message)
    server.add_model("llama3.2")
    server.start()
    try:
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{server.port}")
        window = await ready(make_window)
        type_and_send(window, "Tell me a story")
        await reply_finished(window)
        text = transcript(window)
        assert f"Ollama at 127.0.0.1:{server.port} {headline}" in text
        assert "You\nTell me a story" in text  # the typed message is kept
        assert_plain_words(window)
        assert window.chat.send_button.isEnabled()
        content, state, _note = await saved_reply(window)
        assert (content, state) == ("", "error")
        # Retry (offered for a busy server) or Send: it works once the server does.
        server.failing = False
        if window.chat.retry_button.isVisible():
            window.chat.retry_button.click()
            await wait_until(lambda: window.chat._turn is None, 10)
            assert "Hello! How can I help you today?" in transcript(window)
            # The failed attempt is not kept as a version of the reply.
            assert window.launcher.chat.conversation.messages[-1].version_count == 1
        await send_works(window, "Hello! How can I help you today?")
    finally:
        await asyncio.to_thread(server.stop)


# ---- 17: regenerate while the server is stopped -------------------------------------


async def test_17_regenerate_while_the_server_is_stopped_keeps_the_old_reply(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(text="The first, good answer.")
    window = await ready(make_window)
    type_and_send(window, "Question")
    await reply_finished(window)
    await asyncio.to_thread(external.stop)
    window.chat.regenerate_button.click()
    await reply_finished(window)
    # The old reply is still shown (whole, not as an error) and still in the database.
    text = transcript(window)
    assert "The first, good answer." in text
    assert "⚠" not in text
    assert (await saved_reply(window))[:2] == ("The first, good answer.", "complete")
    reply = window.launcher.chat.conversation.messages[-1]
    assert reply.version_count == 1 and reply.content == "The first, good answer."
    # What went wrong is said in words, with a way to try again.
    notice = window.chat.notice.text()
    assert notice == f"⚠ Ollama isn't running on 127.0.0.1:{external.port} — Start it."
    assert window.chat.notice_bar.isVisibleTo(window)
    assert window.chat.retry_button.isVisibleTo(window)
    assert_plain_words(window)
    # The technical text is there for who wants it, behind Details.
    details = window.chat.notice_bar.details
    assert not details.isVisibleTo(window)
    window.chat.notice_bar.details_button.click()
    assert details.isVisibleTo(window) and "OllamaConnectionError" in details.text()
    # The server comes back on the same port: Retry writes a second version.
    again = OllamaTestServer(port=external.port)
    again.add_model("llama3.2")
    again.reply = ReplySpec(text="A second answer.")
    again.start()
    try:
        window.chat.retry_button.click()
        await reply_finished(window)
        assert "A second answer." in transcript(window)
        assert "The first, good answer." not in transcript(window)
        assert reply.version_count == 2 and reply.version_index == 1
        assert " 2/2 " in transcript(window)
        await send_works(window, "A second answer.")
    finally:
        await asyncio.to_thread(again.stop)


# ---- 18: an exception inside a turn -------------------------------------------------


async def test_18_a_chunk_that_breaks_our_assumptions_ends_the_turn(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    # The content of the third chunk is a number, not text: valid JSON, valid chunk
    # shape, but nothing downstream expects it.
    external.reply = ReplySpec(tokens=["Partial ", "text ", 42, " more"])  # type: ignore[list-item]
    window = await ready(make_window)
    type_and_send(window, "go")
    await reply_finished(window)
    text = transcript(window)
    assert "Partial text" in text
    assert "⚠ Something went wrong inside the launcher. Your text is kept; try again" in text
    reply = window.launcher.chat.conversation.messages[-1]
    assert reply.state == "error" and reply.content.startswith("Partial text")
    assert not window.launcher.chat.busy
    assert_plain_words(window)
    content, state, _note = await saved_reply(window)
    assert content.startswith("Partial text") and state == "error"
    external.reply = ReplySpec(text="Fine again.")
    await send_works(window, "Fine again.")


# ---- issue 9: sending while the local server is stopped starts it ------------------


async def test_send_with_the_local_server_stopped_starts_it_and_sends(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(ready_delay="0.5")
    settings = Settings()
    settings.local.auto_start = False  # stopped until the send
    save_settings(settings)
    window = make_window()
    status = window.launcher.monitor
    await wait_until(lambda: status.status.state.value == "Stopped", 10)
    window.launcher.chat.conversation.settings.model = "llama3.2"
    type_and_send(window, "Hello from a stopped server")
    assert window.chat.stop_button.isEnabled()
    await wait_until(lambda: "Starting Ollama" in window.chat.stats.text(), 5)
    await wait_until(lambda: status.status.state.value == "Running", 20)
    await reply_finished(window, 20)
    reply = window.launcher.chat.conversation.messages[-1]
    assert reply.state == "complete" and reply.content, transcript(window)
    assert os.environ["OLLAMA_HOST"].endswith(str(fake["port"]))


async def test_send_without_ollama_installed_says_so_and_keeps_the_message(
    monkeypatch: pytest.MonkeyPatch, make_window: Callable[[], MainWindow]
) -> None:
    # A local address with nothing answering and no `ollama` anywhere (isolated PATH).
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    window = make_window()
    monitor = window.launcher.monitor
    await wait_until(lambda: monitor.status.state.value == "Not installed", 5)
    window.launcher.chat.conversation.settings.model = "llama3.2"
    type_and_send(window, "Is anyone there?")
    await reply_finished(window)
    text = transcript(window)
    assert "You\nIs anyone there?" in text
    assert (
        "⚠ Ollama is not installed on this computer — get it from https://ollama.com/download"
        in text
    )
    assert_plain_words(window)
    assert window.chat.send_button.isEnabled()
