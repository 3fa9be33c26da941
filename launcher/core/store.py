"""Conversation queries: one synchronous SQLite connection, every read and write the app makes.

Design goals, in order:

1. **Conversations are never lost.**  WAL journal with ``synchronous=NORMAL`` means every
   committed write survives the launcher being killed (only an OS crash / power cut can lose
   the last few commits).  Every write is its own committed transaction, so a streamed reply
   saved every half second loses at most about that much text.  Deletion is soft (undoable),
   and a database written by a newer launcher is refused untouched instead of being
   "migrated" backwards (see `store_schema`).
2. **The UI thread never touches SQLite.**  :class:`Store` is synchronous and single-threaded;
   `store_async.AsyncStore` runs it on one dedicated worker thread.
3. **Formats live elsewhere.**  Export is `transcript` and the import's checks
   `transcript_import` (both pure), its writes `store_import`; a reply's tool steps and
   token probabilities are `extras_json`; the schema and migrations are `store_schema`;
   backups are `backups`.

Search scans with ``LIKE`` (ASCII queries) or a ``casefold`` SQL function (other queries) rather
than FTS5.  Measured on 1,000 conversations x 20 messages (~17 MB of text): ~20 ms (LIKE) and
~40 ms (casefold) for a full scan, off the UI thread; saving a growing 50 KB reply costs ~0.1 ms.
An FTS5 trigram index answered searches in <1 ms but made each streaming save ~20x dearer
(~2 ms median, re-indexing the whole reply) and needs special cases for queries under three
characters.  If histories grow 10x, adding FTS5 is a straightforward migration.
See ``tests/benchmarks/bench_store.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from launcher.core import backups, store_import, store_schema, transcript, transcript_import
from launcher.core import store_rows as rows
from launcher.core.conversation import (
    Conversation,
    ConversationSettings,
    ConversationSummary,
    Message,
    MessageState,
    ReplyVersion,
    title_from,
)
from launcher.core.store_errors import (
    CorruptDatabaseError,
    DatabaseLockedError,
    NotFoundError,
    SchemaTooNewError,
    StoreError,
)
from launcher.core.store_import import ImportResult
from launcher.core.store_schema import DB_FILENAME, MIGRATIONS
from launcher.core.toolloop import ToolStep
from launcher.core.transcript import EXPORT_FORMAT, INTERRUPTED_NOTE, redact_secrets
from launcher.ollama import Logprob

__all__ = [
    "DB_FILENAME",
    "EXPORT_FORMAT",
    "INTERRUPTED_NOTE",
    "CorruptDatabaseError",
    "DatabaseLockedError",
    "ImportResult",
    "NotFoundError",
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "redact_secrets",
]


class Store:
    """Synchronous conversation store owning one SQLite connection.

    Not thread-safe by design: the connection is created with ``check_same_thread=True`` so any
    accidental use from a second thread (e.g. the UI thread) fails loudly.  Use
    `store_async.AsyncStore` from asyncio/Qt code.

    Raises (from the constructor): `CorruptDatabaseError`, `SchemaTooNewError`, `StoreError`.
    """

    MIGRATIONS: ClassVar[tuple[str, ...]] = MIGRATIONS
    SCHEMA_VERSION: ClassVar[int] = len(MIGRATIONS)

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._connect(self.path)
        try:
            store_schema.prepare(
                self._conn, self.path, self.MIGRATIONS, self._backup_before_migration
            )
            self._conn.create_function(
                "casefold_contains", 2, rows.casefold_contains, deterministic=True
            )
            self._last_tick = self._conn.execute(
                "SELECT coalesce(max(updated_at), 0) FROM conversations"
            ).fetchone()[0]
        except BaseException:
            self._conn.close()
            raise

    # -- opening, closing, copies ------------------------------------------------------------

    def _connect(self, path: Path) -> sqlite3.Connection:
        """Create the connection.  A hook so tests can observe the connection (e.g. tracing)."""
        return store_schema.connect(path)

    def _backup_before_migration(self, conn: sqlite3.Connection, version: int) -> None:
        """Copy the file aside before upgrading it: migrations are transactional, but a copy is
        the last line of defence against a migration that is wrong rather than failing.
        A ``.vN.bak`` next to the file (kept once), and a dated copy in the backups folder."""
        side = self.path.with_name(f"{self.path.name}.v{version}.bak")
        if not side.exists():
            store_schema.copy_database(conn, side)
        folder = backups.backups_dir(self.path)
        store_schema.copy_database(conn, folder / backups.backup_name(time.time(), f"v{version}"))

    @staticmethod
    def default_path() -> Path:
        """Where conversations live (the data folder of `launcher.config`)."""
        return store_schema.default_path()

    def schema_version(self) -> int:
        """The schema version recorded in the file (``PRAGMA user_version``)."""
        return store_schema.schema_version(self._conn)

    def backup_to(self, target: Path) -> Path:
        """A consistent copy of the whole database at `target` (SQLite's backup API)."""
        store_schema.copy_database(self._conn, target)
        return target

    def conversation_count(self) -> int:
        """How many conversations there are (not counting deleted ones)."""
        row = self._conn.execute(
            "SELECT count(*) FROM conversations WHERE deleted_at IS NULL"
        ).fetchone()
        return int(row[0])

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

    # -- conversations ---------------------------------------------------------------------------

    def create_conversation(
        self, settings: ConversationSettings, title: str = "", parent_id: int | None = None
    ) -> Conversation:
        """Create an empty conversation.  An empty title is filled from the first user message.
        `parent_id`: the conversation it branches from ("Branch from here")."""
        now = self._tick()
        conv_id = rows.insert_conversation(self._conn, title.strip(), settings, now, now, parent_id)
        return Conversation(
            id=conv_id,
            title=title.strip(),
            settings=dataclasses.replace(settings),
            messages=[],
            created_at=now,
            updated_at=now,
            parent_id=parent_id,
        )

    def list_conversations(self, search: str = "") -> list[ConversationSummary]:
        """Sidebar rows, most recently active first.

        ``search`` matches the title or any message text, case-insensitively and literally
        (``%`` and ``_`` are not wildcards).  ASCII queries use ``LIKE`` (fast, ASCII case
        folding); queries with other characters use Python ``casefold`` so "Über" finds "über".
        """
        sql, params = rows.summaries_query(search)
        return [
            ConversationSummary(
                id=row[0],
                title=row[1],
                model=row[2],
                updated_at=row[3],
                message_count=row[4],
                parent_id=row[5],
            )
            for row in self._conn.execute(sql, params)
        ]

    def get_conversation(self, conv_id: int) -> Conversation:
        """Load a conversation with all its messages in order.  Deleted ones are not found."""
        conversation = rows.read_conversation(self._conn, conv_id)
        if conversation is None:
            raise NotFoundError(f"No conversation with id {conv_id}")
        return conversation

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
            " seed = ?, top_p = ?, keep_alive = ?, think = ?, features = ? WHERE id = ?",
            (*rows.settings_row(settings), settings.features.to_json(), conv_id),
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
        rows.check_role(message.role)
        rows.check_state(message.state)
        self._require_conversation(conv_id, include_deleted=True)
        with self._tx() as conn:
            cursor = rows.insert_message(conn, conv_id, message)
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
        versions: list[ReplyVersion] | None = None,
        version_index: int | None = None,
        tool_steps: list[ToolStep] | None = None,
        tokens: list[Logprob] | None = None,
    ) -> None:
        """Overwrite the given fields of a message (``None`` = leave as is).

        This is the streaming save path: one small committed statement, no read-back, so it can
        run every second on a growing reply without noticeable cost.
        """
        if state is not None:
            rows.check_state(state)
        assignments, params = rows.message_assignments(
            content=content,
            thinking=thinking,
            state=state,
            note=note,
            stats=stats,
            versions=versions,
            version_index=version_index,
            tool_steps=tool_steps,
            tokens=tokens,
        )
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
        """A human-readable Markdown transcript (see `transcript.to_markdown`)."""
        return transcript.to_markdown(self.get_conversation(conv_id))

    def export_json(self, conv_id: int) -> dict[str, object]:
        """A lossless, versioned copy that :meth:`import_json` accepts (with the switches, and
        the link to the conversation it branched from)."""
        conv = self.get_conversation(conv_id)
        parent = None
        if conv.parent_id is not None:
            parent = self._conn.execute(
                "SELECT created_at FROM conversations WHERE id = ?", (conv.parent_id,)
            ).fetchone()
        return transcript.to_json(conv, parent_created_at=parent[0] if parent else None)

    def family(self, conv_id: int) -> list[int]:
        """The conversation's id, then those of its branches (and theirs)."""
        return rows.family_ids(self._conn, conv_id)

    def export_bundle(self, conv_ids: list[int]) -> dict[str, object]:
        """Several conversations in one file; an import keeps their branch links."""
        return transcript.bundle_to_json([self.export_json(conv_id) for conv_id in conv_ids])

    def import_bundle(self, data: object) -> ImportResult:
        """New conversations from :meth:`export_json` or :meth:`export_bundle` output.

        Everything is validated before anything is written, and all of it is written in one
        transaction, so a bad file never leaves a half-imported conversation; errors are
        ``ValueError`` naming the offending field. A reply that was still streaming when
        exported is imported as interrupted. What is left out (an unknown switch, a branch
        link to a conversation that is not here) is said in the result's notes.
        """
        parsed = transcript_import.parse_bundle(data)
        with self._tx() as conn:
            ids, notes = store_import.insert_all(conn, parsed, self._tick)
        return ImportResult([self.get_conversation(conv_id) for conv_id in ids], notes)

    def import_json(self, data: object) -> Conversation:
        """Like :meth:`import_bundle`, for a file of one conversation: the new conversation."""
        return self.import_bundle(data).conversations[0]
