"""Pure rules for the Server log: which lines are our own polling, which are warnings or errors.

Kept apart from the view (no Qt) so the rules are tested with plain strings: the
view only asks `classify(line)` and colours or hides the line accordingly.
"""

from __future__ import annotations

import enum
import re

#: The requests the launcher itself makes on a timer (status probe, loaded models, liveness).
POLL_REQUESTS = frozenset({("GET", "/api/version"), ("GET", "/api/ps"), ("HEAD", "/")})
LOOPBACK_PEERS = frozenset({"127.0.0.1", "::1", "localhost"})

# [GIN] 2024/05/01 - 12:00:00 | 200 |     1.2ms |       127.0.0.1 | GET      "/api/version"
_GIN = re.compile(
    r"^\[GIN\][^|]*\|\s*(?P<status>\d{3})\s*\|[^|]*\|\s*(?P<peer>[^|\s]+)\s*\|\s*"
    r"(?P<method>[A-Z]+)\s+\"?(?P<path>[^\"\s]*)\"?"
)
_LEVEL = re.compile(r"\blevel=(?P<level>[A-Z]+)\b")
_ERROR_WORDS = re.compile(r"^(panic:|fatal error:|Error:|error:)|\bsegmentation fault\b", re.I)


class LineKind(enum.Enum):
    """How the log view shows a line."""

    NORMAL = "normal"
    POLL = "poll"  # one of the launcher's own polling requests: hidden by default
    WARNING = "warning"
    ERROR = "error"


def classify(line: str) -> LineKind:
    """The kind of one server log line."""
    gin = _GIN.match(line.strip())
    if gin is not None:
        status = int(gin.group("status"))
        request = (gin.group("method"), gin.group("path"))
        if status >= 500:
            return LineKind.ERROR
        if status >= 400:
            return LineKind.WARNING
        if request in POLL_REQUESTS and gin.group("peer").strip("[]") in LOOPBACK_PEERS:
            return LineKind.POLL
        return LineKind.NORMAL
    level = _LEVEL.search(line)
    if level is not None:
        name = level.group("level")
        if name.startswith("WARN"):
            return LineKind.WARNING
        if name in ("ERROR", "FATAL", "PANIC"):
            return LineKind.ERROR
        return LineKind.NORMAL
    if _ERROR_WORDS.search(line.strip()):
        return LineKind.ERROR
    return LineKind.NORMAL


def visible(line: str, *, show_polls: bool) -> bool:
    """Whether the view shows `line`: our own polling only when asked for."""
    return show_polls or classify(line) is not LineKind.POLL


def matches(line: str, query: str) -> bool:
    """Case-insensitive search, the way a person expects Ctrl+F to behave."""
    return query.casefold() in line.casefold()
