"""What the chat keeps after a conversation is left: not its turn, not its conversation.

A finished reply's turn holds every chunk of the reply as it arrived and the whole
conversation; kept as the controller's child it made every conversation ever replied to
stay in memory (about 0.7 MB for a 10,000-chunk reply: issue 8's memory figure). Leaving
a conversation also has the heap looked at (core/heaptrim.py).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from launcher.core.chat import ChatTurn
from launcher.core.conversation import Conversation
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import ready, reply_finished, type_and_send
from tests.waiting import wait_until

CONVERSATIONS = 4


def collected(refs: Sequence[weakref.ref[Any]]) -> bool:
    """Every referent is gone (after a collection: the turn and its task form cycles)."""
    gc.collect()
    return all(ref() is None for ref in refs)


async def test_a_left_conversation_and_its_turn_are_not_kept(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    external.reply = ReplySpec(tokens=[f"word{i} " for i in range(300)])
    window = await ready(make_window)
    controller = window.launcher.chat
    turns: list[weakref.ref[ChatTurn]] = []
    conversations: list[weakref.ref[Conversation]] = []
    ids: list[int] = []
    for i in range(CONVERSATIONS):
        window.new_chat()
        type_and_send(window, f"question {i}")
        await reply_finished(window)
        assert controller.turn is not None and controller.turn.chunks >= 300
        turns.append(weakref.ref(controller.turn))
        conversations.append(weakref.ref(controller.conversation))
        assert controller.conversation.id is not None
        ids.append(controller.conversation.id)
    # Each one opened again from the history and left, as a person browsing would.
    for conv_id in ids:
        await window.launcher.open_conversation(conv_id)
        conversations.append(weakref.ref(controller.conversation))
    window.new_chat()

    # Every turn is gone once its conversation is left: nothing grows with the number of
    # conversations.
    await wait_until(lambda: collected(turns), 5, "a finished turn was kept")
    assert controller.findChildren(ChatTurn) == []
    await wait_until(lambda: collected(conversations), 5, "a left conversation was kept")

    # A reply replaces the previous turn at once, even within one conversation.
    type_and_send(window, "one more")
    await reply_finished(window)
    first = controller.turn
    assert first is not None
    type_and_send(window, "and another")
    await reply_finished(window)
    assert controller.turn is not first
    replaced = weakref.ref(first)
    del first
    await wait_until(lambda: collected([replaced]), 5, "the replaced turn was kept")
    assert controller.findChildren(ChatTurn) == [controller.turn]

    # Leaving the conversation also has the heap looked at, a little later (heaptrim.py).
    checks = controller.heap_trimmer.checks
    window.new_chat()
    await wait_until(lambda: controller.heap_trimmer.checks > checks, 5, "no heap check")
