"""Follows the server's log file, line by line, into the LogBuffer.

Why a file and not pipes: `ollama serve` hands its output to its runner
children, so pipes stay open as long as any runner lives (EOF says nothing
about the server); and when the launcher dies, a pipe breaks and Go exits on
the next write to a broken stdout/stderr. A file keeps the server alive when we
die, lets the next launcher show an adopted server's log, and its final read
after an exit is bounded by what is on disk, never by another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

from launcher.core.logbuffer import LogBuffer

POLL_SECONDS = 0.05
#: The slowest poll while a view shows the log as it comes (`LogBuffer.viewers`).
IDLE_POLL_SECONDS = 0.5
#: The slowest poll while nobody looks: the lines still reach the log's listeners
#: (context length, prompt cuts, hints), a little later.
UNWATCHED_POLL_SECONDS = 2.0
MAX_READ = 1 << 20  # bytes per read: a flood of log never stalls the loop for long
# Ollama prints its proxy settings (`HTTPS_PROXY:http://user:secret@proxy`) in its first
# line: a password must not reach the log view, diagnostics or a bug report.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^\s:/@]+):[^\s/@]+@")


def redact(line: str) -> str:
    """The line with passwords in URLs replaced by `***`."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", line)


def next_poll(
    interval: float,
    *,
    grew: bool,
    watched: bool,
    fastest: float = POLL_SECONDS,
    slowest: float = IDLE_POLL_SECONDS,
    unwatched: float = UNWATCHED_POLL_SECONDS,
) -> float:
    """The wait before the next read of the file, after a read that found lines (`grew`)
    or not, while a view shows the log (`watched`) or not."""
    if grew:
        return max(fastest, interval / 4)
    return min(interval * 2, slowest if watched else unwatched)


class LogTail:
    """Reads what was appended to `path` since the last read and appends whole lines to `log`."""

    def __init__(self, path: Path, log: LogBuffer, *, from_end: bool = False) -> None:
        self.path = path
        self.log = log
        self._pos = 0
        self._seen = -1
        self._partial = b""
        if from_end:
            with contextlib.suppress(OSError):
                self._pos = path.stat().st_size

    def read_new(self, limit: int = MAX_READ) -> bool:
        """Read up to `limit` new bytes; True when there may be more."""
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, 2)
                if size < self._pos:  # truncated (a new server started): from the top
                    self._pos = 0
                handle.seek(self._pos)
                data = handle.read(limit)
        except OSError:
            return False
        self._pos += len(data)
        if data:
            *lines, self._partial = (self._partial + data).split(b"\n")
            for raw in lines:
                self.log.append(redact(raw.decode("utf-8", "replace").rstrip("\r")))
        return len(data) == limit

    def finish(self, max_bytes: int = 4 * MAX_READ) -> None:
        """The last read after the server ended: bounded, then the unterminated line too."""
        budget = max_bytes
        while budget > 0 and self.read_new(min(MAX_READ, budget)):
            budget -= MAX_READ
        if self._partial:
            self.log.append(redact(self._partial.decode("utf-8", "replace").rstrip("\r")))
            self._partial = b""

    async def follow(
        self,
        fastest: float = POLL_SECONDS,
        slowest: float = IDLE_POLL_SECONDS,
        unwatched: float = UNWATCHED_POLL_SECONDS,
    ) -> None:
        """Poll the file until cancelled (the supervisor cancels it when the server ends).

        An idle launcher should cost nothing (a crash is seen by waiting on the
        process, not here), so the interval follows the file: each read that found
        lines divides it by 4 (a flood is followed within `fastest`), each empty read
        doubles it, up to `slowest` while a view shows the log and `unwatched` while
        nobody does. A lone line (a server logs every request, the status polls too)
        then costs a few reads, not a burst of them.
        """
        interval = fastest
        while True:
            more = self.read_new()
            grew = self._pos != self._seen
            self._seen = self._pos
            interval = next_poll(
                interval,
                grew=grew,
                watched=self.log.viewers > 0,
                fastest=fastest,
                slowest=slowest,
                unwatched=unwatched,
            )
            await asyncio.sleep(0 if more else interval)
