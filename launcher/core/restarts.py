"""When to restart a crashed server: a pure rule (backoff 1 s, 2 s, 4 s; at most 3 in 5 minutes).

Kept apart from the monitor's loop so it is tested with plain values. Ollama's
own app restarts forever every second; a server that keeps crashing is better
left Crashed with its cause on screen than restarted in a loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from launcher.core.server import ServerExit

BACKOFF_SECONDS = (1.0, 2.0, 4.0)
WINDOW_SECONDS = 300.0
MAX_RESTARTS = len(BACKOFF_SECONDS)


def recent(restarts: Sequence[float], now: float) -> list[float]:
    """The restarts (monotonic times) that still count against the budget."""
    return [t for t in restarts if now - t < WINDOW_SECONDS]


def next_restart(outcome: ServerExit, restarts: Sequence[float], now: float) -> float | None:
    """Seconds to wait before restarting after `outcome`, or None to stay stopped/crashed.

    A stop we asked for is not a crash. A crash during start-up (port taken,
    bad configuration) would only crash again: it is not retried, its cause is
    shown instead.
    """
    if not outcome.crashed or outcome.during_startup:
        return None
    count = len(recent(restarts, now))
    if count >= MAX_RESTARTS:
        return None
    return BACKOFF_SECONDS[count]
