"""Which `ollama serve` is ours: a record that survives the launcher's death, and the rule.

When the launcher dies (SIGKILL, power cut of the session) its server lives on.
The next launcher must tell "ours, left over" (stop it on request and at quit)
from "someone else's" (never touch) and from "a reused pid" (never touch):
so we record the pid *and* the process start time. The rule `judge()` is pure
and tested without a loop or a process; the file and psutil calls sit apart.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from launcher.config import write_atomic

APP_NAME = "ollama-launcher"
RECORD_NAME = "server.json"
LOG_NAME = "server.log"
START_TIME_TOLERANCE = 0.05  # seconds; the same process always reports the same value


def state_dir() -> Path:
    """The platform state folder (env override `OLLAMA_LAUNCHER_STATE_DIR` for tests)."""
    override = os.environ.get("OLLAMA_LAUNCHER_STATE_DIR")
    return Path(override) if override else platformdirs.user_state_path(APP_NAME)


@dataclass(frozen=True)
class ServerRecord:
    """What we started: enough to recognise that exact process later."""

    pid: int
    start_time: float
    port: int
    cmdline: tuple[str, ...] = ()
    log_path: str = ""


@dataclass(frozen=True)
class ProcessFacts:
    """What the system says about a pid right now (None start_time: no such process)."""

    pid: int
    start_time: float | None
    cmdline: tuple[str, ...] = ()


class Verdict(enum.Enum):
    NOTHING = "nothing"  # no record: nothing of ours can be running
    OURS = "ours"  # the very process we started still runs: adopt it
    GONE = "gone"  # it ended (or its pid now belongs to another process): forget the record


def judge(record: ServerRecord | None, facts: ProcessFacts | None) -> Verdict:
    """Is the recorded server still running, and is it really the one we started?

    A pid alone proves nothing (pids are reused): only the same pid with the
    same start time is ours.
    """
    if record is None:
        return Verdict.NOTHING
    if facts is None or facts.start_time is None or facts.pid != record.pid:
        return Verdict.GONE
    if abs(facts.start_time - record.start_time) > START_TIME_TOLERANCE:
        return Verdict.GONE
    return Verdict.OURS


def process_facts(pid: int) -> ProcessFacts:
    """Ask the system about `pid` (psutil; a zombie counts as gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return ProcessFacts(pid, None)
        start = proc.create_time()
        try:
            cmdline = tuple(proc.cmdline())
        except psutil.AccessDenied:
            cmdline = ()
        return ProcessFacts(pid, start, cmdline)
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
        return ProcessFacts(pid, None)


def record_for(pid: int, port: int, log_path: Path) -> ServerRecord | None:
    """The record of a process we just spawned (None when it is already gone)."""
    facts = process_facts(pid)
    if facts.start_time is None:
        return None
    return ServerRecord(pid, facts.start_time, port, facts.cmdline, str(log_path))


def save_record(record: ServerRecord, folder: Path | None = None) -> None:
    """Write the record atomically (a half-written record must never name a wrong pid)."""
    folder = folder or state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "pid": record.pid,
        "start_time": record.start_time,
        "port": record.port,
        "cmdline": list(record.cmdline),
        "log_path": record.log_path,
    }
    write_atomic(folder / RECORD_NAME, json.dumps(data))


def load_record(folder: Path | None = None) -> ServerRecord | None:
    """The record, or None when there is none or it is unreadable (then nothing is ours)."""
    path = (folder or state_dir()) / RECORD_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid, start, port = data["pid"], data["start_time"], data["port"]
        if not (isinstance(pid, int) and isinstance(start, int | float) and isinstance(port, int)):
            return None
        cmdline = tuple(str(part) for part in data.get("cmdline") or ())
        return ServerRecord(pid, float(start), port, cmdline, str(data.get("log_path") or ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_record(folder: Path | None = None) -> None:
    with contextlib.suppress(OSError):
        ((folder or state_dir()) / RECORD_NAME).unlink()
