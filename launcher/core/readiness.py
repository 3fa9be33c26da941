"""Sending while the local server is stopped: start it, and send once it answers.

A chat turn awaits `ensure_running` before its request (`ChatController.prepare`).
For a remote host nothing is done here: the request itself fails with an
explanation that names the host and what to check.
"""

from __future__ import annotations

import asyncio
import contextlib

from launcher.core.monitor import ServerMonitor
from launcher.core.status import ServerState, ServerStatus
from launcher.ollama import OllamaConnectionError

#: How long a send waits for a starting local server (a cold start can load slowly).
READY_TIMEOUT_SECONDS = 60.0


class ServerNotReady(OllamaConnectionError):
    """The local server cannot take the message; `state` is the status's leading word
    ("Not installed", "Port in use", "Crashed"...) and `detail` what follows it, so that
    `explain()` says the same thing as the status."""

    def __init__(self, message: str, *, host: str, state: str, detail: str) -> None:
        super().__init__(message, host=host)
        self.state = state
        self.detail = detail


#: States in which waiting longer will not help: the turn ends with an explanation.
_HOPELESS = frozenset({ServerState.NOT_INSTALLED, ServerState.PORT_IN_USE, ServerState.CRASHED})


async def ensure_running(monitor: ServerMonitor, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Return once the selected local server answers; start it when it is stopped.

    Raises ServerNotReady (an OllamaConnectionError, explained like the status) when
    it cannot be started or does not answer within `timeout`.
    """
    if not monitor.profile.managed:
        return
    changed = asyncio.Event()
    failed: list[str] = []

    def on_status(_status: ServerStatus) -> None:
        changed.set()

    def on_failed(message: str) -> None:
        failed.append(message)
        changed.set()

    monitor.statusChanged.connect(on_status)
    monitor.startFailed.connect(on_failed)
    started = False
    refreshed = False
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            state = monitor.status.state
            if state is ServerState.RUNNING:
                return
            if not started and monitor.can_start:
                started = True
                await monitor.start_server()
                continue
            if state is ServerState.NOT_INSTALLED and monitor.seen_ollama and not failed:
                # An Ollama we did not start answered here before: it has stopped, it is
                # not missing. The request says so ("isn't running — start it").
                return
            if state in _HOPELESS and not refreshed and not failed:
                # Ask the server once more first: the status may predate its return
                # (a local server not ours, restarted by hand on the same address).
                refreshed = True
                await monitor.refresh()
                continue
            if failed or state in _HOPELESS or loop.time() >= deadline:
                raise ServerNotReady(
                    failed[0] if failed else f"the server is {state.value.lower()}",
                    host=monitor.profile.base_url,
                    state=state.value,
                    detail=monitor.status.detail,
                )
            changed.clear()
            monitor.start()  # a no-op while it polls; a status nobody polls never changes
            monitor.wake()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), max(0.0, deadline - loop.time()))
    finally:
        monitor.statusChanged.disconnect(on_status)
        monitor.startFailed.disconnect(on_failed)
