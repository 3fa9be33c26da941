"""Background tasks that are owned, cancellable at quit, and never fail silently.

A bare `asyncio.ensure_future` from a slot loses the task (it can be garbage
collected mid-flight) and swallows its exception until the task is collected.
Here every task is kept until done, and an exception is handed to the loop's
exception handler at once (tests fail on it; the app logs it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundTasks:
    """A set of running tasks with a single `aclose()` for orderly shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            task.get_loop().call_exception_handler(
                {"message": "background task failed", "exception": exc, "task": task}
            )

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout: float) -> None:
        """Let the running tasks finish on their own (up to `timeout` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def aclose(self) -> None:
        """Cancel every task and wait for all of them to finish unwinding."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
