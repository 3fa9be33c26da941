"""Who holds a TCP port: the process (pid, program, user) and whether it answers as Ollama.

When `ollama serve` cannot bind, or something that is not Ollama answers on its
port, "port in use" alone leaves the user guessing. This names the program and
says what to do. It never stops or signals the holder: we do not end what we
did not start.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass

import psutil

from launcher.ollama import OllamaClient, OllamaError


@dataclass(frozen=True)
class PortHolder:
    """The process listening on a port.

    Attributes:
        pid: its process id, or None when the system would not say (another
            user's process, without the rights to see it).
        name / exe / user: what `ps` would show ("" when unknown).
        cmdline: its command line.
    """

    port: int
    pid: int | None
    name: str = ""
    exe: str = ""
    user: str = ""
    cmdline: tuple[str, ...] = ()

    @property
    def program(self) -> str:
        return self.exe or self.name or (self.cmdline[0] if self.cmdline else "")


@dataclass(frozen=True)
class PortReport:
    """A holder (if found) and what answered on the port."""

    port: int
    holder: PortHolder | None
    ollama_version: str = ""  # non-empty: it answered GET /api/version as Ollama

    @property
    def is_ollama(self) -> bool:
        return bool(self.ollama_version)


def _listeners(port: int) -> list[tuple[int | None, str]]:
    """(pid, local ip) of every socket listening on `port` that the system shows us."""
    found: list[tuple[int | None, str]] = []
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                found.append((conn.pid, str(conn.laddr.ip)))
    except (psutil.AccessDenied, PermissionError, OSError):
        # macOS lets only root list every socket: look through the processes we may see.
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                for own in proc.net_connections(kind="tcp"):
                    local = own.laddr
                    if own.status == psutil.CONN_LISTEN and local and local.port == port:
                        found.append((proc.pid, str(local.ip)))
    return found


def find_holder(port: int) -> PortHolder | None:
    """The process listening on `port`, or None when nothing visible listens.

    Blocking (it reads the system's socket table): call it off the Qt thread.
    """
    listeners = _listeners(port)
    if not listeners:
        return None
    pid = next((p for p, _ip in listeners if p is not None), None)
    if pid is None:
        return PortHolder(port, None)
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            name = proc.name()
            exe = ""
            with contextlib.suppress(psutil.AccessDenied, OSError):
                exe = proc.exe()
            user = ""
            with contextlib.suppress(psutil.AccessDenied, KeyError, OSError):
                user = proc.username()
            cmdline: tuple[str, ...] = ()
            with contextlib.suppress(psutil.AccessDenied, OSError):
                cmdline = tuple(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return PortHolder(port, pid)
    return PortHolder(port, pid, name, exe, user, cmdline)


async def answers_as_ollama(url: str, timeout: float = 2.0) -> str:
    """The version if an Ollama answers at `url`, else ""."""
    async with OllamaClient(url, api_key="") as client:
        try:
            return await client.version(retries=0, timeout=timeout)
        except OllamaError:
            return ""


def stop_advice(platform: str = sys.platform) -> str:
    """How a person stops an Ollama the launcher did not start, on this system."""
    if platform == "darwin":
        return "quit the Ollama app from the menu bar (or `brew services stop ollama`)"
    if platform == "win32":
        return "quit Ollama from its icon in the notification area"
    return "run `sudo systemctl stop ollama` (the system service) or quit the Ollama app"


def describe(report: PortReport, platform: str = sys.platform) -> str:
    """What holds the port and what to do, for a person (never a bare errno)."""
    holder = report.holder
    if holder is None:
        who = f"Nothing this launcher can see listens on port {report.port} now"
        if report.is_ollama:
            who = f"Port {report.port} is answered by Ollama {report.ollama_version}"
        return (
            who + "."
            if not report.is_ollama
            else (f"{who}. The launcher can use it as it is; to stop it, {stop_advice(platform)}.")
        )
    if holder.pid is None:
        who = f"Port {report.port} is held by a process of another user (the system hides which)"
    else:
        user = f", user {holder.user}" if holder.user else ""
        program = holder.program or "a program"
        who = f"Port {report.port} is held by {program} (pid {holder.pid}{user})"
    if report.is_ollama:
        return (
            f"{who}. It is Ollama {report.ollama_version}: the launcher can use it as it is "
            f"(external). To stop it, {stop_advice(platform)}. The launcher never stops a "
            "server it did not start."
        )
    return (
        f"{who}. It is not Ollama. Stop that program, or choose another port for the local "
        "server in Settings → Local server."
    )
