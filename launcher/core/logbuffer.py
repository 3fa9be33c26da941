"""A bounded ring of log lines from the server child, with listeners.

The child can log for days; keeping every line would grow without bound, and
the user only needs the recent past (and the last lines after a crash).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

LineListener = Callable[[str], None]


class LogBuffer:
    """Keeps the last `maxlen` lines and tells listeners about each new one."""

    def __init__(self, maxlen: int = 5000) -> None:
        self._lines: deque[str] = deque(maxlen=maxlen)
        self._listeners: list[LineListener] = []
        #: Views showing these lines as they come: the file tail polls faster while > 0.
        self.viewers = 0

    def append(self, line: str) -> None:
        self._lines.append(line)
        for listener in list(self._listeners):
            listener(line)

    def lines(self) -> list[str]:
        return list(self._lines)

    def tail(self, count: int) -> list[str]:
        return list(self._lines)[-count:] if count > 0 else []

    def clear(self) -> None:
        self._lines.clear()

    def subscribe(self, listener: LineListener) -> Callable[[], None]:
        """Call `listener(line)` for each new line; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
