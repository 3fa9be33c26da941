"""The single writer: a `Store` on one worker thread, awaited from the Qt/asyncio thread.

One worker, not a pool: SQLite connections are single-threaded, and a FIFO queue keeps
writes in issue order (a streamed reply's saves can never be reordered). Cancelling an
awaiting coroutine does not cancel the write already queued, so data is never dropped
because the UI moved on. Raw ``sqlite3`` errors never escape: they become `StoreError`s
(`DatabaseLockedError` when another program holds the lock, so callers can retry). A
damaged database is moved aside here, before the first use, and a fresh one made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TypeVar

from launcher.core import backups
from launcher.core.conversation import (
    Conversation,
    ConversationSettings,
    ConversationSummary,
    Message,
    MessageState,
    ReplyVersion,
)
from launcher.core.store import ImportResult, Store
from launcher.core.store_errors import CorruptDatabaseError, store_error
from launcher.core.toolloop import ToolStep
from launcher.ollama import Logprob

T = TypeVar("T")

log = logging.getLogger(__name__)


class AsyncStore:
    """Runs a :class:`Store` on one dedicated worker thread so that no SQLite call ever runs on
    the caller's (Qt/asyncio) thread.

    Attributes:
        moved_aside: where a damaged database was moved when it was opened (None when
            the file was fine); a fresh, empty database took its place.
    """

    def __init__(self, path: Path, store_factory: Callable[[Path], Store] = Store) -> None:
        self.path = Path(path)
        self._factory = store_factory
        self._store: Store | None = None
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="launcher-store")
        self._thread_id: int | None = None
        self.moved_aside: Path | None = None

    @property
    def worker_thread_id(self) -> int | None:
        """``threading.get_ident()`` of the worker, once it has run something."""
        return self._thread_id

    @property
    def backups_dir(self) -> Path:
        return backups.backups_dir(self.path)

    def _ensure_store(self) -> Store:
        # Runs on the worker thread only.
        if self._store is None:
            self._thread_id = threading.get_ident()
            try:
                self._store = self._factory(self.path)
            except CorruptDatabaseError as exc:
                self.moved_aside = backups.move_aside(self.path)
                log.error("%s; moved to %s, starting a new database", exc, self.moved_aside)
                self._store = self._factory(self.path)
        return self._store

    async def _run(self, fn: Callable[[Store], T]) -> T:
        if self._closed:
            raise RuntimeError("AsyncStore is closed")

        def call() -> T:
            try:
                return fn(self._ensure_store())
            except sqlite3.Error as exc:
                raise store_error(exc, self.path, "use") from exc

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call)

    async def open(self) -> None:
        """Open now (instead of on first use) so start-up can report a bad database early."""
        await self._run(lambda store: None)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    async def aclose(self) -> None:
        """Finish queued work, close the database and stop the worker.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._close_store)
        finally:
            # The queue is empty now, so the worker exits at once; don't block the loop on it.
            self._executor.shutdown(wait=False)

    def close_blocking(self) -> None:
        """Synchronous close for shutdown paths where no event loop runs any more."""
        if self._closed:
            return
        self._closed = True
        self._executor.submit(self._close_store).result()
        self._executor.shutdown(wait=True)

    # -- backups -----------------------------------------------------------------------------

    async def backup(self, reason: str = "") -> Path:
        """A dated copy of the database in the backups folder, then old ones pruned."""

        def run(store: Store) -> Path:
            target = self.backups_dir / backups.backup_name(time.time(), reason)
            store.backup_to(target)
            backups.prune(self.backups_dir)
            return target

        return await self._run(run)

    async def daily_backup(self) -> Path | None:
        """Today's backup, unless one exists already; None then."""

        def run(store: Store) -> Path | None:
            if backups.has_backup_on(self.backups_dir, date.today()):
                return None
            target = self.backups_dir / backups.backup_name(time.time())
            store.backup_to(target)
            backups.prune(self.backups_dir)
            return target

        return await self._run(run)

    async def list_backups(self) -> list[backups.BackupInfo]:
        return await self._run(lambda s: backups.list_backups(self.backups_dir))

    async def restore(self, backup: Path) -> Path:
        """Replace the database with `backup`; the replaced one is kept as a backup first.

        Returns the path of that safety copy. The database is migrated if the backup is
        older; a backup that cannot be read leaves the current database as it was.
        """

        def run(store: Store) -> Path:
            if backups.count_conversations(backup) is None:
                raise ValueError(f"{backup.name} is not a readable conversation backup.")
            safety = self.backups_dir / backups.backup_name(time.time(), "restore")
            store.backup_to(safety)
            self._close_store()
            try:
                backups.copy_into(backup, self.path)
            finally:
                self._ensure_store()
            return safety

        return await self._run(run)

    # -- one typed wrapper per Store method --------------------------------------------------

    async def schema_version(self) -> int:
        return await self._run(lambda s: s.schema_version())

    async def conversation_count(self) -> int:
        return await self._run(lambda s: s.conversation_count())

    async def create_conversation(
        self, settings: ConversationSettings, title: str = "", parent_id: int | None = None
    ) -> Conversation:
        snapshot = dataclasses.replace(settings)
        return await self._run(lambda s: s.create_conversation(snapshot, title, parent_id))

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
            message,
            images=list(message.images),
            stats=dict(message.stats),
            versions=_copy_versions(message.versions),
            tool_steps=_copy_steps(message.tool_steps),
            tokens=list(message.tokens),
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
        versions: list[ReplyVersion] | None = None,
        version_index: int | None = None,
        tool_steps: list[ToolStep] | None = None,
        tokens: list[Logprob] | None = None,
    ) -> None:
        """Like :meth:`Store.update_message`, on copies of the values taken now (a reply
        still streaming goes on growing its lists meanwhile)."""
        stats_copy = None if stats is None else dict(stats)
        versions_copy = None if versions is None else _copy_versions(versions)
        steps_copy = None if tool_steps is None else _copy_steps(tool_steps)
        tokens_copy = None if tokens is None else list(tokens)
        await self._run(
            lambda s: s.update_message(
                message_id,
                content=content,
                thinking=thinking,
                state=state,
                note=note,
                stats=stats_copy,
                versions=versions_copy,
                version_index=version_index,
                tool_steps=steps_copy,
                tokens=tokens_copy,
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

    async def family(self, conv_id: int) -> list[int]:
        return await self._run(lambda s: s.family(conv_id))

    async def export_bundle(self, conv_ids: list[int]) -> dict[str, object]:
        return await self._run(lambda s: s.export_bundle(list(conv_ids)))

    async def import_bundle(self, data: object) -> ImportResult:
        return await self._run(lambda s: s.import_bundle(data))


def _copy_versions(versions: list[ReplyVersion]) -> list[ReplyVersion]:
    return [
        dataclasses.replace(
            v, stats=dict(v.stats), tool_steps=_copy_steps(v.tool_steps), tokens=list(v.tokens)
        )
        for v in versions
    ]


def _copy_steps(steps: list[ToolStep]) -> list[ToolStep]:
    """The steps as they are now (a running step gets its result later)."""
    return [dataclasses.replace(step) for step in steps]
