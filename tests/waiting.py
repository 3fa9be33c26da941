"""Waiting on conditions with a deadline: the only way tests synchronise.

A poll with a deadline is not a sleep-as-synchronisation: it returns as soon
as the condition holds and fails loudly when it never does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL_SECONDS = 0.005


async def wait_until(
    predicate: Callable[[], object], timeout: float = 5.0, message: str = ""
) -> None:
    """Return once `predicate()` is truthy; raise AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s: {predicate}")
        await asyncio.sleep(POLL_SECONDS)


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, message: str = "") -> None:
    """`wait_until` for code outside the event loop (tests that drive processes)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s: {predicate}")
        time.sleep(0.02)
