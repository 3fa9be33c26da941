"""Supervises one `ollama serve`: start, follow its log, detect its exit, stop it and its runners.

Only a server the launcher started (now, or in a previous life: see
`core/ownership.py`) is ever signalled; a server found running is somebody
else's and is left alone. The child runs in its own session (process group),
so that its model runners (which share the group) are reached too: SIGTERM to
the group, a grace period, then SIGKILL to the group. Its exit is detected by
waiting on the process itself (runners keep any shared output open), and
whatever is left of its group is then killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from launcher.core import ownership
from launcher.core.childenv import child_environment, port_of
from launcher.core.logbuffer import LogBuffer
from launcher.core.logtail import LogTail
from launcher.core.processes import kill_group, kill_leftover_group, kill_tree, terminate_group

__all__ = ["ServerExit", "ServerStartError", "ServerSupervisor", "child_environment"]

STOP_GRACE_SECONDS = 5.0
ADOPTED_POLL_SECONDS = 0.25
_ERROR_PATTERNS = (
    re.compile(r"^Error: (?P<msg>.+)$"),
    re.compile(r"^panic: (?P<msg>.+)$"),
    re.compile(r'level=(?:ERROR|FATAL)\b.*?msg="(?P<msg>[^"]+)"'),
)


class ServerStartError(Exception):
    """The child could not even be spawned (missing binary, permission, bad path)."""


@dataclass(frozen=True)
class ServerExit:
    """How the server ended: a plain record, so its logic is tested without an event loop.

    Attributes:
        code: the exit code, or None when a signal ended it (or it was not our child).
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
        """It ended on its own: not a stop the launcher asked for, and not a clean exit
        (Ollama exits 0 only when told to stop, e.g. by `kill` from a terminal)."""
        return not self.requested and self.code != 0

    def reason(self) -> str:
        """The child's own explanation, from its last error line; empty when none."""
        for line in reversed(self.log_tail):
            for pattern in _ERROR_PATTERNS:
                match = pattern.search(line.strip())
                if match:
                    return match.group("msg").strip()
        return ""

    def how(self) -> str:
        """'exit code 2', 'signal 9' or 'unknown cause': the short form for the status."""
        if self.signal is not None:
            return f"signal {self.signal}"
        if self.code is not None:
            return f"exit code {self.code}"
        return "unknown cause"

    def summary(self) -> str:
        """One sentence for the status line, e.g. 'exited with code 1 during start-up: ...'."""
        if self.signal is not None:
            how = f"was killed by signal {self.signal}"
        elif self.code is not None:
            how = f"exited with code {self.code}"
        else:
            how = "ended"
        when = " during start-up" if self.during_startup else ""
        reason = self.reason()
        return f"ollama serve {how}{when}" + (f": {reason}" if reason else "")


class ServerSupervisor(QObject):
    """Runs (or has adopted) one `ollama serve` at a time.

    Args:
        log: where the server's log lines go.
        state_folder: where the ownership record and the log file live
            (default: the platform state folder).

    Signals:
        started(): the child was spawned (it is not answering yet).
        exited(object): the server ended; the argument is a ServerExit.

    Attributes:
        log: ring buffer of the server's log lines.
        adopted: the running server was started by a previous launcher.
        last_exit: how the last server ended.
    """

    started = Signal()
    exited = Signal(object)

    def __init__(
        self,
        log: LogBuffer | None = None,
        parent: QObject | None = None,
        state_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.log = log or LogBuffer()
        self._folder = state_folder
        self._proc: asyncio.subprocess.Process | None = None
        self._adopted_pid: int | None = None
        self._alive = False
        self._watcher: asyncio.Task[ServerExit] | None = None
        self._tail: LogTail | None = None
        self._leader_start: float | None = None  # start time of our server process
        self._tail_task: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._ready = False
        self.adopted = False
        self.last_exit: ServerExit | None = None

    @property
    def folder(self) -> Path:
        return self._folder or ownership.state_dir()

    @property
    def running(self) -> bool:
        """A server of ours is alive."""
        return self._alive

    @property
    def stopping(self) -> bool:
        return self.running and self._stop_requested

    @property
    def pid(self) -> int | None:
        if self._proc is not None:
            return self._proc.pid
        return self._adopted_pid

    def mark_ready(self) -> None:
        """Called once the server answered HTTP: later exits are no longer start-up failures."""
        self._ready = True

    # ---- start, adopt ----------------------------------------------------

    async def start(
        self,
        binary: Path,
        child_host: str,
        *,
        models_dir: str = "",
        extra_env: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Spawn `binary serve` in its own process group; returns once it is spawned
        and recorded as ours.

        Raises:
            ServerStartError: the binary could not be executed.
        """
        if self.running:
            return
        if env is None:
            env = child_environment(child_host, models_dir=models_dir, extra_env=extra_env)
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True
        folder = self.folder
        log_path = folder / ownership.LOG_NAME
        self.log.append(f"[launcher] starting {binary} serve with OLLAMA_HOST={env['OLLAMA_HOST']}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with log_path.open("wb") as out:  # the child keeps its own copy of the handle
                proc = await asyncio.create_subprocess_exec(
                    str(binary),
                    "serve",
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                    env=dict(env),
                    **kwargs,
                )
        except OSError as exc:
            why = (exc.strerror or "it could not be started").lower()
            self.log.append(f"[launcher] could not run {binary}: {exc!r}")
            raise ServerStartError(
                f"The launcher could not run {binary} ({why}). Check that it is the Ollama "
                "program and that it may be executed, or choose another in Settings."
            ) from exc
        self._proc, self._adopted_pid, self._alive = proc, None, True
        self._leader_start = None
        self.adopted = False
        self._stop_requested = False
        self._ready = False
        self.last_exit = None
        self._follow(LogTail(log_path, self.log))
        self._watcher = asyncio.ensure_future(self._watch(self._wait_child(proc)))
        record = await asyncio.to_thread(
            ownership.record_for, proc.pid, port_of(env["OLLAMA_HOST"]), log_path
        )
        if record is not None and self._proc is proc and proc.returncode is None:
            self._leader_start = record.start_time
            await asyncio.to_thread(ownership.save_record, record, folder)
        self.started.emit()

    async def adopt(self) -> ownership.ServerRecord | None:
        """Take back the server a previous launcher started and left running.

        Only the exact process recorded (same pid and start time) is adopted;
        a stale record (gone, or pid reused) is forgotten. Returns the record
        adopted, or None.
        """
        if self.running:
            return None
        folder = self.folder
        record = await asyncio.to_thread(ownership.load_record, folder)
        if record is None:
            return None
        facts = await asyncio.to_thread(ownership.process_facts, record.pid)
        verdict = ownership.judge(record, facts)
        if verdict is not ownership.Verdict.OURS:
            await asyncio.to_thread(ownership.clear_record, folder)
            return None
        self._proc, self._adopted_pid, self._alive = None, record.pid, True
        self._leader_start = record.start_time
        self.adopted = True
        self._stop_requested = False
        self._ready = True
        self.last_exit = None
        self.log.append(
            f"[launcher] found ollama serve (pid {record.pid}) left running by the launcher"
            " when it last ended; it is ours again"
        )
        if record.log_path:
            self._follow(LogTail(Path(record.log_path), self.log, from_end=True))
        self._watcher = asyncio.ensure_future(self._watch(self._wait_adopted(record)))
        self.started.emit()
        return record

    def _follow(self, tail: LogTail) -> None:
        self._tail = tail
        self.log.reader = tail.read_new
        self._tail_task = asyncio.ensure_future(tail.follow())

    # ---- exit ------------------------------------------------------------

    @staticmethod
    async def _wait_child(proc: asyncio.subprocess.Process) -> tuple[int | None, int | None]:
        code = await proc.wait()
        return (code, None) if code >= 0 else (None, -code)

    @staticmethod
    async def _wait_adopted(record: ownership.ServerRecord) -> tuple[int | None, int | None]:
        """Not our child: we cannot wait(); poll until that exact process is gone."""
        while True:
            facts = await asyncio.to_thread(ownership.process_facts, record.pid)
            if ownership.judge(record, facts) is not ownership.Verdict.OURS:
                return None, None
            await asyncio.sleep(ADOPTED_POLL_SECONDS)

    async def _watch(self, exited: Any) -> ServerExit:
        """The one place every server of ours ends: kill the rest of its group, read the
        last of its log, forget the record, tell everyone."""
        pgid = self.pid
        code: int | None = None
        sig: int | None = None
        try:
            code, sig = await exited
        finally:
            if pgid is not None:
                # Runners left behind by a crash; never the group of a process that
                # has since been given the same pid.
                kill_leftover_group(pgid, self._leader_start)
            self._alive = False
            tail_task, self._tail_task = self._tail_task, None
            if tail_task is not None:
                tail_task.cancel()
            if self._tail is not None:
                self._tail.finish()
                self.log.reader = None
            ownership.clear_record(self.folder)
        outcome = ServerExit(
            code=code,
            signal=sig,
            requested=self._stop_requested,
            during_startup=not self._ready,
            log_tail=tuple(line for line in self.log.tail(21) if not line.startswith("[launcher]"))[
                -20:
            ],
        )
        self.last_exit = outcome
        self.log.append(f"[launcher] {outcome.summary()}")
        self.exited.emit(outcome)
        return outcome

    # ---- stop ------------------------------------------------------------

    def kill_now(self) -> None:
        """SIGKILL our server's whole group at once (the emergency exit path)."""
        pid = self.pid
        if not self.running or pid is None:
            return
        self._stop_requested = True
        if sys.platform == "win32":  # no process groups: the runners are its children
            kill_tree(pid)
            return
        kill_group(pid)

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> ServerExit | None:
        """Stop the server of ours: polite signal to its group, wait, then kill the group.

        Returns the ServerExit, or None when there was no server of ours.
        """
        watcher, pid = self._watcher, self.pid
        if watcher is None or pid is None:
            return None
        if self.running:
            self._stop_requested = True
            self.log.append("[launcher] stopping the server")
            if sys.platform == "win32":
                if self._proc is not None:
                    with contextlib.suppress(ProcessLookupError):
                        self._proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
            else:
                terminate_group(pid)
            done, _ = await asyncio.wait({watcher}, timeout=grace)
            if not done:
                self.log.append(f"[launcher] no exit after {grace:.0f} s; killing the group")
                self.kill_now()
        return await asyncio.shield(watcher)
