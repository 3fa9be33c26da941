"""Shared pieces of the store tests: a frozen v1 schema, fixtures, small builders."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from launcher.core.conversation import (
    ConversationSettings,
    Message,
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


def settings_(**kw: object) -> ConversationSettings:
    base: dict[str, object] = {"model": "llama3.2:1b"}
    base.update(kw)
    return ConversationSettings(**base)  # type: ignore[arg-type]


def strip_ids(messages: list[Message]) -> list[Message]:
    out = []
    for m in messages:
        copy = Message(**{**m.__dict__, "id": None})
        out.append(copy)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_v1_db(path: Path) -> None:
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
