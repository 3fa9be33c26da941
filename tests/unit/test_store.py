"""Tests for the conversation records and the SQLite store.

The store's promise is "conversations are never lost", so besides the CRUD behaviour these
tests cover the failure paths: a killed process mid-reply, a database from a newer launcher, a
failing migration, a corrupt file, and bad import files.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import queue
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.core.conversation import (
    Conversation,
    ConversationSettings,
    Message,
    title_from,
)
from launcher.core.store import (
    DATA_DIR_ENV,
    EXPORT_FORMAT,
    AsyncStore,
    NotFoundError,
    SchemaTooNewError,
    Store,
    StoreError,
    redact_secrets,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# A frozen copy of the first released schema.  Deliberately NOT imported from the store: if
# someone edits MIGRATIONS[0] instead of appending a migration, databases created by the real
# first release would no longer match, and this copy makes that visible.
V1_SCHEMA_SQL = """
CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL DEFAULT '',
    model         TEXT    NOT NULL DEFAULT '',
    system_prompt TEXT    NOT NULL DEFAULT '',
    temperature   REAL,
    num_ctx       INTEGER,
    seed          INTEGER,
    top_p         REAL,
    keep_alive    TEXT,
    think         INTEGER,
    created_at    REAL    NOT NULL,
    updated_at    REAL    NOT NULL,
    deleted_at    REAL
);
CREATE INDEX conversations_by_updated ON conversations (updated_at DESC, id DESC);
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT    NOT NULL DEFAULT '',
    thinking        TEXT    NOT NULL DEFAULT '',
    images          TEXT    NOT NULL DEFAULT '[]',
    state           TEXT    NOT NULL DEFAULT 'complete'
                    CHECK (state IN ('complete', 'streaming', 'stopped', 'interrupted', 'error')),
    note            TEXT    NOT NULL DEFAULT '',
    stats           TEXT    NOT NULL DEFAULT '{}',
    created_at      REAL    NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE INDEX messages_streaming ON messages (state) WHERE state = 'streaming';
"""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "conversations.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(db_path)
    yield s
    s.close()


def _settings(**kw: object) -> ConversationSettings:
    base: dict[str, object] = {"model": "llama3.2:1b"}
    base.update(kw)
    return ConversationSettings(**base)  # type: ignore[arg-type]


def _strip_ids(messages: list[Message]) -> list[Message]:
    out = []
    for m in messages:
        copy = Message(**{**m.__dict__, "id": None})
        out.append(copy)
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------


class TestRecords:
    def test_to_api_omits_thinking_and_empty_images(self) -> None:
        m = Message(role="assistant", content="hi", thinking="hmm")
        assert m.to_api() == {"role": "assistant", "content": "hi"}
        m2 = Message(role="user", content="look", images=["aGVsbG8="])
        assert m2.to_api() == {"role": "user", "content": "look", "images": ["aGVsbG8="]}

    def test_options_only_set_values(self) -> None:
        assert ConversationSettings().options() == {}
        s = ConversationSettings(temperature=0.0, num_ctx=4096, seed=0, keep_alive="5m", think=True)
        # 0 / 0.0 are real values, not "unset"; keep_alive and think are top-level fields.
        assert s.options() == {"temperature": 0.0, "num_ctx": 4096, "seed": 0}

    def test_api_messages_system_first_and_skips_failed_empty_replies(self) -> None:
        conv = Conversation(
            id=1,
            title="t",
            settings=ConversationSettings(system_prompt="Be brief."),
            messages=[
                Message(role="user", content="q1"),
                Message(role="assistant", content="", state="error", note="boom"),
                Message(role="user", content="q2"),
                Message(role="assistant", content="partial", state="stopped"),
            ],
        )
        assert conv.api_messages() == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "q1"},
            {"role": "user", "content": "q2"},
            {"role": "assistant", "content": "partial"},
        ]

    def test_api_messages_without_system_prompt(self) -> None:
        conv = Conversation(id=None, title="", settings=ConversationSettings(), messages=[])
        assert conv.api_messages() == []

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Hello world", "Hello world"),
            ("\n\n  first   line  \nsecond", "first line"),
            ("", ""),
            ("   \n  ", ""),
        ],
    )
    def test_title_from(self, text: str, expected: str) -> None:
        assert title_from(text) == expected

    def test_title_from_long_text_is_cut_with_ellipsis(self) -> None:
        title = title_from("word " * 40)
        assert title.endswith("…")
        assert len(title) <= 60
        assert title_from("x" * 200) == "x" * 59 + "…"


# ------------------------------------------------------------------------------------------
# Opening, paths, pragmas
# ------------------------------------------------------------------------------------------


class TestOpening:
    def test_default_path_env_override(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "x"))
        assert Store.default_path() == tmp_path / "x" / "conversations.sqlite3"

    def test_default_path_platformdirs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(DATA_DIR_ENV, raising=False)
        path = Store.default_path()
        assert path.name == "conversations.sqlite3"
        assert "ollama-launcher" in str(path)

    def test_creates_parent_dirs_wal_and_version(self, store: Store, db_path: Path) -> None:
        assert db_path.parent.is_dir()
        assert store.schema_version() == Store.SCHEMA_VERSION >= 1
        other = sqlite3.connect(db_path)
        try:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert other.execute("PRAGMA user_version").fetchone()[0] == Store.SCHEMA_VERSION
        finally:
            other.close()

    def test_reopen_keeps_data(self, db_path: Path) -> None:
        s = Store(db_path)
        conv = s.create_conversation(_settings(), "keep me")
        s.close()
        s2 = Store(db_path)
        try:
            assert s2.get_conversation(conv.id or 0).title == "keep me"
        finally:
            s2.close()

    def test_close_twice_is_harmless(self, db_path: Path) -> None:
        s = Store(db_path)
        s.close()
        s.close()

    def test_not_a_database_is_refused_untouched(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True)
        db_path.write_bytes(b"this is not sqlite at all" * 100)
        before = _sha256(db_path)
        with pytest.raises(StoreError, match="not been modified"):
            Store(db_path)
        assert _sha256(db_path) == before


# ------------------------------------------------------------------------------------------
# Migrations
# ------------------------------------------------------------------------------------------


def _make_v1_db(path: Path) -> None:
    """A database exactly as the first release would have written it, via raw SQL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA_SQL)
    conn.execute(
        "INSERT INTO conversations (title, model, temperature, think, created_at, updated_at)"
        " VALUES ('old chat', 'llama3.2:1b', 0.5, 1, 100.0, 200.0)"
    )
    conn.execute(
        "INSERT INTO messages (conversation_id, role, content, state, created_at)"
        " VALUES (1, 'user', 'hello from v1', 'complete', 150.0)"
    )
    conn.execute(
        "INSERT INTO messages (conversation_id, role, content, state, stats, created_at)"
        " VALUES (1, 'assistant', 'partial', 'streaming', '{\"eval_count\": 3}', 151.0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


class TestMigrations:
    def test_open_v1_database_created_by_raw_sql(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        s = Store(db_path)
        try:
            assert s.schema_version() == Store.SCHEMA_VERSION
            conv = s.get_conversation(1)
            assert conv.title == "old chat"
            assert conv.settings.model == "llama3.2:1b"
            assert conv.settings.temperature == 0.5
            assert conv.settings.think is True
            assert [m.content for m in conv.messages] == ["hello from v1", "partial"]
            assert conv.messages[1].stats == {"eval_count": 3.0}
            assert s.mark_interrupted() == 1
            # Still writable after migration.
            s.add_message(1, Message(role="user", content="new"))
            assert [c.title for c in s.list_conversations()] == ["old chat"]
        finally:
            s.close()

    def test_newer_schema_is_refused_without_touching_the_file(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        conn = sqlite3.connect(db_path)
        conn.execute(f"PRAGMA user_version = {Store.SCHEMA_VERSION + 5}")
        conn.commit()
        conn.close()
        before = _sha256(db_path)
        with pytest.raises(SchemaTooNewError) as info:
            Store(db_path)
        message = str(info.value)
        assert f"schema version {Store.SCHEMA_VERSION + 5}" in message
        assert "newer launcher" in message
        assert _sha256(db_path) == before
        assert not Path(str(db_path) + "-wal").exists()

    def test_next_migration_is_applied_with_backup(self, db_path: Path) -> None:
        _make_v1_db(db_path)

        class StoreV2(Store):
            MIGRATIONS = (*Store.MIGRATIONS, "ALTER TABLE conversations ADD COLUMN pinned INTEGER;")

        s = StoreV2(db_path)
        try:
            assert s.schema_version() == len(StoreV2.MIGRATIONS)
            assert s.get_conversation(1).title == "old chat"
        finally:
            s.close()
        backup = db_path.with_name(db_path.name + ".v1.bak")
        assert backup.exists()
        conn = sqlite3.connect(backup)
        try:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        finally:
            conn.close()

    def test_failing_migration_rolls_back_completely(self, db_path: Path) -> None:
        _make_v1_db(db_path)

        class BrokenV2(Store):
            MIGRATIONS = (
                *Store.MIGRATIONS,
                "ALTER TABLE conversations ADD COLUMN pinned INTEGER;\n"
                "DELETE FROM messages;\n"
                "THIS IS NOT SQL;",
            )

        with pytest.raises(StoreError):
            BrokenV2(db_path)
        s = Store(db_path)
        try:
            assert s.schema_version() == 1
            assert len(s.get_conversation(1).messages) == 2
            columns = [r[1] for r in s._conn.execute("PRAGMA table_info(conversations)")]
            assert "pinned" not in columns
        finally:
            s.close()


# ------------------------------------------------------------------------------------------
# Conversations & messages
# ------------------------------------------------------------------------------------------


class TestConversations:
    def test_create_and_get(self, store: Store) -> None:
        settings = _settings(
            system_prompt="sys",
            temperature=0.7,
            num_ctx=8192,
            seed=42,
            top_p=0.9,
            keep_alive="10m",
            think=False,
        )
        conv = store.create_conversation(settings)
        assert conv.id is not None and conv.title == "" and conv.messages == []
        loaded = store.get_conversation(conv.id)
        assert loaded.settings == settings
        assert loaded.created_at == conv.created_at

    def test_get_unknown_raises(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.get_conversation(999)

    def test_newest_first_by_activity(self, store: Store) -> None:
        a = store.create_conversation(_settings(), "A")
        b = store.create_conversation(_settings(), "B")
        assert [c.title for c in store.list_conversations()] == ["B", "A"]
        store.add_message(a.id or 0, Message(role="user", content="bump"))
        summaries = store.list_conversations()
        assert [c.title for c in summaries] == ["A", "B"]
        assert summaries[0].message_count == 1 and summaries[1].message_count == 0
        assert summaries[0].model == "llama3.2:1b"
        assert b.id in {c.id for c in summaries}

    def test_title_from_first_user_message_only(self, store: Store) -> None:
        conv = store.create_conversation(_settings())
        cid = conv.id or 0
        store.add_message(cid, Message(role="system", content="system text"))
        assert store.get_conversation(cid).title == ""
        store.add_message(cid, Message(role="user", content="How do I bake bread?\nDetails"))
        store.add_message(cid, Message(role="assistant", content="Like this"))
        store.add_message(cid, Message(role="user", content="Second question"))
        assert store.get_conversation(cid).title == "How do I bake bread?"

    def test_explicit_title_is_kept_and_rename(self, store: Store) -> None:
        conv = store.create_conversation(_settings(), "Mine")
        cid = conv.id or 0
        store.add_message(cid, Message(role="user", content="hello"))
        assert store.get_conversation(cid).title == "Mine"
        store.rename(cid, "  Renamed   chat ")
        assert store.get_conversation(cid).title == "Renamed chat"
        store.rename(cid, "")  # back to automatic
        assert store.get_conversation(cid).title == "hello"
        with pytest.raises(NotFoundError):
            store.rename(12345, "x")

    def test_update_settings(self, store: Store) -> None:
        conv = store.create_conversation(_settings(temperature=0.1))
        new = ConversationSettings(model="qwen3:0.6b", think=True, num_ctx=2048)
        store.update_settings(conv.id or 0, new)
        assert store.get_conversation(conv.id or 0).settings == new

    def test_soft_delete_undo_and_purge(self, store: Store, db_path: Path) -> None:
        keep = store.create_conversation(_settings(), "keep")
        gone = store.create_conversation(_settings(), "gone")
        gid = gone.id or 0
        store.add_message(gid, Message(role="user", content="bye"))
        store.delete_conversation(gid)
        assert [c.title for c in store.list_conversations()] == ["keep"]
        with pytest.raises(NotFoundError):
            store.get_conversation(gid)
        store.undo_delete(gid)
        assert store.get_conversation(gid).messages[0].content == "bye"
        store.delete_conversation(gid)
        assert store.purge_deleted() == 1
        assert store.purge_deleted() == 0
        with pytest.raises(NotFoundError):
            store.undo_delete(gid)
        # Messages went with it (foreign-key cascade).
        assert store._conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        assert store.get_conversation(keep.id or 0).title == "keep"


class TestSearch:
    @pytest.fixture
    def filled(self, store: Store) -> Store:
        a = store.create_conversation(_settings(), "Bread recipes")
        store.add_message(a.id or 0, Message(role="user", content="How long to proof dough?"))
        b = store.create_conversation(_settings(), "Python help")
        store.add_message(b.id or 0, Message(role="user", content="What is 100% CPU_usage?"))
        c = store.create_conversation(_settings(), "Reise")
        store.add_message(c.id or 0, Message(role="user", content="Straße nach ÜBERLINGEN"))
        return store

    def _titles(self, store: Store, query: str) -> list[str]:
        return [c.title for c in store.list_conversations(query)]

    def test_matches_title_and_text_case_insensitively(self, filled: Store) -> None:
        assert self._titles(filled, "bread") == ["Bread recipes"]
        assert self._titles(filled, "PROOF") == ["Bread recipes"]
        assert self._titles(filled, "  ") == ["Reise", "Python help", "Bread recipes"]
        assert self._titles(filled, "nothing like this") == []

    def test_wildcards_are_literal(self, filled: Store) -> None:
        assert self._titles(filled, "100%") == ["Python help"]
        assert self._titles(filled, "%") == ["Python help"]
        assert self._titles(filled, "to_proof") == []  # "_" must not match any character
        assert self._titles(filled, "CPU_") == ["Python help"]
        assert self._titles(filled, "\\") == []

    def test_non_ascii_case_folding(self, filled: Store) -> None:
        assert self._titles(filled, "überlingen") == ["Reise"]
        assert self._titles(filled, "straße") == ["Reise"]
        assert self._titles(filled, "STRAßE") == ["Reise"]
        # Known trade-off: a pure-ASCII query uses LIKE (ASCII case folding only, about twice
        # as fast), so "strasse" does not find "Straße"; see bench_store.py for the numbers.

    def test_deleted_are_not_found(self, filled: Store) -> None:
        conv_id = filled.list_conversations("bread")[0].id
        filled.delete_conversation(conv_id)
        assert self._titles(filled, "bread") == []


class TestMessages:
    def test_add_update_and_order(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        user = Message(role="user", content="q", images=["aW1n"])
        uid = store.add_message(cid, user)
        assert user.id == uid
        reply = Message(role="assistant", content="", state="streaming")
        rid = store.add_message(cid, reply)
        store.update_message(rid, content="par", thinking="think")
        store.update_message(
            rid,
            content="partial answer",
            state="complete",
            stats={"eval_count": 12, "tokens_per_second": 33.5, "bad": float("nan")},
        )
        msgs = store.get_conversation(cid).messages
        assert [m.id for m in msgs] == [uid, rid]
        assert msgs[0].images == ["aW1n"]
        assert msgs[1].content == "partial answer" and msgs[1].thinking == "think"
        assert msgs[1].state == "complete"
        assert msgs[1].stats == {"eval_count": 12.0, "tokens_per_second": 33.5}

    def test_update_errors(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        mid = store.add_message(cid, Message(role="assistant", content=""))
        with pytest.raises(NotFoundError):
            store.update_message(99999, content="x")
        with pytest.raises(NotFoundError):
            store.update_message(99999)
        store.update_message(mid)  # nothing to change is fine
        with pytest.raises(ValueError, match="state"):
            store.update_message(mid, state="bogus")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="role"):
            store.add_message(cid, Message(role="robot", content=""))  # type: ignore[arg-type]

    def test_delete_messages_from(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        other = store.create_conversation(_settings()).id or 0
        ids = [
            store.add_message(cid, Message(role=r, content=str(i)))  # type: ignore[arg-type]
            for i, r in enumerate(["user", "assistant", "user", "assistant"])
        ]
        other_id = store.add_message(other, Message(role="user", content="other"))
        store.delete_messages_from(cid, ids[2])
        assert [m.content for m in store.get_conversation(cid).messages] == ["0", "1"]
        # New messages get fresh ids (never reused), so stale ids in the UI can't hit them.
        new_id = store.add_message(cid, Message(role="user", content="edited"))
        assert new_id > max(ids) and new_id > other_id
        with pytest.raises(NotFoundError):
            store.delete_messages_from(cid, other_id)  # message of another conversation
        assert store.get_conversation(other).messages[0].content == "other"

    def test_mark_interrupted(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        a = store.add_message(cid, Message(role="assistant", content="half", state="streaming"))
        b = store.add_message(
            cid, Message(role="assistant", content="x", state="streaming", note="custom")
        )
        store.add_message(cid, Message(role="assistant", content="done"))
        assert store.mark_interrupted() == 2
        assert store.mark_interrupted() == 0
        by_id = {m.id: m for m in store.get_conversation(cid).messages}
        assert by_id[a].state == "interrupted" and by_id[a].content == "half"
        assert by_id[a].note.startswith("Interrupted")
        assert by_id[b].note == "custom"


# ------------------------------------------------------------------------------------------
# Export / import
# ------------------------------------------------------------------------------------------


def _rich_conversation(store: Store) -> int:
    cid = (
        store.create_conversation(
            _settings(system_prompt="You are terse.", temperature=0.2, seed=7, think=True),
            "Export me",
        ).id
        or 0
    )
    store.add_message(cid, Message(role="user", content="Explain **WAL**", images=["aW1n"]))
    store.add_message(
        cid,
        Message(
            role="assistant",
            content="Write-ahead logging.",
            thinking="The user wants a short answer.",
            stats={"eval_count": 5.0, "ttft_ms": 120.0},
        ),
    )
    store.add_message(cid, Message(role="user", content="More?"))
    store.add_message(
        cid,
        Message(
            role="assistant",
            content="",
            state="error",
            note="HTTP 401 (Authorization: Bearer sk-abcdefghijklmnopqrstuv) api_key=hunter22",
        ),
    )
    return cid


class TestExport:
    def test_markdown_contains_roles_text_and_status(self, store: Store) -> None:
        md = store.export_markdown(_rich_conversation(store))
        assert md.startswith("# Export me\n")
        for needle in (
            "## System prompt",
            "You are terse.",
            "## User",
            "Explain **WAL**",
            "## Assistant",
            "Write-ahead logging.",
            "The user wants a short answer.",
            "1 image attached",
            "llama3.2:1b",
            "temperature=0.2",
            "(error: HTTP 401",
        ):
            assert needle in md
        assert "aW1n" not in md  # images are not embedded

    def test_json_round_trip(self, store: Store) -> None:
        cid = _rich_conversation(store)
        original = store.get_conversation(cid)
        data = store.export_json(cid)
        assert data["format"] == EXPORT_FORMAT and data["version"] == 1
        # Must survive real serialisation, not just a dict copy.
        data = json.loads(json.dumps(data))
        imported = store.import_json(data)
        assert imported.id != cid
        assert imported.title == "Export me"
        assert imported.settings == original.settings
        redacted = _strip_ids(original.messages)
        redacted[-1].note = redact_secrets(redacted[-1].note)
        assert _strip_ids(imported.messages) == redacted
        assert store.list_conversations()[0].id == imported.id

    def test_exports_never_contain_api_keys(self, store: Store) -> None:
        cid = _rich_conversation(store)
        md = store.export_markdown(cid)
        text = json.dumps(store.export_json(cid))
        for out in (md, text):
            assert "sk-abcdefghijklmnopqrstuv" not in out
            assert "hunter22" not in out
            assert "[redacted]" in out
        exported = store.export_json(cid)
        settings = exported["settings"]
        assert isinstance(settings, dict)
        keys = set(exported) | set(settings)
        assert not {k for k in keys if "key" in k or "token" in k or "auth" in k}

    def test_import_without_title_uses_first_user_message(self, store: Store) -> None:
        data: dict[str, object] = {
            "format": EXPORT_FORMAT,
            "version": 1,
            "messages": [
                {"role": "user", "content": "Imported question"},
                {"role": "assistant", "content": "cut", "state": "streaming"},
            ],
        }
        conv = store.import_json(data)
        assert conv.title == "Imported question"
        assert conv.settings == ConversationSettings()
        assert conv.messages[1].state == "interrupted"

    @pytest.mark.parametrize(
        ("data", "match"),
        [
            ([1, 2], "expected a JSON object"),
            ({"format": "something-else", "version": 1, "messages": []}, "format"),
            ({"format": EXPORT_FORMAT, "messages": []}, "version"),
            ({"format": EXPORT_FORMAT, "version": True, "messages": []}, "version"),
            ({"format": EXPORT_FORMAT, "version": 99, "messages": []}, "newer"),
            ({"format": EXPORT_FORMAT, "version": 1}, "messages"),
            ({"format": EXPORT_FORMAT, "version": 1, "messages": ["hi"]}, r"messages\[0\]"),
            (
                {"format": EXPORT_FORMAT, "version": 1, "messages": [{"role": "bot"}]},
                r"messages\[0\]\.role",
            ),
            (
                {"format": EXPORT_FORMAT, "version": 1, "messages": [{"role": "user"}]},
                r"messages\[0\]\.content",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "messages": [{"role": "user", "content": 5}],
                },
                "expected a string",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "messages": [{"role": "user", "content": "x", "state": "done"}],
                },
                r"messages\[0\]\.state",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "messages": [{"role": "user", "content": "x", "images": [1]}],
                },
                "images",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "settings": {"num_ctx": "big"},
                    "messages": [],
                },
                r"settings\.num_ctx",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "settings": {"temperature": True},
                    "messages": [],
                },
                r"settings\.temperature",
            ),
            (
                {"format": EXPORT_FORMAT, "version": 1, "settings": [], "messages": []},
                "settings",
            ),
        ],
    )
    def test_bad_import_raises_clear_value_error(
        self, store: Store, data: object, match: str
    ) -> None:
        with pytest.raises(ValueError, match=match):
            store.import_json(data)  # type: ignore[arg-type]
        # Nothing half-imported.
        assert store.list_conversations() == []

    def test_redact_secrets(self) -> None:
        assert redact_secrets("plain error 500") == "plain error 500"
        assert "abc123secretvalue" not in redact_secrets("Bearer abc123secretvalue")
        assert "s3cr3t" not in redact_secrets('{"api_key": "s3cr3t"}')


# ------------------------------------------------------------------------------------------
# Durability: a real child process killed mid-reply
# ------------------------------------------------------------------------------------------

CHILD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from launcher.core.conversation import ConversationSettings, Message
    from launcher.core.store import Store

    store = Store(Path(sys.argv[1]))
    conv = store.create_conversation(ConversationSettings(model="m"))
    store.add_message(conv.id, Message(role="user", content="tell me a story"))
    reply = Message(role="assistant", content="", state="streaming")
    store.add_message(conv.id, reply)
    print("ready", conv.id, reply.id, flush=True)
    text = ""
    for i in range(100_000):
        text += f"token{i} "
        store.update_message(reply.id, content=text)
        print(len(text), flush=True)  # printed only after the commit returned
        time.sleep(0.005)  # pacing so the text stays small; not used for synchronisation
    """
)


def test_killed_mid_reply_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "conversations.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    committed: list[int] = []
    conv_id = reply_id = None
    try:
        while len(committed) < 20:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "child did not report enough updates in time"
            line = lines.get(timeout=remaining)
            assert line is not None, (
                f"child exited early: {proc.stderr.read() if proc.stderr else ''}"
            )
            if line.startswith("ready"):
                _, conv_id_s, reply_id_s = line.split()
                conv_id, reply_id = int(conv_id_s), int(reply_id_s)
            else:
                committed.append(int(line))
    finally:
        proc.kill()  # SIGKILL on POSIX: no cleanup, no atexit, no close()
        proc.wait(timeout=30)
    reader.join(timeout=30)
    # Lines still in the pipe were also printed after their commit: include them.
    while True:
        line = lines.get_nowait() if not lines.empty() else None
        if line is None:
            break
        if line.endswith("\n") and line.strip().isdigit():
            committed.append(int(line))
    assert proc.stderr is not None
    proc.stderr.close()
    assert conv_id is not None and reply_id is not None

    s = Store(db)
    try:
        conv = s.get_conversation(conv_id)
        reply = next(m for m in conv.messages if m.id == reply_id)
        assert len(reply.content) >= committed[-1]
        assert reply.content.startswith("token0 token1 ")
        assert reply.state == "streaming"
        assert s.mark_interrupted() == 1
        reply = next(m for m in s.get_conversation(conv_id).messages if m.id == reply_id)
        assert reply.state == "interrupted"
        assert len(reply.content) >= committed[-1]
    finally:
        s.close()


# ------------------------------------------------------------------------------------------
# AsyncStore
# ------------------------------------------------------------------------------------------


class TracingStore(Store):
    """Records the thread of every SQL statement the connection runs."""

    statement_threads: set[int]

    def _connect(self, path: Path) -> sqlite3.Connection:
        self.statement_threads = set()
        conn = super()._connect(path)
        conn.set_trace_callback(lambda _sql: self.statement_threads.add(threading.get_ident()))
        return conn


class TestAsyncStore:
    def test_sqlite_never_runs_on_the_event_loop_thread(self, db_path: Path) -> None:
        created: list[TracingStore] = []

        def factory(path: Path) -> Store:
            s = TracingStore(path)
            created.append(s)
            return s

        async def scenario() -> tuple[int, set[int]]:
            astore = AsyncStore(db_path, store_factory=factory)
            conv = await astore.create_conversation(_settings(), "async")
            cid = conv.id or 0
            msg = Message(role="assistant", content="", state="streaming")
            mid = await astore.add_message(cid, msg)
            assert msg.id == mid
            await astore.update_message(mid, content="hello", stats={"eval_count": 1})
            assert (await astore.list_conversations("async"))[0].id == cid
            assert (await astore.get_conversation(cid)).messages[0].content == "hello"
            assert await astore.mark_interrupted() == 1
            assert "hello" in await astore.export_markdown(cid)
            data = await astore.export_json(cid)
            await astore.import_json(data)
            await astore.rename(cid, "renamed")
            await astore.update_settings(cid, _settings(seed=1))
            await astore.delete_messages_from(cid, mid)
            await astore.delete_conversation(cid)
            await astore.undo_delete(cid)
            await astore.delete_conversation(cid)
            assert await astore.purge_deleted() == 1
            assert await astore.schema_version() == Store.SCHEMA_VERSION
            threads = set(created[0].statement_threads)
            await astore.aclose()
            await astore.aclose()
            with pytest.raises(RuntimeError, match="closed"):
                await astore.list_conversations()
            return threading.get_ident(), threads

        loop_thread, threads = asyncio.run(scenario())
        assert threads, "no statements traced"
        assert loop_thread not in threads
        assert len(threads) == 1  # one dedicated worker, so writes keep their order

    def test_slow_call_does_not_block_the_loop(self, db_path: Path) -> None:
        gate = threading.Event()

        class SlowStore(Store):
            def list_conversations(self, search: str = "") -> list:  # type: ignore[type-arg]
                # Only finishes once the event loop has run something else meanwhile.
                assert gate.wait(timeout=10), "event loop was blocked"
                return super().list_conversations(search)

        async def scenario() -> None:
            astore = AsyncStore(db_path, store_factory=SlowStore)
            await astore.open()
            pending = asyncio.ensure_future(astore.list_conversations())
            await asyncio.sleep(0)  # let the call be submitted
            gate.set()  # runs on the loop thread while the worker is inside the call
            assert await asyncio.wait_for(pending, timeout=10) == []
            await astore.aclose()

        asyncio.run(scenario())

    def test_writes_keep_issue_order_and_survive_caller_mutation(self, db_path: Path) -> None:
        async def scenario() -> Conversation:
            astore = AsyncStore(db_path)
            cid = (await astore.create_conversation(_settings())).id or 0
            msg = Message(role="assistant", content="", state="streaming")
            add = asyncio.ensure_future(astore.add_message(cid, msg))
            await asyncio.sleep(0)
            msg.content = "mutated after submit"  # must not race with the insert
            mid = await add
            # Fire many updates without awaiting each: the last one issued must win.
            updates = [astore.update_message(mid, content="x" * i) for i in range(1, 51)]
            await asyncio.gather(*updates)
            conv = await astore.get_conversation(cid)
            await astore.aclose()
            return conv

        conv = asyncio.run(scenario())
        assert conv.messages[0].content == "x" * 50

    def test_open_surfaces_errors(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA user_version = 999")
        conn.commit()
        conn.close()

        async def scenario() -> None:
            astore = AsyncStore(db_path)
            with pytest.raises(SchemaTooNewError):
                await astore.open()
            await astore.aclose()

        asyncio.run(scenario())

    def test_close_blocking(self, db_path: Path) -> None:
        async def scenario() -> AsyncStore:
            astore = AsyncStore(db_path)
            await astore.create_conversation(_settings(), "sync close")
            return astore

        astore = asyncio.run(scenario())
        astore.close_blocking()
        astore.close_blocking()
        s = Store(db_path)
        try:
            assert [c.title for c in s.list_conversations()] == ["sync close"]
        finally:
            s.close()
