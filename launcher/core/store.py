"""Durable conversation storage in SQLite.

Design goals, in order:

1. **Conversations are never lost.**  WAL journal with ``synchronous=NORMAL`` means every
   committed write survives the launcher being killed (only an OS crash / power cut can lose
   the last few commits).  Every write is its own committed transaction, so a streamed reply
   saved once a second loses at most about a second of text.  Deletion is soft (undoable), and
   a database written by a newer launcher is refused untouched instead of being "migrated"
   backwards.
2. **The UI thread never touches SQLite.**  :class:`Store` is synchronous and single-threaded;
   :class:`AsyncStore` runs it on one dedicated worker thread and exposes awaitable methods.
   One worker also means writes are applied strictly in the order they were issued.
3. **The schema can evolve.**  ``PRAGMA user_version`` records the schema version and
   :data:`MIGRATIONS` upgrades old files step by step, each step in one transaction.

Search scans with ``LIKE`` (ASCII queries) or a ``casefold`` SQL function (other queries) rather
than FTS5.  Measured on 1,000 conversations x 20 messages (~17 MB of text): ~20 ms (LIKE) and
~40 ms (casefold) for a full scan, off the UI thread; saving a growing 50 KB reply costs ~0.1 ms.
An FTS5 trigram index answered searches in <1 ms but made each streaming save ~20x dearer
(~2 ms median, re-indexing the whole reply) and needs special cases for queries under three
characters.  If histories grow 10x, adding FTS5 is a straightforward migration.
See ``tests/benchmarks/bench_store.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Final, TypeVar, cast

import platformdirs

from launcher.core.conversation import (
    MESSAGE_STATES,
    ROLES,
    Conversation,
    ConversationSettings,
    ConversationSummary,
    Message,
    MessageState,
    title_from,
)

T = TypeVar("T")

APP_NAME: Final = "ollama-launcher"
DB_FILENAME: Final = "conversations.sqlite3"
DATA_DIR_ENV: Final = "OLLAMA_LAUNCHER_DATA_DIR"

EXPORT_FORMAT: Final = "ollama-launcher.conversation"
EXPORT_VERSION: Final = 1

INTERRUPTED_NOTE: Final = "Interrupted: the launcher closed before this reply finished."

# --------------------------------------------------------------------------------------------
# Schema.  MIGRATIONS[i] upgrades a database from version i to version i + 1, so
# MIGRATIONS[0] is the first release's schema.  Never edit a released entry: append a new one.
# --------------------------------------------------------------------------------------------

SCHEMA_V1: Final = """
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

MIGRATIONS: Final[tuple[str, ...]] = (SCHEMA_V1,)


class StoreError(Exception):
    """The conversation database cannot be used (unreadable, corrupt, failed migration)."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer launcher; it is left untouched."""


class NotFoundError(LookupError):
    """A conversation or message id does not exist (or the conversation was deleted)."""


# Things that look like credentials.  Error notes can carry text copied from HTTP errors, and
# exports are meant to be shared, so these are masked on the way out.
_SECRET_PATTERNS: Final = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b(authorization|api[_-]?key|x-api-key|access[_-]?token|token|secret|password)"
        r"(\"?\s*[:=]\s*\"?)[^\s\",;]+"
    ),
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}\b"),
)


def redact_secrets(text: str) -> str:
    """Mask credential-looking substrings (bearer tokens, ``api_key=...``, ``sk-...``)."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    return _SECRET_PATTERNS[2].sub("[redacted]", text)


def _like_pattern(text: str) -> str:
    r"""A ``LIKE ... ESCAPE '\'`` pattern matching ``text`` literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _casefold_contains(haystack: str | None, needle: str | None) -> int:
    """SQL function for non-ASCII searches, where SQLite's ``LIKE`` only folds ASCII case."""
    if haystack is None or needle is None:
        return 0
    return int(needle in haystack.casefold())


class Store:
    """Synchronous conversation store owning one SQLite connection.

    Not thread-safe by design: the connection is created with ``check_same_thread=True`` so any
    accidental use from a second thread (e.g. the UI thread) fails loudly.  Use
    :class:`AsyncStore` from asyncio/Qt code.
    """

    MIGRATIONS: ClassVar[tuple[str, ...]] = MIGRATIONS
    SCHEMA_VERSION: ClassVar[int] = len(MIGRATIONS)

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._connect(self.path)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the conversation database {self.path}: {exc}") from exc
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise
        self._last_tick = self._conn.execute(
            "SELECT coalesce(max(updated_at), 0) FROM conversations"
        ).fetchone()[0]

    # -- opening & migrations ------------------------------------------------------------------

    def _connect(self, path: Path) -> sqlite3.Connection:
        """Create the connection.  A hook so tests can observe the connection (e.g. tracing);
        ``isolation_level=None`` because transactions are managed explicitly in :meth:`_tx`."""
        return sqlite3.connect(path, isolation_level=None, check_same_thread=True)

    def _open(self) -> None:
        target = len(self.MIGRATIONS)
        try:
            # Check the version BEFORE any pragma that writes (journal_mode=WAL rewrites the
            # header), so a newer launcher's file is refused byte-for-byte untouched.
            current = self.schema_version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a readable conversation database ({exc}). "
                "It has not been modified."
            ) from exc
        if current > target:
            raise SchemaTooNewError(
                f"The conversation database {self.path} uses schema version {current}, but this "
                f"launcher only understands up to version {target}. It was probably written by "
                "a newer launcher; please upgrade. The file has not been modified."
            )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            # Another launcher instance may hold the write lock briefly; wait instead of failing.
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.create_function(
                "casefold_contains", 2, _casefold_contains, deterministic=True
            )
            if 0 < current < target:
                self._backup_before_migration(current)
            for version in range(current, target):
                self._apply_migration(version + 1, self.MIGRATIONS[version])
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot prepare the conversation database {self.path}: {exc}"
            ) from exc

    def _backup_before_migration(self, version: int) -> None:
        """Copy the file aside before upgrading it: migrations are transactional, but a copy is
        the last line of defence against a migration that is wrong rather than failing."""
        backup_path = self.path.with_name(f"{self.path.name}.v{version}.bak")
        if backup_path.exists():
            return
        backup = sqlite3.connect(backup_path)
        try:
            self._conn.backup(backup)
        finally:
            backup.close()

    def _apply_migration(self, version: int, script: str) -> None:
        """Run one migration script and bump ``user_version`` atomically: either both happen or
        neither does, so a crash mid-migration leaves the previous, consistent version."""
        try:
            self._conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {int(version)};\nCOMMIT;"
            )
        except BaseException:
            if self._conn.in_transaction:
                self._conn.rollback()
            raise

    @staticmethod
    def default_path() -> Path:
        """Where conversations live: the per-user data folder, or ``$OLLAMA_LAUNCHER_DATA_DIR``
        (used by tests and portable installs)."""
        override = os.environ.get(DATA_DIR_ENV)
        folder = Path(override) if override else platformdirs.user_data_path(APP_NAME)
        return folder / DB_FILENAME

    def schema_version(self) -> int:
        """The schema version recorded in the file (``PRAGMA user_version``)."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Checkpoint and close.  Safe to call twice."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA optimize")
        self._conn.close()

    # -- helpers ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction.  ``IMMEDIATE`` takes the write lock up front, so a concurrent
        writer makes us wait (busy_timeout) instead of failing half-way through."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.rollback()
            raise
        self._conn.commit()

    def _tick(self) -> float:
        """Wall-clock time, but strictly increasing within this store so "newest first" is
        correct even when two writes land in the same clock tick (coarse clocks on Windows)."""
        now = time.time()
        if now <= self._last_tick:
            now = self._last_tick + 1e-6
        self._last_tick = now
        return now

    def _require_conversation(self, conv_id: int, *, include_deleted: bool = False) -> None:
        sql = "SELECT 1 FROM conversations WHERE id = ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        if self._conn.execute(sql, (conv_id,)).fetchone() is None:
            raise NotFoundError(f"No conversation with id {conv_id}")

    @staticmethod
    def _settings_row(settings: ConversationSettings) -> tuple[object, ...]:
        return (
            settings.model,
            settings.system_prompt,
            settings.temperature,
            settings.num_ctx,
            settings.seed,
            settings.top_p,
            settings.keep_alive,
            None if settings.think is None else int(settings.think),
        )

    @staticmethod
    def _settings_from_row(row: Sequence[Any]) -> ConversationSettings:
        model, system_prompt, temperature, num_ctx, seed, top_p, keep_alive, think = row
        return ConversationSettings(
            model=model,
            system_prompt=system_prompt,
            temperature=temperature,
            num_ctx=num_ctx,
            seed=seed,
            top_p=top_p,
            keep_alive=keep_alive,
            think=None if think is None else bool(think),
        )

    # -- conversations ---------------------------------------------------------------------------

    def create_conversation(self, settings: ConversationSettings, title: str = "") -> Conversation:
        """Create an empty conversation.  An empty title is filled from the first user message."""
        now = self._tick()
        cursor = self._conn.execute(
            "INSERT INTO conversations (title, model, system_prompt, temperature, num_ctx, seed,"
            " top_p, keep_alive, think, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (title.strip(), *self._settings_row(settings), now, now),
        )
        assert cursor.lastrowid is not None
        return Conversation(
            id=cursor.lastrowid,
            title=title.strip(),
            settings=dataclasses.replace(settings),
            messages=[],
            created_at=now,
            updated_at=now,
        )

    def list_conversations(self, search: str = "") -> list[ConversationSummary]:
        """Sidebar rows, most recently active first.

        ``search`` matches the title or any message text, case-insensitively and literally
        (``%`` and ``_`` are not wildcards).  ASCII queries use ``LIKE`` (fast, ASCII case
        folding); queries with other characters use Python ``casefold`` so "Über" finds "über".
        """
        sql = (
            "SELECT c.id, c.title, c.model, c.updated_at,"
            " (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)"
            " FROM conversations c WHERE c.deleted_at IS NULL"
        )
        params: tuple[object, ...] = ()
        needle = search.strip()
        if needle and needle.isascii():
            sql += (
                " AND (c.title LIKE ?1 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = c.id AND m.content LIKE ?1 ESCAPE '\\'))"
            )
            params = (_like_pattern(needle),)
        elif needle:
            sql += (
                " AND (casefold_contains(c.title, ?1) OR EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = c.id AND casefold_contains(m.content, ?1)))"
            )
            params = (needle.casefold(),)
        sql += " ORDER BY c.updated_at DESC, c.id DESC"
        return [
            ConversationSummary(
                id=row[0], title=row[1], model=row[2], updated_at=row[3], message_count=row[4]
            )
            for row in self._conn.execute(sql, params)
        ]

    def get_conversation(self, conv_id: int) -> Conversation:
        """Load a conversation with all its messages in order.  Deleted ones are not found."""
        row = self._conn.execute(
            "SELECT id, title, model, system_prompt, temperature, num_ctx, seed, top_p,"
            " keep_alive, think, created_at, updated_at"
            " FROM conversations WHERE id = ? AND deleted_at IS NULL",
            (conv_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"No conversation with id {conv_id}")
        messages = [
            Message(
                role=m[1],
                content=m[2],
                thinking=m[3],
                images=json.loads(m[4]),
                state=m[5],
                note=m[6],
                stats=json.loads(m[7]),
                created_at=m[8],
                id=m[0],
            )
            for m in self._conn.execute(
                "SELECT id, role, content, thinking, images, state, note, stats, created_at"
                " FROM messages WHERE conversation_id = ? ORDER BY id",
                (conv_id,),
            )
        ]
        return Conversation(
            id=row[0],
            title=row[1],
            settings=self._settings_from_row(row[2:10]),
            messages=messages,
            created_at=row[10],
            updated_at=row[11],
        )

    def rename(self, conv_id: int, title: str) -> None:
        """Set the title.  A blank title goes back to the automatic one (first user message)."""
        self._require_conversation(conv_id)
        title = " ".join(title.split())
        if not title:
            first = self._conn.execute(
                "SELECT content FROM messages WHERE conversation_id = ? AND role = 'user'"
                " ORDER BY id LIMIT 1",
                (conv_id,),
            ).fetchone()
            title = title_from(first[0]) if first else ""
        self._conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conv_id))

    def update_settings(self, conv_id: int, settings: ConversationSettings) -> None:
        """Replace the model, system prompt and options of a conversation."""
        self._require_conversation(conv_id)
        self._conn.execute(
            "UPDATE conversations SET model = ?, system_prompt = ?, temperature = ?, num_ctx = ?,"
            " seed = ?, top_p = ?, keep_alive = ?, think = ? WHERE id = ?",
            (*self._settings_row(settings), conv_id),
        )

    def delete_conversation(self, conv_id: int) -> None:
        """Hide a conversation.  Soft delete, so :meth:`undo_delete` can bring it back until
        :meth:`purge_deleted` runs (the app purges on the next start)."""
        self._require_conversation(conv_id)
        self._conn.execute(
            "UPDATE conversations SET deleted_at = ? WHERE id = ?", (time.time(), conv_id)
        )

    def undo_delete(self, conv_id: int) -> None:
        """Bring back a soft-deleted conversation."""
        self._require_conversation(conv_id, include_deleted=True)
        self._conn.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conv_id,))

    def purge_deleted(self) -> int:
        """Permanently remove soft-deleted conversations (and, by cascade, their messages)."""
        cursor = self._conn.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL")
        return cursor.rowcount

    # -- messages --------------------------------------------------------------------------------

    def add_message(self, conv_id: int, message: Message) -> int:
        """Append a message, set ``message.id`` and return it.

        Also marks the conversation as active (``updated_at``) and, while the title is still
        empty, titles it after the first user message, all in one transaction.
        Works on soft-deleted conversations too, so a reply still streaming when the user
        deletes its conversation does not crash the writer.
        """
        _check_role(message.role)
        _check_state(message.state)
        self._require_conversation(conv_id, include_deleted=True)
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, thinking, images, state,"
                " note, stats, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conv_id,
                    message.role,
                    message.content,
                    message.thinking,
                    json.dumps(list(message.images)),
                    message.state,
                    message.note,
                    _dump_stats(message.stats),
                    message.created_at,
                ),
            )
            auto_title = title_from(message.content) if message.role == "user" else ""
            conn.execute(
                "UPDATE conversations SET updated_at = ?,"
                " title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?",
                (self._tick(), auto_title, conv_id),
            )
        assert cursor.lastrowid is not None
        message.id = cursor.lastrowid
        return message.id

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        thinking: str | None = None,
        state: MessageState | None = None,
        note: str | None = None,
        stats: Mapping[str, float] | None = None,
    ) -> None:
        """Overwrite the given fields of a message (``None`` = leave as is).

        This is the streaming save path: one small committed statement, no read-back, so it can
        run every second on a growing reply without noticeable cost.
        """
        assignments: list[str] = []
        params: list[object] = []
        for column, value in (("content", content), ("thinking", thinking), ("note", note)):
            if value is not None:
                assignments.append(f"{column} = ?")
                params.append(value)
        if state is not None:
            _check_state(state)
            assignments.append("state = ?")
            params.append(state)
        if stats is not None:
            assignments.append("stats = ?")
            params.append(_dump_stats(stats))
        if not assignments:
            if (
                self._conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone()
                is None
            ):
                raise NotFoundError(f"No message with id {message_id}")
            return
        cursor = self._conn.execute(
            f"UPDATE messages SET {', '.join(assignments)} WHERE id = ?", (*params, message_id)
        )
        if cursor.rowcount == 0:
            raise NotFoundError(f"No message with id {message_id}")

    def delete_messages_from(self, conv_id: int, message_id: int) -> None:
        """Delete a message and everything after it in its conversation: the basis of
        "regenerate the last reply" and "edit a user message and resend from there"."""
        found = self._conn.execute(
            "SELECT 1 FROM messages WHERE id = ? AND conversation_id = ?", (message_id, conv_id)
        ).fetchone()
        if found is None:
            raise NotFoundError(f"No message with id {message_id} in conversation {conv_id}")
        with self._tx() as conn:
            conn.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND id >= ?", (conv_id, message_id)
            )
            conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (self._tick(), conv_id)
            )

    def mark_interrupted(self) -> int:
        """Call once at start-up: any reply still marked ``streaming`` was cut off by the
        previous run dying, so show it as interrupted (keeping whatever text was saved)."""
        cursor = self._conn.execute(
            "UPDATE messages SET state = 'interrupted',"
            " note = CASE WHEN note = '' THEN ? ELSE note END WHERE state = 'streaming'",
            (INTERRUPTED_NOTE,),
        )
        return cursor.rowcount

    # -- export / import -------------------------------------------------------------------------

    def export_markdown(self, conv_id: int) -> str:
        """A human-readable Markdown transcript.  Images are mentioned, not embedded (base64
        would swamp the text); use JSON for a lossless copy.  Credentials in notes are masked."""
        conv = self.get_conversation(conv_id)
        settings = conv.settings
        lines = [f"# {conv.title or 'Untitled conversation'}", ""]
        if settings.model:
            lines.append(f"- Model: `{settings.model}`")
        options = dict(settings.options())
        if settings.keep_alive is not None:
            options["keep_alive"] = settings.keep_alive
        if settings.think is not None:
            options["think"] = "on" if settings.think else "off"
        if options:
            lines.append("- Options: " + ", ".join(f"{k}={v}" for k, v in options.items()))
        lines.append(f"- Created: {_iso(conv.created_at)}")
        lines.append("")
        if settings.system_prompt.strip():
            lines += ["## System prompt", "", settings.system_prompt.strip(), ""]
        for message in conv.messages:
            lines += [f"## {message.role.capitalize()}", ""]
            if message.thinking.strip():
                lines += [
                    "<details><summary>Thinking</summary>",
                    "",
                    message.thinking.strip(),
                    "",
                    "</details>",
                    "",
                ]
            if message.content:
                lines += [message.content.rstrip(), ""]
            if message.images:
                count = len(message.images)
                lines += [f"_[{count} image{'s' if count != 1 else ''} attached]_", ""]
            if message.state != "complete":
                status = f"_({message.state}"
                if message.note:
                    status += f": {redact_secrets(message.note)}"
                lines += [status + ")_", ""]
        return "\n".join(lines).rstrip() + "\n"

    def export_json(self, conv_id: int) -> dict[str, object]:
        """A lossless, versioned, JSON-serialisable copy that :meth:`import_json` accepts.

        Fields are listed explicitly (never ``asdict`` of a wider object) so nothing outside
        the conversation, such as server URLs or API keys, can leak into a shared file.
        """
        conv = self.get_conversation(conv_id)
        s = conv.settings
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": _iso(time.time()),
            "title": conv.title,
            "created_at": conv.created_at,
            "updated_at": conv.updated_at,
            "settings": {
                "model": s.model,
                "system_prompt": s.system_prompt,
                "temperature": s.temperature,
                "num_ctx": s.num_ctx,
                "seed": s.seed,
                "top_p": s.top_p,
                "keep_alive": s.keep_alive,
                "think": s.think,
            },
            "messages": [
                {
                    "role": m.role,
                    "content": m.content,
                    "thinking": m.thinking,
                    "images": list(m.images),
                    "state": m.state,
                    "note": redact_secrets(m.note),
                    "stats": dict(m.stats),
                    "created_at": m.created_at,
                }
                for m in conv.messages
            ],
        }

    def import_json(self, data: dict[str, object]) -> Conversation:
        """Create a new conversation from :meth:`export_json` output.

        Everything is validated before anything is written, so a bad file never leaves a
        half-imported conversation; errors are ``ValueError`` naming the offending field.
        A reply that was still streaming when exported is imported as interrupted.
        """
        settings, title, created_at, messages = _parse_export(data)
        with self._tx() as conn:
            now = self._tick()
            cursor = conn.execute(
                "INSERT INTO conversations (title, model, system_prompt, temperature, num_ctx,"
                " seed, top_p, keep_alive, think, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (title, *self._settings_row(settings), created_at or now, now),
            )
            conv_id = cursor.lastrowid
            for message in messages:
                message_cursor = conn.execute(
                    "INSERT INTO messages (conversation_id, role, content, thinking, images,"
                    " state, note, stats, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conv_id,
                        message.role,
                        message.content,
                        message.thinking,
                        json.dumps(message.images),
                        message.state,
                        message.note,
                        _dump_stats(message.stats),
                        message.created_at,
                    ),
                )
                message.id = message_cursor.lastrowid
        assert conv_id is not None
        return self.get_conversation(conv_id)


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"Invalid message role {role!r}; expected one of {sorted(ROLES)}")


def _check_state(state: str) -> None:
    if state not in MESSAGE_STATES:
        raise ValueError(
            f"Invalid message state {state!r}; expected one of {sorted(MESSAGE_STATES)}"
        )


def _dump_stats(stats: Mapping[str, float]) -> str:
    # Non-finite floats are not valid JSON; drop them rather than write an unreadable row.
    clean = {str(k): float(v) for k, v in stats.items() if math.isfinite(float(v))}
    return json.dumps(clean)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _get_str(obj: Mapping[str, object], key: str, where: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _get_time(obj: Mapping[str, object], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(cast(float, value)):
        raise ValueError(f"{where}.{key}: expected a timestamp number, got {value!r}")
    return float(cast(float, value))


def _parse_settings(raw: object) -> ConversationSettings:
    if raw is None:
        return ConversationSettings()
    if not isinstance(raw, dict):
        raise ValueError(f"settings: expected an object, got {type(raw).__name__}")
    where = "settings"
    fields: dict[str, object] = raw

    def optional_float(key: str) -> float | None:
        value = fields.get(key)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{where}.{key}: expected a number or null, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{where}.{key}: expected a finite number, got {value!r}")
        return float(value)

    def optional_int(key: str) -> int | None:
        value = fields.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}.{key}: expected an integer or null, got {value!r}")
        return value

    keep_alive = raw.get("keep_alive")
    if keep_alive is not None and not isinstance(keep_alive, str):
        raise ValueError(f"{where}.keep_alive: expected a string or null, got {keep_alive!r}")
    think = raw.get("think")
    if think is not None and not isinstance(think, bool):
        raise ValueError(f"{where}.think: expected true, false or null, got {think!r}")
    return ConversationSettings(
        model=_get_str(raw, "model", where),
        system_prompt=_get_str(raw, "system_prompt", where),
        temperature=optional_float("temperature"),
        num_ctx=optional_int("num_ctx"),
        seed=optional_int("seed"),
        top_p=optional_float("top_p"),
        keep_alive=keep_alive,
        think=think,
    )


def _parse_message(raw: object, where: str) -> Message:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object, got {type(raw).__name__}")
    role = raw.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise ValueError(f"{where}.role: expected one of {sorted(ROLES)}, got {role!r}")
    state = raw.get("state", "complete")
    if not isinstance(state, str) or state not in MESSAGE_STATES:
        raise ValueError(f"{where}.state: expected one of {sorted(MESSAGE_STATES)}, got {state!r}")
    if "content" not in raw:
        raise ValueError(f"{where}.content: missing")
    images = raw.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ValueError(f"{where}.images: expected a list of base64 strings")
    stats = raw.get("stats", {})
    if not isinstance(stats, dict) or not all(
        isinstance(k, str) and _is_number(v) for k, v in stats.items()
    ):
        raise ValueError(f"{where}.stats: expected an object of numbers")
    created_at = _get_time(raw, "created_at", where)
    note = _get_str(raw, "note", where)
    if state == "streaming":
        state, note = "interrupted", note or INTERRUPTED_NOTE
    return Message(
        role=cast(Any, role),
        content=_get_str(raw, "content", where),
        thinking=_get_str(raw, "thinking", where),
        images=list(images),
        state=cast(MessageState, state),
        note=note,
        stats={k: float(v) for k, v in stats.items()},
        created_at=time.time() if created_at is None else created_at,
    )


def _parse_export(
    data: object,
) -> tuple[ConversationSettings, str, float | None, list[Message]]:
    if not isinstance(data, dict):
        raise ValueError(
            f"Not a conversation export: expected a JSON object, got {type(data).__name__}"
        )
    if data.get("format") != EXPORT_FORMAT:
        raise ValueError(
            f"Not a conversation export: 'format' should be {EXPORT_FORMAT!r}, "
            f"got {data.get('format')!r}"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"Invalid export: 'version' should be a positive integer, got {version!r}")
    if version > EXPORT_VERSION:
        raise ValueError(
            f"This export uses format version {version}, newer than this launcher understands "
            f"({EXPORT_VERSION}); please upgrade the launcher."
        )
    title = " ".join(_get_str(data, "title", "export").split())
    created_at = _get_time(data, "created_at", "export")
    settings = _parse_settings(data.get("settings"))
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise ValueError("Invalid export: 'messages' should be a list")
    messages = [_parse_message(raw, f"messages[{i}]") for i, raw in enumerate(raw_messages)]
    if not title:
        title = next((title_from(m.content) for m in messages if m.role == "user"), "")
    return settings, title, created_at, messages


# --------------------------------------------------------------------------------------------
# Async facade
# --------------------------------------------------------------------------------------------


class AsyncStore:
    """Runs a :class:`Store` on one dedicated worker thread so that no SQLite call ever runs on
    the caller's (Qt/asyncio) thread.

    One worker, not a pool: SQLite connections are single-threaded, and a FIFO queue keeps
    writes in issue order (a streamed reply's saves can never be reordered).  Cancelling an
    awaiting coroutine does not cancel the write already queued, so data is never dropped
    because the UI moved on.  The worker thread is joined at interpreter exit by
    ``concurrent.futures``, so queued writes are flushed even without :meth:`aclose`.
    """

    def __init__(self, path: Path, store_factory: Callable[[Path], Store] = Store) -> None:
        self.path = Path(path)
        self._factory = store_factory
        self._store: Store | None = None
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="launcher-store")
        self._thread_id: int | None = None

    @property
    def worker_thread_id(self) -> int | None:
        """``threading.get_ident()`` of the worker, once it has run something."""
        return self._thread_id

    def _ensure_store(self) -> Store:
        # Runs on the worker thread only.
        if self._store is None:
            self._thread_id = threading.get_ident()
            self._store = self._factory(self.path)
        return self._store

    async def _run(self, fn: Callable[[Store], T]) -> T:
        if self._closed:
            raise RuntimeError("AsyncStore is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._ensure_store()))

    async def open(self) -> None:
        """Open now (instead of on first use) so start-up can report a bad database early."""
        await self._run(lambda store: None)

    async def aclose(self) -> None:
        """Finish queued work, close the database and stop the worker.  Idempotent."""
        if self._closed:
            return
        self._closed = True

        def close() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, close)
        finally:
            # The queue is empty now, so the worker exits at once; don't block the loop on it.
            self._executor.shutdown(wait=False)

    def close_blocking(self) -> None:
        """Synchronous close for shutdown paths where no event loop runs any more."""
        if self._closed:
            return
        self._closed = True

        def close() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._executor.submit(close).result()
        self._executor.shutdown(wait=True)

    # -- one typed wrapper per Store method --------------------------------------------------

    async def schema_version(self) -> int:
        return await self._run(lambda s: s.schema_version())

    async def create_conversation(
        self, settings: ConversationSettings, title: str = ""
    ) -> Conversation:
        snapshot = dataclasses.replace(settings)
        return await self._run(lambda s: s.create_conversation(snapshot, title))

    async def list_conversations(self, search: str = "") -> list[ConversationSummary]:
        return await self._run(lambda s: s.list_conversations(search))

    async def get_conversation(self, conv_id: int) -> Conversation:
        return await self._run(lambda s: s.get_conversation(conv_id))

    async def rename(self, conv_id: int, title: str) -> None:
        await self._run(lambda s: s.rename(conv_id, title))

    async def update_settings(self, conv_id: int, settings: ConversationSettings) -> None:
        snapshot = dataclasses.replace(settings)
        await self._run(lambda s: s.update_settings(conv_id, snapshot))

    async def delete_conversation(self, conv_id: int) -> None:
        await self._run(lambda s: s.delete_conversation(conv_id))

    async def undo_delete(self, conv_id: int) -> None:
        await self._run(lambda s: s.undo_delete(conv_id))

    async def purge_deleted(self) -> int:
        return await self._run(lambda s: s.purge_deleted())

    async def add_message(self, conv_id: int, message: Message) -> int:
        """Like :meth:`Store.add_message`; a snapshot is written so the caller may keep
        mutating ``message`` (e.g. appending streamed text) while the write is in flight."""
        snapshot = dataclasses.replace(
            message, images=list(message.images), stats=dict(message.stats)
        )
        message_id = await self._run(lambda s: s.add_message(conv_id, snapshot))
        message.id = message_id
        return message_id

    async def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        thinking: str | None = None,
        state: MessageState | None = None,
        note: str | None = None,
        stats: Mapping[str, float] | None = None,
    ) -> None:
        stats_copy = None if stats is None else dict(stats)
        await self._run(
            lambda s: s.update_message(
                message_id,
                content=content,
                thinking=thinking,
                state=state,
                note=note,
                stats=stats_copy,
            )
        )

    async def delete_messages_from(self, conv_id: int, message_id: int) -> None:
        await self._run(lambda s: s.delete_messages_from(conv_id, message_id))

    async def mark_interrupted(self) -> int:
        return await self._run(lambda s: s.mark_interrupted())

    async def export_markdown(self, conv_id: int) -> str:
        return await self._run(lambda s: s.export_markdown(conv_id))

    async def export_json(self, conv_id: int) -> dict[str, object]:
        return await self._run(lambda s: s.export_json(conv_id))

    async def import_json(self, data: dict[str, object]) -> Conversation:
        return await self._run(lambda s: s.import_json(data))
