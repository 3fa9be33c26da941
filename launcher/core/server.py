"""Supervises the `ollama serve` child: start, drain logs, stop cleanly, report how it ended.

Only a server this object started is ever signalled; a server found running
is somebody else's and is left alone. The child runs in its own session
(process group) so that stopping it also reaches the model runners it spawns:
SIGTERM to the group, a grace period, then SIGKILL to the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from launcher.core.logbuffer import LogBuffer

STOP_GRACE_SECONDS = 8.0
_STREAM_LIMIT = 1 << 20
_ERROR_PATTERNS = (
    re.compile(r"^Error: (?P<msg>.+)$"),
    re.compile(r"^panic: (?P<msg>.+)$"),
    re.compile(r'level=(?:ERROR|FATAL)\b.*?msg="(?P<msg>[^"]+)"'),
)


class ServerStartError(Exception):
    """The child could not even be spawned (missing binary, permission, bad path)."""


@dataclass(frozen=True)
class ServerExit:
    """How the child ended: a plain record, so its logic is tested without an event loop.

    Attributes:
        code: the exit code, or None when a signal ended it.
        signal: the signal number that ended it, if any.
        requested: True when the launcher asked it to stop.
        during_startup: True when it ended before it ever answered HTTP.
        log_tail: its last log lines, oldest first.
    """

    code: int | None
    signal: int | None = None
    requested: bool = False
    during_startup: bool = False
    log_tail: tuple[str, ...] = field(default_factory=tuple)

    @property
    def crashed(self) -> bool:
        """It ended on its own (anything but a stop the launcher asked for)."""
        return not self.requested

    def reason(self) -> str:
        """The child's own explanation, from its last error line; empty when none."""
        for line in reversed(self.log_tail):
            for pattern in _ERROR_PATTERNS:
                match = pattern.search(line.strip())
                if match:
                    return match.group("msg").strip()
        return ""

    def summary(self) -> str:
        """One sentence for the status line, e.g. 'exited with code 1 during start-up: ...'."""
        if self.signal is not None:
            how = f"was killed by signal {self.signal}"
        else:
            how = f"exited with code {self.code}"
        when = " during start-up" if self.during_startup else ""
        reason = self.reason()
        return f"ollama serve {how}{when}" + (f": {reason}" if reason else "")


def child_environment(
    child_host: str,
    *,
    models_dir: str = "",
    extra_env: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the child: ours, plus the server settings the user chose."""
    env = dict(os.environ if base is None else base)
    env.update(extra_env or {})
    env["OLLAMA_HOST"] = child_host
    if models_dir:
        env["OLLAMA_MODELS"] = models_dir
    return env


class ServerSupervisor(QObject):
    """Runs one `ollama serve` child at a time.

    Signals:
        started(): the child was spawned (it is not answering yet).
        exited(object): the child ended; the argument is a ServerExit.

    Attributes:
        log: ring buffer of the child's stdout and stderr lines.
    """

    started = Signal()
    exited = Signal(object)

    def __init__(self, log: LogBuffer | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log = log or LogBuffer()
        self._proc: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task[ServerExit] | None = None
        self._stop_requested = False
        self._ready = False
        self.last_exit: ServerExit | None = None

    @property
    def running(self) -> bool:
        """A child we started is alive."""
        return self._proc is not None and self._proc.returncode is None

    @property
    def stopping(self) -> bool:
        return self.running and self._stop_requested

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def mark_ready(self) -> None:
        """Called once the server answered HTTP: later exits are no longer start-up failures."""
        self._ready = True

    async def start(
        self,
        binary: Path,
        child_host: str,
        *,
        models_dir: str = "",
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        """Spawn `binary serve` in its own process group; returns once it is spawned.

        Raises:
            ServerStartError: the binary could not be executed.
        """
        if self.running:
            return
        env = child_environment(child_host, models_dir=models_dir, extra_env=extra_env)
        kwargs: dict[str, object] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            kwargs["start_new_session"] = True
        self.log.append(f"[launcher] starting {binary} serve with OLLAMA_HOST={child_host}")
        try:
            proc = await asyncio.create_subprocess_exec(
                str(binary),
                "serve",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                limit=_STREAM_LIMIT,
                **kwargs,  # type: ignore[arg-type]
            )
        except OSError as exc:
            message = f"Could not run {binary}: {exc.strerror or exc}"
            self.log.append(f"[launcher] {message}")
            raise ServerStartError(message) from exc
        self._proc = proc
        self._stop_requested = False
        self._ready = False
        self.last_exit = None
        self._watcher = asyncio.ensure_future(self._watch(proc))
        self.started.emit()

    async def _drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while True:
            try:
                raw = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue  # an absurdly long line: skip it, keep draining
            if not raw:
                return
            self.log.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    async def _watch(self, proc: asyncio.subprocess.Process) -> ServerExit:
        await asyncio.gather(self._drain(proc.stdout), self._drain(proc.stderr))
        code = await proc.wait()
        self._kill_group(proc, final=True)
        outcome = ServerExit(
            code=code if code >= 0 else None,
            signal=-code if code < 0 else None,
            requested=self._stop_requested,
            during_startup=not self._ready,
            log_tail=tuple(self.log.tail(20)),
        )
        self.last_exit = outcome
        self.log.append(f"[launcher] {outcome.summary()}")
        self.exited.emit(outcome)
        return outcome

    def _signal_group(self, proc: asyncio.subprocess.Process, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if sys.platform == "win32":
                proc.send_signal(sig)
            else:
                os.killpg(proc.pid, sig)

    def _kill_group(self, proc: asyncio.subprocess.Process, *, final: bool = False) -> None:
        """SIGKILL whatever is left of the group (runner children after the leader died)."""
        if sys.platform == "win32":
            if not final:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            return
        self._signal_group(proc, signal.SIGKILL)

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> ServerExit | None:
        """Stop the child we started: polite signal to its group, wait, then kill the group.

        Returns the ServerExit, or None when there was no child of ours.
        """
        proc, watcher = self._proc, self._watcher
        if proc is None or watcher is None:
            return None
        if proc.returncode is None:
            self._stop_requested = True
            self.log.append("[launcher] stopping the server")
            polite = signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGTERM  # type: ignore[attr-defined]
            self._signal_group(proc, polite)
            try:
                await asyncio.wait_for(asyncio.shield(watcher), grace)
            except TimeoutError:
                self.log.append(f"[launcher] no exit after {grace:.0f} s; killing the group")
                self._kill_group(proc)
        return await watcher
