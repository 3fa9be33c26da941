"""A chunk whose text is not text ends the turn cleanly with the runaway guard off too.

With the guard on, its length count raised on the bad chunk; with it off, nothing did,
and the painter and the saver raised later on joining the buffers. Now the turn refuses
such a chunk before it reaches them.
"""

from __future__ import annotations

from collections.abc import Callable

from launcher.config import Settings, save_settings
from launcher.ui.main_window import MainWindow
from tests.faults.chat_helpers import assert_plain_words, send_works
from tests.faults.test_chat import saved_reply
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui import conftest as ui_fixtures
from tests.ui.helpers import ready, reply_finished, transcript, type_and_send

external = ui_fixtures.external
make_window = ui_fixtures.make_window


async def test_a_number_for_text_ends_the_turn_with_the_guard_off(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    settings = Settings()
    settings.guard = {"enabled": False}
    save_settings(settings)
    external.reply = ReplySpec(tokens=["Partial ", "text ", 42, " more"])  # type: ignore[list-item]
    window = await ready(make_window)
    assert not window.launcher.guard_settings().enabled
    type_and_send(window, "go")
    await reply_finished(window)
    reply = window.launcher.chat.conversation.messages[-1]
    assert reply.state == "error" and reply.content == "Partial text "
    assert "Partial text" in transcript(window)
    assert "Something went wrong inside the launcher" in transcript(window)
    assert_plain_words(window)
    content, state, _note = await saved_reply(window)
    assert content == "Partial text " and state == "error"
    external.reply = ReplySpec(text="Fine again.")
    await send_works(window, "Fine again.")
