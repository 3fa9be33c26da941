"""Fault cases 12 (quit during a reply) and 19 (a 10 MB reply) through the real window.

Quitting mid-reply closes the connection (the server sees it), keeps the partial reply in
the database and shows it again at the next start. A 10 MB reply never takes the window
down: with the runaway guard on (the default) it is stopped at the length limit with a
reason. With the guard off the view shows the first megabyte and says so while every byte
is kept; that path, and how long the event loop stalls on either, is measured by
`tests/benchmarks/bench_chat_10mb.py` (a benchmark, not a test: it takes a minute).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

from launcher.ui.main_window import MainWindow
from tests.faults.chat_helpers import assert_plain_words, send_works
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui import conftest as ui_fixtures
from tests.ui.helpers import ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until

external = ui_fixtures.external
make_window = ui_fixtures.make_window

#: 10 MB in 2,000 chunks of 5,000 characters (the size of case 19), never repeating itself,
#: so the guard's length limit is what stops it rather than its repetition check.
BIG_CHUNKS = 2_000
BIG_TOKENS = [
    "".join(hashlib.sha256(f"{i}-{j}".encode()).hexdigest() + " " for j in range(76)) + "\n"
    for i in range(BIG_CHUNKS)
]
BIG_SIZE = sum(len(t) for t in BIG_TOKENS)


async def test_12_quit_during_a_reply_closes_it_and_keeps_what_arrived(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(tokens=[f"word{i} " for i in range(400)], chunk_interval=0.02)
    window = await ready(make_window)
    type_and_send(window, "Tell me a long story")
    await wait_until(lambda: "word5 " in transcript(window), 10)
    await asyncio.wait_for(window.shutdown(), 10)
    # The connection is closed by the quit itself: Ollama stops generating.
    await wait_until(lambda: external.streams[-1].closed_by_client(), 2)
    assert external.streams[-1].chunks_after_close == 0

    # The next start shows the partial reply, marked, and chat goes on.
    again = await ready(make_window)
    await wait_until(lambda: "word5 " in transcript(again), 10)
    saved = again.launcher.chat.conversation.messages[-1]
    assert saved.role == "assistant"
    assert saved.content.startswith("word0 word1 word2 word3 word4 word5 ")
    assert "word399" not in saved.content
    assert saved.state in ("stopped", "interrupted")
    external.reply = ReplySpec(text="Still here.")
    await send_works(again, "Still here.")
    assert_plain_words(again)


async def test_19_a_10_mb_reply_is_stopped_by_the_guard_with_a_reason(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(tokens=BIG_TOKENS)
    window = await ready(make_window)
    type_and_send(window, "Count forever")
    await reply_finished(window, 30)
    reply = window.launcher.chat.conversation.messages[-1]
    assert reply.state == "stopped"
    assert reply.note.startswith("Stopped:") and "characters" in reply.note
    assert 0 < len(reply.content) < BIG_SIZE // 10  # cut well short of 10 MB
    await wait_until(lambda: external.streams[-1].closed_by_client(), 5)
    external.reply = ReplySpec(text="Fine.")
    await send_works(window, "Fine.")
    assert_plain_words(window)
