"""What the local server's log says about context: its configured length and cut prompts.

Ollama prints `OLLAMA_CONTEXT_LENGTH` in its first line (`msg="server config"`) and
warns `truncating input prompt` when a prompt does not fit; the chat reply itself
says neither. This watcher reads both from the launcher's log buffer of the server
it started (no Qt; the buffer calls it on the thread that appends lines), and lets
a turn ask "did the server cut a prompt while I was running?".
"""

from __future__ import annotations

from collections.abc import Callable

from launcher.core.context import LoggedTruncation, parse_truncation, server_context_length
from launcher.core.logbuffer import LogBuffer


class ServerLogWatch:
    """Reads the server's context length and prompt cuts from its log.

    Attributes:
        server_context: OLLAMA_CONTEXT_LENGTH of the server that logged last, or None.
    """

    def __init__(self, log: LogBuffer) -> None:
        self.server_context: int | None = None
        self._cuts: list[LoggedTruncation] = []
        for line in log.lines():
            self._feed(line)
        self._unsubscribe: Callable[[], None] | None = log.subscribe(self._feed)

    def _feed(self, line: str) -> None:
        if "server config" in line:
            context = server_context_length(line)
            if context is not None or "OLLAMA_CONTEXT_LENGTH" in line:
                self.server_context = context
            return
        if "truncating input prompt" in line:
            cut = parse_truncation(line)
            if cut is not None:
                self._cuts.append(cut)

    def mark(self) -> int:
        """A position to ask `cuts_since` about (take it when a request starts)."""
        return len(self._cuts)

    def cuts_since(self, mark: int) -> list[LoggedTruncation]:
        return self._cuts[mark:]

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
