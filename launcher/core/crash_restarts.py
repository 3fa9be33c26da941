"""The restart after a crash, in time: its wait, its attempt number, and the budget it draws on.

The rule (how long to wait, when to give up) is `core/restarts.py`; this holds the
one pending restart as a task that always ends in one place, so a user's Stop can
cancel it and the status can say "restarting (N of 3)" meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from launcher.core import restarts
from launcher.core.server import ServerExit


class CrashRestarts:
    """At most one scheduled restart of our server, and the times of the recent ones.

    Args:
        restart: starts the server again (after the wait).
        settled: called once the restart attempt is over, whatever happened.
    """

    def __init__(self, restart: Callable[[], Awaitable[None]], settled: Callable[[], None]) -> None:
        self._restart = restart
        self._settled = settled
        self._times: list[float] = []  # monotonic times of automatic restarts
        self._task: asyncio.Task[None] | None = None
        #: The number (1..MAX_RESTARTS) of the restart waiting to happen; 0: none.
        self.attempt = 0

    def fresh_budget(self) -> None:
        """The user started the server: earlier crashes no longer count."""
        self._times.clear()

    def after_crash(self, outcome: ServerExit) -> float | None:
        """Schedule a restart after `outcome` when the rule allows one: the wait the rule
        gives, or None when the server is to stay down. A restart already `pending` is
        kept, not scheduled a second time."""
        now = time.monotonic()
        delay = restarts.next_restart(outcome, self._times, now)
        if delay is not None and self._task is None:
            self._times = [*restarts.recent(self._times, now), now]
            self.attempt = len(self._times)
            self._task = asyncio.ensure_future(self._after(delay))
        return delay

    @property
    def pending(self) -> bool:
        """A restart is scheduled and has not run yet."""
        return self._task is not None

    async def _after(self, delay: float) -> None:
        """Wait out the backoff, then start the server again (the one place it ends)."""
        try:
            await asyncio.sleep(delay)
            self.attempt = 0
            await self._restart()
        finally:
            self.attempt = 0
            if self._task is asyncio.current_task():
                self._task = None
            self._settled()

    def cancel(self) -> bool:
        """Drop a scheduled restart; True when there was one."""
        task, self._task = self._task, None
        had = task is not None and not task.done()
        if task is not None:
            task.cancel()
        self.attempt = 0
        return had
