"""Writes of the conversation store in the order they were asked for, waiting out a database
another program has locked.

Each write takes its place in the queue synchronously, when it is asked for (not
when a task first runs), so a truncation can never overtake the insert of the
message it removes. A write refused because another program holds SQLite's lock
is tried again with backoff; the caller's data stays in memory meanwhile. No Qt:
the owner is told through plain callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from launcher.core.store_errors import DatabaseLockedError

T = TypeVar("T")

#: Longest wait between two tries of a write refused because the database is locked.
LOCK_RETRY_MAX_SECONDS = 5.0

log = logging.getLogger(__name__)


class WriteQueue:
    """Ordered, lock-patient store writes.

    Args:
        on_locked: called once when writes start waiting for a lock (with the error).
        on_unlocked: called once when a write succeeds again after waiting.
        on_failed: called when a queued job raised (it is not raised anywhere else).

    Attributes:
        waiting_for_lock: writes are waiting for another program's lock right now.
        closing: set by `close`; a locked write then gives up instead of waiting.
    """

    def __init__(
        self,
        on_locked: Callable[[DatabaseLockedError], None],
        on_unlocked: Callable[[], None],
        on_failed: Callable[[BaseException], None],
    ) -> None:
        self._on_locked = on_locked
        self._on_unlocked = on_unlocked
        self._on_failed = on_failed
        self._tail: asyncio.Future[None] | None = None
        self._jobs: set[asyncio.Future[None]] = set()
        self.waiting_for_lock = False
        self.closing = False
        self._given_up = 0  # jobs that ended at quit on a locked database

    def in_order(self, work: Callable[[], Awaitable[None]]) -> Coroutine[Any, Any, None]:
        """Queue `work` behind every job asked for before it, now (synchronously).

        The work runs in its own task, so cancelling the returned coroutine (or never
        awaiting it long enough) does not drop the write. Awaiting it never raises.
        """
        previous = self._tail

        async def run() -> None:
            if previous is not None:
                await asyncio.wait({previous})
            await work()

        job = asyncio.ensure_future(run())
        self._tail = job
        self._jobs.add(job)
        job.add_done_callback(self._job_done)

        async def wait() -> None:
            # Waiting never raises: a job's failure is reported once, by `_job_done`.
            with contextlib.suppress(Exception):
                await asyncio.shield(job)

        return wait()

    def _job_done(self, job: asyncio.Future[None]) -> None:
        self._jobs.discard(job)
        if self._tail is job:
            self._tail = None
        if job.cancelled():
            return
        exc = job.exception()
        if exc is None:
            return
        if self.closing and isinstance(exc, DatabaseLockedError):
            self._given_up += 1  # reported once by `close`
            return
        self._on_failed(exc)

    async def write(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run a store call; while another program holds the lock, wait and try again
        (backoff up to `LOCK_RETRY_MAX_SECONDS`)."""
        delay = 0.1
        while True:
            try:
                result = await op()
            except DatabaseLockedError as exc:
                if self.closing:
                    raise
                if not self.waiting_for_lock:
                    self.waiting_for_lock = True
                    log.warning("waiting for the conversation database: %s", exc)
                    self._on_locked(exc)
                await asyncio.sleep(delay)  # backoff before the next try, not a sync
                delay = min(delay * 2, LOCK_RETRY_MAX_SECONDS)
                continue
            if self.waiting_for_lock:
                self.waiting_for_lock = False
                self._on_unlocked()
            return result

    async def close(self) -> int:
        """Give queued jobs a last chance (short when the database is locked: it will not
        free itself in time), cancel the rest; how many were not saved."""
        self.closing = True
        if not self._jobs:
            return self._given_up
        patience = 0.5 if self.waiting_for_lock else 2.0
        _, pending = await asyncio.wait(set(self._jobs), timeout=patience)
        for job in pending:
            job.cancel()
        if pending:
            log.error("%d conversation writes were not saved before quitting", len(pending))
            await asyncio.wait(pending, timeout=1.0)
        return len(pending) + self._given_up
