"""Backups: retention rule, daily copies, listing with counts, restore, damaged files set aside."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

from launcher.core import backups
from launcher.core.conversation import ConversationSettings, Message
from launcher.core.store import Store
from launcher.core.store_async import AsyncStore


def test_keep_seven_days_and_four_weeks() -> None:
    start = datetime(2026, 1, 1, 9, 0)
    taken = {}
    for day in range(60):  # two a day for 60 days
        for hour in (9, 18):
            when = start + timedelta(days=day, hours=hour - 9)
            taken[Path(backups.backup_name(when.timestamp()))] = when
    kept = backups.keep(taken)
    kept_times = sorted(taken[p] for p in kept)
    last = start + timedelta(days=59, hours=9)
    daily = [last - timedelta(days=d) for d in range(7)]
    assert set(daily) <= set(kept_times)  # the newest of each of the last 7 days
    older = [t for t in kept_times if t < daily[-1]]
    assert 1 <= len(older) <= 4  # weekly ones beyond them, at most 4 weeks in all
    weeks = {t.isocalendar()[:2] for t in kept_times}
    assert len(weeks) == 4
    assert len(kept) <= 7 + 4


def test_names_parse_back_and_other_files_are_ignored(tmp_path: Path) -> None:
    stamp = datetime(2026, 3, 4, 5, 6, 7).timestamp()
    assert backups.parse_name(backups.backup_name(stamp, "v1")) == (
        datetime(2026, 3, 4, 5, 6, 7),
        "v1",
    )
    assert backups.parse_name("notes.txt") is None
    (tmp_path / "notes.txt").write_text("mine")
    assert backups.existing(tmp_path) == {}


def _fill(path: Path, titles: list[str]) -> None:
    s = Store(path)
    try:
        for title in titles:
            conv = s.create_conversation(ConversationSettings(model="m"), title)
            s.add_message(conv.id or 0, Message("user", f"about {title}"))
    finally:
        s.close()


def test_daily_backup_once_a_day_then_list_and_restore(tmp_path: Path) -> None:
    db = tmp_path / "data" / "conversations.sqlite3"
    _fill(db, ["one", "two"])

    async def scenario() -> None:
        store = AsyncStore(db)
        try:
            first = await store.daily_backup()
            assert first is not None and first.parent == tmp_path / "data" / "backups"
            assert await store.daily_backup() is None  # one a day
            assert backups.has_backup_on(first.parent, date.today())
            await store.create_conversation(ConversationSettings(model="m"), "three")
            listed = await store.list_backups()
            assert [(b.path, b.conversations) for b in listed] == [(first, 2)]
            safety = await store.restore(first)
            assert [c.title for c in await store.list_conversations()] == ["two", "one"]
            assert backups.count_conversations(safety) == 3  # what was replaced is kept
            assert {b.reason for b in await store.list_backups()} == {"", "restore"}
        finally:
            await store.aclose()

    asyncio.run(scenario())


def test_a_damaged_database_is_moved_aside_and_a_new_one_made(tmp_path: Path) -> None:
    db = tmp_path / "conversations.sqlite3"
    db.write_bytes(b"this is not sqlite at all" * 100)

    async def scenario() -> Path | None:
        store = AsyncStore(db)
        try:
            await store.open()
            conv = await store.create_conversation(ConversationSettings(model="m"), "fresh")
            assert conv.id == 1
            return store.moved_aside
        finally:
            await store.aclose()

    moved = asyncio.run(scenario())
    assert moved is not None and moved.parent == tmp_path
    assert moved.name.startswith("conversations.damaged-")
    assert moved.read_bytes() == b"this is not sqlite at all" * 100  # kept, never deleted
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT title FROM conversations").fetchall() == [("fresh",)]
    finally:
        conn.close()
