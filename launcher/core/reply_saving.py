"""Saving one reply as it streams: its text every half second, its whole record when it ends.

Split from `history.py` (which owns the queue and the store) so the rule of
what is written when stays readable: the earlier versions of a regenerated
reply first; then, while it grows, its text and thinking (and its tool steps
when one started or ended, so a crash mid-tool keeps them); at the end
everything, its token probabilities included (written once: they can be
bulky). Every write goes through the conversation's ordered write queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools

from launcher.core.chat import ChatTurn
from launcher.core.conversation import Message
from launcher.core.store_async import AsyncStore
from launcher.core.write_queue import WriteQueue


def _steps_now(reply: Message) -> tuple[int, int]:
    """How many steps the reply has, and how many of them have their result."""
    steps = reply.tool_steps
    return len(steps), sum(step.result is not None for step in steps)


async def follow_reply(
    writes: WriteQueue, store: AsyncStore, turn: ChatTurn, interval: float
) -> int:
    """Save `turn`'s reply (which has its id) while it grows and when it ends; how many
    saves were written."""
    reply = turn.reply
    assert reply.id is not None
    reply_id = reply.id
    saves = 0
    if reply.versions:  # a regenerated reply: its earlier versions first
        versions, index = reply.versions, reply.version_index
        await writes.write(
            lambda: store.update_message(reply_id, versions=versions, version_index=index)
        )
    saved = (turn.content, turn.thinking)
    saved_versions = (len(reply.versions), reply.version_index)
    # Not the steps the reply has now: a quick tool may have run before the reply got
    # its id (and this loop started), and the row was inserted without it.
    saved_steps = (0, 0)
    waiter = asyncio.ensure_future(turn.wait())
    try:
        while not waiter.done():
            await asyncio.wait({waiter}, timeout=interval)
            if waiter.done():
                break
            current = (turn.content, turn.thinking)
            versions_now = (len(reply.versions), reply.version_index)
            steps_now = _steps_now(reply)
            if current == saved and versions_now == saved_versions and steps_now == saved_steps:
                continue
            changed = versions_now != saved_versions  # e.g. the old reply moved aside
            await writes.write(
                functools.partial(
                    store.update_message,
                    reply_id,
                    content=current[0],
                    thinking=current[1],
                    state="streaming",
                    versions=list(reply.versions) if changed else None,
                    version_index=reply.version_index if changed else None,
                    tool_steps=reply.tool_steps if steps_now != saved_steps else None,
                )
            )
            saves += 1
            saved, saved_versions, saved_steps = current, versions_now, steps_now
    finally:
        if not waiter.done():
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
    await writes.write(lambda: save_whole(store, reply_id, reply))
    return saves + 1


async def save_whole(store: AsyncStore, message_id: int, message: Message) -> None:
    """Write every field of `message` as it is now (the end of a reply, a flipped version)."""
    await store.update_message(
        message_id,
        content=message.content,
        thinking=message.thinking,
        state=message.state,
        note=message.note,
        stats=message.stats,
        versions=message.versions,
        version_index=message.version_index,
        tool_steps=message.tool_steps,
        tokens=message.tokens,
    )
