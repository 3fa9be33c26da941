"""ConversationHistory: writes in the order asked, a locked database waited for, a damaged one
replaced, with the user told. Real chat turns against the test server, a real second process."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from launcher.config import Settings
from launcher.core import mirror
from launcher.core.conversation import ReplyVersion
from launcher.core.launcher import Launcher
from launcher.core.store import Store
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.unit.lock_holder import LockHolder
from tests.waiting import wait_until


@pytest.fixture(autouse=True)
def collected_here(qloop: Any) -> Iterator[None]:
    """Collect the launchers' Qt objects on this (GUI) thread after each test: a later
    collection on the test server's thread would destroy their timers from there."""
    yield
    gc.collect()


def _launcher(server: OllamaTestServer, settings: Settings | None = None) -> Launcher:
    environ = {"OLLAMA_HOST": f"127.0.0.1:{server.port}"}
    return Launcher(settings or Settings(), environ=environ)


def _saved(db: Path) -> list[tuple[str, str, str]]:
    s = Store(db)
    try:
        return [
            (m.role, m.content, m.state)
            for c in s.list_conversations()
            for m in s.get_conversation(c.id).messages
        ]
    finally:
        s.close()


def test_stop_then_regenerate_never_brings_the_discarded_reply_back(
    ollama_server: OllamaTestServer, qrun: Any, isolated_env: Path
) -> None:
    ollama_server.reply = ReplySpec(text="hi")
    launcher = _launcher(ollama_server)
    db = isolated_env / "data" / "conversations.sqlite3"
    holder: LockHolder | None = None

    async def scenario() -> None:
        nonlocal holder
        await launcher.history.open()
        earlier = launcher.chat.send("hello", "llama3.2")
        assert earlier is not None
        await earlier.wait()
        await launcher.saving.wait(timeout=10)
        ollama_server.reply = ReplySpec(text="first answer", first_chunk_delay=0.5)
        # Another program holds the lock: the turn's inserts are still pending when the
        # user stops and regenerates, so the truncation must wait for them.
        holder = LockHolder(db)
        chat = launcher.chat
        first = chat.send("question", "llama3.2")
        assert first is not None
        await wait_until(lambda: launcher.history.notice != "", 10)
        chat.stop()
        ollama_server.reply = ReplySpec(text="second answer")
        second = chat.regenerate()
        assert second is not None and second is not first
        await second.wait()
        holder.release()
        await wait_until(lambda: launcher.history.notice == "", 20)
        await launcher.saving.wait(timeout=10)
        await launcher.shutdown()

    try:
        qrun(scenario())
    finally:
        if holder is not None:
            holder.release()
    assert _saved(db) == [
        ("user", "hello", "complete"),
        ("assistant", "hi", "complete"),
        ("user", "question", "complete"),
        ("assistant", "second answer", "complete"),
    ]


def test_a_locked_database_keeps_the_reply_until_it_can_be_saved(
    ollama_server: OllamaTestServer, qrun: Any, isolated_env: Path
) -> None:
    ollama_server.reply = ReplySpec(text="kept while locked")
    launcher = _launcher(ollama_server)
    db = isolated_env / "data" / "conversations.sqlite3"
    notices: list[str] = []
    launcher.history.noticeChanged.connect(notices.append)
    holder: LockHolder | None = None

    async def scenario() -> None:
        nonlocal holder
        await launcher.history.open()
        holder = LockHolder(db)
        turn = launcher.chat.send("save me", "llama3.2")
        assert turn is not None
        await turn.wait()
        assert turn.reply.content == "kept while locked"  # the reply is whole in memory
        await wait_until(lambda: "in use by another program" in launcher.history.notice, 10)
        assert _saved(db) == []  # nothing could be written yet
        holder.release()
        await wait_until(lambda: launcher.history.notice == "", 20)
        await launcher.saving.wait(timeout=10)
        await launcher.shutdown()

    try:
        qrun(scenario())
    finally:
        if holder is not None:
            holder.release()
    assert notices[0].startswith("The conversation database is in use by another program")
    assert "Errno" not in notices[0] and "Error" not in notices[0]
    assert _saved(db) == [
        ("user", "save me", "complete"),
        ("assistant", "kept while locked", "complete"),
    ]


def test_a_damaged_database_is_set_aside_and_the_user_told_where(
    qrun: Any, isolated_env: Path, ollama_server: OllamaTestServer
) -> None:
    db = isolated_env / "data" / "conversations.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"\x00garbage" * 1000)
    launcher = _launcher(ollama_server)

    async def scenario() -> None:
        await launcher.history.open()
        await launcher.shutdown()

    qrun(scenario())
    aside = list(db.parent.glob("conversations.damaged-*.sqlite3"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"\x00garbage" * 1000
    notice = launcher.history.notice
    assert aside[0].name in notice and str(db.parent) in notice
    assert "nothing was deleted" in notice
    assert _saved(db) == []  # a fresh, working database


def test_continuous_export_keeps_a_markdown_file_per_conversation(
    ollama_server: OllamaTestServer, qrun: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    ollama_server.reply = ReplySpec(text="Knead for ten minutes.")
    launcher = _launcher(ollama_server, Settings(markdown_folder=str(folder)))

    async def scenario() -> None:
        await launcher.history.open()
        turn = launcher.chat.send("How long to knead bread?", "llama3.2")
        assert turn is not None
        await turn.wait()
        await launcher.saving.wait(timeout=10)
        conv_id = launcher.chat.conversation.id
        assert conv_id is not None
        first = folder / f"How long to knead bread-{conv_id}.md"
        await wait_until(first.exists, 5)
        text = first.read_text(encoding="utf-8")
        assert "## User\n\nHow long to knead bread?" in text
        assert "## Assistant\n\nKnead for ten minutes." in text
        await launcher.history.rename(conv_id, "Bread: a/b test")
        assert sorted(p.name for p in folder.iterdir()) == [f"Bread a b test-{conv_id}.md"]
        await launcher.shutdown()

    qrun(scenario())


def test_export_file_names_are_safe_everywhere() -> None:
    assert mirror.file_name('a/b\\c:d*e?f"g<h>i|j', 3) == "a b c d e f g h i j-3.md"
    assert mirror.file_name("...", 4) == "Untitled conversation-4.md"
    assert mirror.file_name("x" * 200, 5) == "x" * 80 + "-5.md"


def test_a_flipped_reply_version_is_saved_in_order(
    ollama_server: OllamaTestServer, qrun: Any, isolated_env: Path
) -> None:
    ollama_server.reply = ReplySpec(text="second try")
    launcher = _launcher(ollama_server)
    db = isolated_env / "data" / "conversations.sqlite3"

    async def scenario() -> None:
        await launcher.history.open()
        turn = launcher.chat.send("q", "llama3.2")
        assert turn is not None
        await turn.wait()
        conv = launcher.chat.conversation
        reply = conv.messages[-1]
        # The user flips to the first version: the shown text and the others swap.
        reply.versions = [ReplyVersion("second try", stats=dict(reply.stats))]
        reply.content, reply.version_index = "first try", 0
        await launcher.history.save_message(conv, reply)  # queued after the turn's saves
        await launcher.saving.wait(timeout=10)
        await launcher.shutdown()

    qrun(scenario())
    s = Store(db)
    try:
        conv_id = s.list_conversations()[0].id
        saved = s.get_conversation(conv_id).messages[-1]
    finally:
        s.close()
    assert (saved.content, saved.version_index) == ("first try", 0)
    assert [v.content for v in saved.versions] == ["second try"]


def test_quitting_while_the_database_is_locked_is_quick_and_says_what_was_lost(
    ollama_server: OllamaTestServer, qrun: Any, isolated_env: Path
) -> None:
    ollama_server.reply = ReplySpec(text="cannot be written")
    launcher = _launcher(ollama_server)
    db = isolated_env / "data" / "conversations.sqlite3"
    failures: list[str] = []
    launcher.history.failed.connect(failures.append)
    holder: LockHolder | None = None

    async def scenario() -> None:
        nonlocal holder
        await launcher.history.open()
        holder = LockHolder(db)
        turn = launcher.chat.send("lost at quit", "llama3.2")
        assert turn is not None
        await turn.wait()
        await wait_until(lambda: launcher.history.notice != "", 10)
        await asyncio.wait_for(launcher.shutdown(), 10)

    try:
        qrun(scenario())
    finally:
        if holder is not None:
            holder.release()
    assert failures == [
        "The last changes could not be saved before quitting: the conversation database is "
        "in use by another program."
    ]


def test_a_database_from_a_newer_launcher_is_left_alone_and_said(
    ollama_server: OllamaTestServer, qrun: Any, isolated_env: Path
) -> None:
    db = isolated_env / "data" / "conversations.sqlite3"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    launcher = _launcher(ollama_server)

    async def scenario() -> None:
        await launcher.history.open()
        await launcher.shutdown()

    qrun(scenario())
    assert launcher.history.notice.startswith(
        "Your conversations were saved by a newer version of the launcher"
    )
    assert launcher.history.notice.endswith("Conversations of this session are not saved.")
