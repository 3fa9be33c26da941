"""How the launcher leaves on a signal: in order on the first, at once on the second.

SIGTERM (logout, `kill`), SIGINT (Ctrl+C) and SIGHUP (the terminal closed) all run
the orderly shutdown. Whatever hangs, the process is gone within the deadline: a
watchdog thread (it runs even if the event loop is stuck) and a second signal both
end our server's process group and exit immediately. No Qt here: the caller passes
what "orderly" and "emergency" mean.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

EXIT_SIGNALS: tuple[signal.Signals, ...] = (
    () if sys.platform == "win32" else (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)  # type: ignore[attr-defined,unused-ignore]
)
DEADLINE_SECONDS = 10.0


class ExitOnSignal:
    """Routes exit signals to an orderly quit, then to a forced exit.

    Args:
        orderly: starts the orderly shutdown (returns at once; the app exits when it ends).
        emergency: ends what must not outlive us (our server's group); must not block.
        deadline: seconds after the first signal before the exit is forced.
    """

    def __init__(
        self,
        orderly: Callable[[], None],
        emergency: Callable[[], None],
        deadline: float = DEADLINE_SECONDS,
    ) -> None:
        self.orderly = orderly
        self.emergency = emergency
        self.deadline = deadline
        self.received: list[int] = []
        self._watchdog: threading.Timer | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in EXIT_SIGNALS:
            loop.add_signal_handler(sig, self.on_signal, int(sig))

    def on_signal(self, signum: int) -> None:
        self.received.append(signum)
        if len(self.received) > 1:
            log.warning("second signal (%s): leaving now", signal.Signals(signum).name)
            self.force(128 + signum)
            return
        log.info("%s: shutting down", signal.Signals(signum).name)
        self._watchdog = threading.Timer(self.deadline, self.force, args=(1,))
        self._watchdog.daemon = True
        self._watchdog.start()
        self.orderly()

    def leave_within(self, seconds: float, code: int) -> None:
        """After the orderly shutdown: exit with `code` even if the interpreter cannot
        (it joins worker threads at exit, and a thread stuck in the keyring never ends)."""
        timer = threading.Timer(seconds, self.force, args=(code,))
        timer.daemon = True
        timer.start()

    def force(self, code: int) -> None:
        """End our server's group, then leave without waiting for anything else."""
        try:
            self.emergency()
        finally:
            logging.shutdown()
            os._exit(code)
