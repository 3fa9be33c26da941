"""Fault case 15: the conversation database damaged, and locked by another process.

The real window against the test server; the lock is held by a real second process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from launcher.core.store import Store
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui import conftest as ui_fixtures
from tests.ui.helpers import ready, reply_finished, transcript, type_and_send
from tests.unit.lock_holder import LockHolder
from tests.waiting import wait_until

make_window = ui_fixtures.make_window
external = ui_fixtures.external


def _saved(db: Path) -> list[tuple[str, str]]:
    s = Store(db)
    try:
        return [
            (m.role, m.content)
            for c in s.list_conversations()
            for m in s.get_conversation(c.id).messages
        ]
    finally:
        s.close()


async def test_15_a_damaged_database_is_set_aside_and_chat_goes_on(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], isolated_env: Path
) -> None:
    db = isolated_env / "data" / "conversations.sqlite3"
    db.parent.mkdir(parents=True)
    damaged = b"SQLite format 3\x00" + b"\xff" * 8000
    db.write_bytes(damaged)
    window = await ready(make_window)
    history = window.launcher.history
    await wait_until(lambda: "was damaged" in history.notice, 5)
    aside = list(db.parent.glob("conversations.damaged-*.sqlite3"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged  # kept, never deleted
    assert aside[0].name in history.notice and "Errno" not in history.notice
    # The app is usable: a reply is shown and saved in the new database.
    external.reply = ReplySpec(text="fresh start")
    type_and_send(window, "still there?")
    await reply_finished(window)
    assert "fresh start" in transcript(window)
    assert _saved(db) == [("user", "still there?"), ("assistant", "fresh start")]


async def test_15_a_database_locked_by_another_process_loses_no_reply(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], isolated_env: Path
) -> None:
    db = isolated_env / "data" / "conversations.sqlite3"
    window = await ready(make_window)
    history = window.launcher.history
    await wait_until(lambda: db.exists(), 5)
    holder = LockHolder(db)
    try:
        external.reply = ReplySpec(text="worth keeping")
        type_and_send(window, "remember this")
        await wait_until(lambda: "worth keeping" in transcript(window), 10)
        await wait_until(lambda: "in use by another program" in history.notice, 10)
        await wait_until(lambda: not window.launcher.chat.busy, 5)  # chat usable again
        assert _saved(db) == []  # nothing written while the other process holds the lock
    finally:
        holder.release()
    await wait_until(lambda: history.notice == "", 20)
    await window.launcher.saving.wait(10)
    assert _saved(db) == [("user", "remember this"), ("assistant", "worth keeping")]
    assert "worth keeping" in transcript(window)
