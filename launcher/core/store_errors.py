"""What can go wrong with the conversation database, as exception types callers can tell apart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class StoreError(Exception):
    """The conversation database cannot be used (unreadable, corrupt, failed migration)."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer launcher; it is left untouched."""


class CorruptDatabaseError(StoreError):
    """The file is not a readable SQLite database, or SQLite found damage in it.

    Attributes:
        path: the damaged file (not modified by the store).
    """

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class DatabaseLockedError(StoreError):
    """Another program holds the database's write lock (a second launcher, a backup tool)."""


class NotFoundError(LookupError):
    """A conversation or message id does not exist (or the conversation was deleted)."""


def is_corruption(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file is damaged or not a database at all."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for a lock another connection holds."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return True
    return "database is locked" in str(exc).lower()


def store_error(exc: sqlite3.Error, path: Path, doing: str) -> StoreError:
    """The StoreError for a raw sqlite3 error raised while `doing` something with `path`."""
    if is_busy(exc):
        return DatabaseLockedError(
            f"The conversation database {path} is locked by another program ({doing}): {exc}"
        )
    if is_corruption(exc):
        return CorruptDatabaseError(
            f"{path} is not a readable conversation database ({exc}). It has not been modified.",
            path,
        )
    return StoreError(f"Cannot {doing} the conversation database {path}: {exc}")
