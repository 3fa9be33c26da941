"""Watches one host by polling `GET /api/version`, and starts/stops our own server for it.

Polling adapts to what is going on: every 150 ms while a server is starting
or stopping (so Running shows within a fraction of a second of the port
answering), every 2 s while steady (a server that dies shows within about
2 s, at the cost of one tiny request), every 10 s while our own child runs
and answers (its exit is seen at once by waiting on the process, so the poll
only has to catch a hung server; an idle launcher then wakes up rarely), and
with exponential backoff up to 30 s while a remote host is unreachable.

It also owns the server's life around the user's clicks: auto-start at
launch, adoption of a server a previous launcher left running, and restarts
after a crash (the rule is `core/restarts.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from launcher.config import HostProfile, LocalServerSettings
from launcher.core import restarts
from launcher.core.childenv import child_environment
from launcher.core.crash_restarts import CrashRestarts
from launcher.core.hangup import wait_next, watchable
from launcher.core.probe import probe
from launcher.core.server import ServerExit, ServerStartError, ServerSupervisor
from launcher.core.status import (
    STEADY_INTERVAL,
    Probe,
    ProbeKind,
    ServerState,
    ServerStatus,
    Situation,
    decide,
    poll_interval,
)
from launcher.ollama import OllamaClient

LOCAL_PROBE_TIMEOUT = 3.0
REMOTE_PROBE_TIMEOUT = 5.0

BinaryFinder = Callable[[], Path | None]


class ServerMonitor(QObject):
    """The truth about one host's server, and the Start/Stop actions for it.

    Args:
        client: the client for the host (the monitor does not own it).
        profile: the host.
        supervisor: runs our own child for a managed (local) host.
        local: settings for the child (models folder, extra env...).
        find_binary: returns the `ollama` binary to run, or None.

    Signals:
        statusChanged(object): a new ServerStatus (only when it changed).
        startFailed(str): Start could not even spawn the child.
        restarting(int, object): our server crashed and restart number N (1..3) is
            scheduled; the ServerExit says how it ended.
        crashed(object): our server crashed and stays down (no restart left, or it
            failed during start-up); the ServerExit says how.
    """

    statusChanged = Signal(object)
    startFailed = Signal(str)
    restarting = Signal(int, object)
    crashed = Signal(object)

    def __init__(
        self,
        client: OllamaClient,
        profile: HostProfile,
        supervisor: ServerSupervisor,
        local: LocalServerSettings,
        find_binary: BinaryFinder,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self.profile = profile
        self.supervisor = supervisor
        self.local = local
        self._find_binary = find_binary
        self._binary: Path | None = None
        self._last_probe: Probe | None = None
        self._start_pending = False
        self._backoff = STEADY_INTERVAL
        self._wake = asyncio.Event()
        self._probed = asyncio.Event()  # set after each probe's status is published
        self._task: asyncio.Task[None] | None = None
        self.status = ServerStatus(ServerState.CHECKING, profile.base_url)
        self.polls = 0
        self._restarts = CrashRestarts(self._spawn, self._publish)
        self._first_probe_done = False  # adoption and auto-start happen once, at launch
        # A local server not ours is also watched for its hang-up (`core/hangup.py`), so
        # its end shows at once, not at the next 2 s poll; unless it turned out to close
        # idle connections itself. (It is still polled every 2 s: a server that stops
        # without closing its connections, like a stopped in-process test server, or a
        # host that hangs, must still show within the usual time.)
        self._hangup_ok = True
        self._hung_up_early = False
        #: An Ollama answered at this host during this session (it may have gone since).
        self.seen_ollama = False
        self.auto_started = False
        supervisor.exited.connect(self._on_child_exit)

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> None:
        """Begin polling (call inside the running event loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def aclose(self) -> None:
        self._restarts.cancel()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def set_host(self, client: OllamaClient, profile: HostProfile) -> None:
        """Watch another host from now on."""
        self._client = client
        self.profile = profile
        self._last_probe = None
        self._backoff = STEADY_INTERVAL
        self._hangup_ok = True
        self.seen_ollama = False
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._publish()
        self.start()

    def wake(self) -> None:
        """Probe now instead of at the next tick."""
        self._wake.set()

    async def refresh(self, timeout: float = REMOTE_PROBE_TIMEOUT) -> None:
        """Probe now and return once the status says what it found (or after `timeout`)."""
        if self._task is None or self._task.done():
            return
        if self._probed.is_set():
            self._probed = asyncio.Event()
        probed = self._probed
        self.wake()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(probed.wait(), timeout)

    # ---- actions ---------------------------------------------------------

    @property
    def can_start(self) -> bool:
        return (
            self.profile.managed
            and self._binary is not None
            and not self.supervisor.running
            and not self._start_pending
            and not self._restarts.attempt
            and not self.status.answering
        )

    @property
    def can_stop(self) -> bool:
        """Only a server we started can be stopped: never somebody else's. A pending
        restart after a crash can be stopped too (it is then not restarted)."""
        if not self.profile.managed:
            return False
        return bool(self._restarts.attempt) or (
            self.supervisor.running and not self.supervisor.stopping
        )

    async def start_server(self) -> None:
        """Run `ollama serve` for the local host; the status says how it goes."""
        if not self.can_start:
            return
        self._restarts.fresh_budget()  # the user's own Start: a fresh budget of restarts
        await self._spawn()

    async def ensure_running(self, timeout: float = 60.0) -> bool:
        """Start our local server if needed and wait until it answers (for "Send starts
        the server"). True when some Ollama answers; False when it cannot be started,
        it fails, or `timeout` seconds pass — the status then says why."""
        if self._answering_ollama():
            return True
        if self.can_start:
            await self.start_server()
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        settled = (
            ServerState.CRASHED,
            ServerState.NOT_INSTALLED,
            ServerState.PORT_IN_USE,
            ServerState.STOPPED,
            ServerState.UNREACHABLE,
        )
        changed = asyncio.Event()

        def on_change(_status: object) -> None:
            changed.set()

        self.statusChanged.connect(on_change)
        try:
            while loop.time() < end:
                pending = self._start_pending or self.supervisor.running or self._restarts.attempt
                if self._answering_ollama():
                    return True
                if self.status.state in settled and not pending:
                    return False
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), max(0.0, end - loop.time()))
        finally:
            self.statusChanged.disconnect(on_change)
        return self._answering_ollama()

    def _answering_ollama(self) -> bool:
        return self.status.state is ServerState.RUNNING

    async def restart_server(self) -> None:
        """Stop our server and start it again (to apply new settings).

        Does nothing for a server we do not own. When another program took the
        address meanwhile, the status says so and nothing is started.
        """
        if not self.profile.managed:
            return
        self._restarts.cancel()
        if self.supervisor.running:
            await self.stop_server()
        timeout = LOCAL_PROBE_TIMEOUT
        self._last_probe = await probe(self._client, timeout)
        self._publish()
        if self._last_probe.kind is ProbeKind.REFUSED and not self.supervisor.running:
            self._restarts.fresh_budget()
            await self._spawn()

    def _environment(self) -> dict[str, str]:
        local = self.local
        return child_environment(
            self.profile.child_host,
            models_dir=local.models_dir,
            extra_env=local.extra_env,
            tuning=local.tuning,
            https_proxy=local.https_proxy,
            noprune=local.noprune is True,
            allow_network=local.allow_network is True,
        )

    async def _spawn(self) -> None:
        if self.supervisor.running or self._start_pending:
            return
        binary = self._find_binary()
        self._binary = binary
        if binary is None:
            self._publish()
            self.startFailed.emit(
                "The ollama binary was not found. Install Ollama from "
                "https://ollama.com/download, or set its path in Settings."
            )
            return
        self._start_pending = True
        self._publish()
        try:
            await self.supervisor.start(binary, self.profile.child_host, env=self._environment())
        except ServerStartError as exc:
            self._start_pending = False
            self._publish()
            self.startFailed.emit(str(exc))
            return
        self.wake()

    async def stop_server(self) -> ServerExit | None:
        """Stop our own server (never an external one)."""
        if not self.can_stop:
            return None
        self._start_pending = False
        if self._restarts.cancel() and not self.supervisor.running:
            outcome, self.supervisor.last_exit = self.supervisor.last_exit, None
            self._publish()  # the user chose Stopped over a restart
            return outcome
        stopping = self.supervisor.stop()
        self._publish()  # shows Stopping at once
        self.wake()
        outcome = await stopping
        self.wake()
        return outcome

    async def _auto_start(self, first: Probe) -> None:
        """At launch only: start the local server when nothing answers (once; a later
        Stop is respected because this never runs again)."""
        if (
            self.profile.managed
            and self.local.auto_start is True
            and self._binary is not None
            and first.kind is ProbeKind.REFUSED
            and not self.supervisor.running
        ):
            self.auto_started = True
            await self._spawn()

    # ---- polling ---------------------------------------------------------

    def _situation(self) -> Situation:
        sup = self.supervisor
        managed = self.profile.managed
        return Situation(
            base_url=self.profile.base_url,
            managed=managed,
            binary=str(self._binary or "") if managed else "",
            child_running=managed and sup.running,
            child_stopping=managed and sup.stopping,
            start_pending=managed and self._start_pending,
            last_exit=sup.last_exit if managed else None,
            restart_attempt=self._restarts.attempt if managed else 0,
            adopted=managed and sup.adopted,
            configured_binary=str(self.local.binary or "") if managed else "",
            insecure_tls=not self.profile.verify_tls and self.profile.base_url.startswith("https:"),
        )

    def _publish(self) -> None:
        status = decide(self._last_probe, self._situation())
        if status != self.status:
            self.status = status
            self.statusChanged.emit(status)

    def _on_child_exit(self, outcome: object) -> None:
        self._start_pending = False
        if isinstance(outcome, ServerExit) and outcome.crashed:
            was_pending = self._restarts.pending
            delay = self._restarts.after_crash(outcome)
            if delay is not None and not was_pending:
                self.supervisor.log.append(
                    f"[launcher] restarting in {delay:.0f} s"
                    f" (restart {self._restarts.attempt} of {restarts.MAX_RESTARTS})"
                )
                self.restarting.emit(self._restarts.attempt, outcome)
            elif delay is None:
                why = "it failed during start-up" if outcome.during_startup else "too many crashes"
                self.supervisor.log.append(f"[launcher] not restarting: {why}")
                self.crashed.emit(outcome)
        self._publish()
        self.wake()

    def _interval(self) -> float:
        interval, self._backoff = poll_interval(
            self.status.state,
            backoff=self._backoff,
            start_pending=self._start_pending,
            remote=not self.profile.managed,
            exit_watched=self._child_watched(),
        )
        return interval

    def _hangup_watch(self) -> str | None:
        """The base URL to watch for a hang-up while waiting, or None: a local server
        that answers and is not our child (whose exit we wait on already)."""
        if (
            self._hangup_ok
            and self.status.state is ServerState.RUNNING
            and not self._child_watched()
            and watchable(self.profile.base_url)
        ):
            return self.profile.base_url
        return None

    def _child_watched(self) -> bool:
        """Our server runs, and the supervisor tells us the moment it exits (by waiting
        on our child, or on an adopted server's exact process): `_on_child_exit`."""
        sup = self.supervisor
        return self.profile.managed and sup.running and not sup.stopping

    async def _run(self) -> None:
        if not self._first_probe_done:
            await self.supervisor.adopt()
        while True:
            if self.profile.managed:
                self._binary = self._find_binary()
            timeout = LOCAL_PROBE_TIMEOUT if self.profile.managed else REMOTE_PROBE_TIMEOUT
            result = await probe(self._client, timeout)
            self.polls += 1
            self._last_probe = result
            if result.kind is ProbeKind.OLLAMA and self.supervisor.running:
                self.supervisor.mark_ready()
                self._start_pending = False
            self.seen_ollama = self.seen_ollama or result.kind is ProbeKind.OLLAMA
            if self._hung_up_early and result.kind is ProbeKind.OLLAMA:
                self._hangup_ok = False  # it closes idle connections: a false alarm
            self._publish()
            self._probed.set()
            if not self._first_probe_done:
                self._first_probe_done = True
                await self._auto_start(result)
            watch = self._hangup_watch()
            waited = time.monotonic()
            hung_up = await wait_next(self._wake, self._interval(), watch)
            self._hung_up_early = hung_up and time.monotonic() - waited < STEADY_INTERVAL
