"""The conversation database's schema, and opening a file: version check, pragmas, migrations.

``PRAGMA user_version`` records the schema version and `MIGRATIONS` upgrades old
files step by step, each step in one transaction with foreign keys off (a table
rebuild must never cascade-delete messages) and ``PRAGMA foreign_key_check``
before it commits. Before the first step the file is copied aside twice: a
``.vN.bak`` next to it, and a dated backup in the backups folder.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from launcher.config import data_dir
from launcher.core.store_errors import (
    CorruptDatabaseError,
    SchemaTooNewError,
    StoreError,
    is_busy,
    is_corruption,
    store_error,
)

DB_FILENAME: Final = "conversations.sqlite3"

#: How long one statement waits for another program's write lock before the store gives
#: up and reports `DatabaseLockedError` (the caller retries with backoff).
BUSY_TIMEOUT_MS: Final = 1000

# MIGRATIONS[i] upgrades a database from version i to version i + 1, so MIGRATIONS[0] is
# the first release's schema.  Never edit a released entry: append a new one.

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

# Reply versions from Regenerate: the other versions as a JSON list (see
# `transcript.versions_to_json`) and the shown one's position among all of them.
SCHEMA_V2: Final = """
ALTER TABLE messages ADD COLUMN versions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN version_index INTEGER NOT NULL DEFAULT 0;
"""

# Per-conversation switches (tools, token probabilities) as a small JSON object (see
# `core/features.py`), and the conversation a branch was made from (NULL once it is gone).
SCHEMA_V3: Final = """
ALTER TABLE conversations ADD COLUMN features TEXT NOT NULL DEFAULT '{}';
ALTER TABLE conversations ADD COLUMN parent_id INTEGER
    REFERENCES conversations (id) ON DELETE SET NULL;
"""

# A reply's tool steps and token probabilities (see `extras_json`): JSON lists, empty for
# every message written before (and for replies without tools or probabilities).
SCHEMA_V4: Final = """
ALTER TABLE messages ADD COLUMN tool_steps TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN tokens TEXT NOT NULL DEFAULT '[]';
"""

MIGRATIONS: Final[tuple[str, ...]] = (SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4)

#: Called with (connection, version about to be upgraded) before the first migration step.
BeforeMigration = Callable[[sqlite3.Connection, int], None]


def default_path() -> Path:
    """Where conversations live: the data folder of `launcher.config` (one definition)."""
    return data_dir() / DB_FILENAME


def connect(path: Path) -> sqlite3.Connection:
    """A connection with explicit transactions (``isolation_level=None``), for one thread."""
    try:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    except sqlite3.Error as exc:
        raise store_error(exc, path, "open") from exc


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the file (``PRAGMA user_version``)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def prepare(
    conn: sqlite3.Connection,
    path: Path,
    migrations: tuple[str, ...],
    before_migration: BeforeMigration,
) -> None:
    """Check, configure and migrate a freshly opened connection.

    Raises:
        CorruptDatabaseError: the file is damaged or not a database (left untouched).
        SchemaTooNewError: a newer launcher wrote it (left untouched).
        StoreError: anything else (a failed migration is rolled back completely).
    """
    target = len(migrations)
    try:
        # Check the version BEFORE any pragma that writes (journal_mode=WAL rewrites the
        # header), so a newer launcher's file, or a damaged one, is refused byte-for-byte
        # untouched.
        current = schema_version(conn)
        if current > 0:
            _check_integrity(conn, path)
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise CorruptDatabaseError(
                f"{path} is not a readable conversation database ({exc}). "
                "It has not been modified.",
                path,
            ) from exc
        raise store_error(exc, path, "read") from exc
    if current > target:
        raise SchemaTooNewError(
            f"The conversation database {path} uses schema version {current}, but this "
            f"launcher only understands up to version {target}. It was probably written by "
            "a newer launcher; please upgrade. The file has not been modified."
        )
    try:
        # First, so that another connection opening the file at the same moment (the
        # window's store, a backup, a reader) waits for this one instead of failing.
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        if current < target:
            _migrate(conn, migrations, before_migration)
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise store_error(exc, path, "prepare") from exc


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to write-ahead logging (a no-op once it is).

    The switch needs the file to itself for a moment. When two connections ask at once,
    SQLite answers one of them "database is locked" straight away, without its busy
    handler (waiting there could deadlock), so that one asks again, for as long as the
    busy timeout would have waited (6 stores opening one new file at once failed 8 times
    in 200 before)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.002
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)  # a worker thread (the store's), never the UI's
        pause = min(pause * 2, 0.05)


def _migrate(
    conn: sqlite3.Connection, migrations: Sequence[str], before_migration: BeforeMigration
) -> None:
    """Bring the file to the newest version, step by step, whoever else opens it meanwhile.

    The version read at opening may be stale by the time a step runs (another
    connection migrated in between): a step that fails is checked against the
    version again. Two connections may both copy the file first; the copies are
    written apart and each lands whole.
    """
    target = len(migrations)
    conn.execute("PRAGMA foreign_keys=OFF")  # only outside a transaction
    current = schema_version(conn)
    if 0 < current < target:
        before_migration(conn, current)
    while (current := schema_version(conn)) < target:
        try:
            _apply_migration(conn, current + 1, migrations[current])
        except sqlite3.OperationalError:
            if schema_version(conn) > current:
                continue  # another connection made this step meanwhile
            raise


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """SQLite's quick check (pages, b-trees), so damage is found at start-up, not mid-reply."""
    rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    if [r[0] for r in rows] != ["ok"]:
        problems = "; ".join(str(r[0]) for r in rows)
        raise CorruptDatabaseError(
            f"{path} is damaged (SQLite's check found: {problems}). It has not been modified.",
            path,
        )


def _apply_migration(conn: sqlite3.Connection, version: int, script: str) -> None:
    """Run one migration script and bump ``user_version`` atomically: either both happen or
    neither does, so a crash mid-migration leaves the previous, consistent version."""
    try:
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {int(version)};")
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise StoreError(
                f"Migration to schema version {version} would leave {len(broken)} rows "
                "pointing at nothing; it was rolled back and the file is unchanged."
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def copy_database(conn: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the open database (SQLite's online backup API) at `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Its own name: two connections may copy the same file at the same moment.
    tmp = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.part")
    tmp.unlink(missing_ok=True)
    copy = sqlite3.connect(tmp)
    try:
        conn.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal/-shm
    finally:
        copy.close()
    tmp.replace(target)
