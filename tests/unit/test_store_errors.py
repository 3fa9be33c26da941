"""Store errors: raw SQLite failures become types callers can tell apart, and plain words."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from launcher.core.explain import explain
from launcher.core.store_errors import (
    CorruptDatabaseError,
    DatabaseLockedError,
    SchemaTooNewError,
    StoreError,
    store_error,
)


def _raised(action: object) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as info:
        action()  # type: ignore[operator]
    return info.value


def test_a_lock_held_by_another_connection_is_a_locked_error(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        exc = _raised(lambda: other.execute("INSERT INTO t VALUES (1)"))
        assert isinstance(store_error(exc, db, "save"), DatabaseLockedError)
    finally:
        other.close()
        holder.execute("COMMIT")
        holder.close()


def test_a_file_that_is_not_a_database_is_corrupt(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    db.write_bytes(b"not a database" * 100)
    conn = sqlite3.connect(db)
    try:
        exc = _raised(lambda: conn.execute("PRAGMA user_version").fetchone())
    finally:
        conn.close()
    mapped = store_error(exc, db, "read")
    assert isinstance(mapped, CorruptDatabaseError) and mapped.path == db


def test_other_failures_are_plain_store_errors(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    exc = _raised(lambda: conn.execute("SELECT * FROM nowhere"))
    mapped = store_error(exc, tmp_path / "x", "read")
    assert type(mapped) is StoreError and "nowhere" in str(mapped)


@pytest.mark.parametrize(
    ("exc", "start"),
    [
        (DatabaseLockedError("locked (database is locked)"), "The conversation database is in use"),
        (CorruptDatabaseError("malformed", Path("x")), "The conversation database is damaged"),
        (SchemaTooNewError("version 9"), "Your conversations were saved by a newer version"),
        (StoreError("disk I/O error"), "Your conversations could not be read or saved"),
    ],
)
def test_explained_in_plain_words_with_details_apart(exc: StoreError, start: str) -> None:
    explanation = explain(exc)
    assert explanation.headline.startswith(start)
    assert "Error" not in explanation.headline and "Errno" not in explanation.headline
    assert type(exc).__name__ in explanation.details
