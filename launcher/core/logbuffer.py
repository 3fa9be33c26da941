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
        #: Reads what the source has written and not yet appended (the file tail's
        #: `read_new`), for `catch_up`; None while nothing follows a source.
        self.reader: Callable[[], object] | None = None

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

    def catch_up(self) -> None:
        """Take in at once what the source has written so far: the tail polls slowly
        while nobody watches, and a caller about to ask what the log said (did the
        server cut my prompt?) must not miss the last line."""
        if self.reader is not None:
            self.reader()

    def subscribe(self, listener: LineListener) -> Callable[[], None]:
        """Call `listener(line)` for each new line; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
