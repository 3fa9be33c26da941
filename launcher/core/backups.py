"""Copies of the conversation database: dated backups, which ones to keep, a damaged file set aside.

Backups are whole-database copies made with SQLite's online backup API (consistent
even while the launcher writes), named after the local time they were taken, in a
``backups`` folder next to the database. `keep()` is the pure retention rule (the
newest backup of each of the last 7 days that have one, and of the last 4 weeks);
everything here that touches files is blocking and runs on the store's worker thread.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

BACKUPS_DIRNAME: Final = "backups"
KEEP_DAILY: Final = 7
KEEP_WEEKLY: Final = 4

_NAME = re.compile(r"^conversations-(\d{8}-\d{6})(?:-([a-z0-9]+))?\.sqlite3$")


@dataclass(frozen=True)
class BackupInfo:
    """One backup, for the "Restore from backup…" list.

    Attributes:
        path: the backup file.
        taken: when it was made (local time).
        reason: "" for the daily backup, "vN" before a migration from version N,
            "restore" for the database replaced by a restore.
        conversations: how many conversations it holds, or None when it cannot be read.
    """

    path: Path
    taken: datetime
    reason: str
    conversations: int | None


def backups_dir(db_path: Path) -> Path:
    """The backups folder of a database: ``<data dir>/backups``."""
    return db_path.parent / BACKUPS_DIRNAME


def backup_name(timestamp: float, reason: str = "") -> str:
    """The file name of a backup taken at `timestamp` (local time, sortable)."""
    stamp = datetime.fromtimestamp(timestamp).strftime("%Y%m%d-%H%M%S")
    suffix = f"-{reason}" if reason else ""
    return f"conversations-{stamp}{suffix}.sqlite3"


def parse_name(name: str) -> tuple[datetime, str] | None:
    """(when, reason) from a backup's file name; None for any other file."""
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        taken = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
    except ValueError:
        return None
    return taken, match.group(2) or ""


def keep(taken: dict[Path, datetime]) -> set[Path]:
    """Which backups to keep: per day the newest, for the 7 newest days; per ISO week the
    newest, for the 4 newest weeks.  Pure: the rule is tested without files."""
    newest_first = sorted(taken, key=lambda p: (taken[p], p.name), reverse=True)
    kept: set[Path] = set()
    days: list[date] = []
    weeks: list[tuple[int, int]] = []
    for path in newest_first:
        when = taken[path]
        day = when.date()
        week = when.isocalendar()[:2]
        if day not in days:
            days.append(day)
            if len(days) <= KEEP_DAILY:
                kept.add(path)
        if week not in weeks:
            weeks.append(week)
            if len(weeks) <= KEEP_WEEKLY:
                kept.add(path)
    return kept


def existing(folder: Path) -> dict[Path, datetime]:
    """The backups in `folder` and when each was taken."""
    found: dict[Path, datetime] = {}
    if folder.is_dir():
        for path in folder.iterdir():
            parsed = parse_name(path.name)
            if parsed is not None and path.is_file():
                found[path] = parsed[0]
    return found


def has_backup_on(folder: Path, day: date) -> bool:
    """Whether a backup was taken on `day` (local time)."""
    return any(taken.date() == day for taken in existing(folder).values())


#: Backups made for a reason (before an upgrade, before a restore): the newest few of each.
KEEP_PER_REASON: Final = 4


def prune(folder: Path) -> list[Path]:
    """Delete the daily backups `keep()` does not keep, and all but the newest
    `KEEP_PER_REASON` of each other kind; the deleted paths."""
    found = existing(folder)
    daily = {p: t for p, t in found.items() if (parse_name(p.name) or (t, ""))[1] == ""}
    kept = keep(daily)
    by_reason: dict[str, list[Path]] = {}
    for path in found:
        reason = (parse_name(path.name) or (found[path], ""))[1]
        if reason:
            by_reason.setdefault(reason, []).append(path)
    for paths in by_reason.values():
        paths.sort(key=lambda p: (found[p], p.name), reverse=True)
        kept.update(paths[:KEEP_PER_REASON])
    removed = []
    for path in found:
        if path not in kept:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def count_conversations(path: Path) -> int | None:
    """How many conversations a backup holds (read-only); None when it cannot be read."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT count(*) FROM conversations WHERE deleted_at IS NULL").fetchone()
        return int(row[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def list_backups(folder: Path) -> list[BackupInfo]:
    """Every backup in `folder`, newest first, with its conversation count (blocking)."""
    out = []
    for path, taken in existing(folder).items():
        parsed = parse_name(path.name)
        reason = parsed[1] if parsed else ""
        out.append(BackupInfo(path, taken, reason, count_conversations(path)))
    out.sort(key=lambda b: (b.taken, b.path.name), reverse=True)
    return out


def move_aside(db_path: Path, label: str = "damaged") -> Path:
    """Rename a database (and its ``-wal``/``-shm`` files) out of the way, never deleting it;
    the new path of the main file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = db_path.with_name(f"{db_path.stem}.{label}-{stamp}{db_path.suffix}")
    n = 1
    while target.exists():
        n += 1
        target = db_path.with_name(f"{db_path.stem}.{label}-{stamp}-{n}{db_path.suffix}")
    db_path.replace(target)
    for extra in ("-wal", "-shm"):
        side = db_path.with_name(db_path.name + extra)
        if side.exists():
            with contextlib.suppress(OSError):
                side.replace(target.with_name(target.name + extra))
    return target


def copy_into(source: Path, db_path: Path) -> None:
    """Overwrite the database at `db_path` with the backup `source` (SQLite's backup API,
    so the WAL is handled and the result is consistent). Nothing else may have it open."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(db_path)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
