"""The server status: its states, and the pure rules that decide the state and the poll.

Kept apart from the polling loop so the rules are tested with plain values:
given what the last probe saw and what our child is doing, what do we show,
and how soon do we ask again?
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from launcher.core.explain import explain_server_exit
from launcher.core.server import ServerExit

#: Seconds between polls while steady: a server that dies shows within about this.
STEADY_INTERVAL = 2.0
#: While our own server answers: its exit is seen at once by waiting on the process, so
#: the poll only has to notice a hung server, and an idle launcher rarely wakes up.
WATCHED_INTERVAL = 10.0
#: While a server starts or stops: Running shows within a fraction of a second.
FAST_INTERVAL = 0.15
#: The longest wait between polls of an unreachable remote host.
MAX_BACKOFF = 30.0


class ServerState(enum.Enum):
    """What the status indicator says; the value is its exact leading word."""

    CHECKING = "Checking"
    RUNNING = "Running"
    STARTING = "Starting"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    NOT_INSTALLED = "Not installed"
    PORT_IN_USE = "Port in use"
    CRASHED = "Crashed"
    RESTARTING = "Restarting"
    UNREACHABLE = "Unreachable"


class ProbeKind(enum.Enum):
    """What one `GET /api/version` found."""

    OLLAMA = "ollama"  # an Ollama answered
    FOREIGN = "foreign"  # something answered, but not Ollama
    REFUSED = "refused"  # nothing listens (connection refused / closed)
    TIMEOUT = "timeout"  # no answer in time (host down, firewall, or hung)


@dataclass(frozen=True)
class Probe:
    kind: ProbeKind
    version: str = ""
    rtt_ms: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class ServerStatus:
    """The state plus the details the indicator shows.

    Attributes:
        state: the leading word.
        detail: what follows it, e.g. `Ollama 0.12.3, 3 ms`.
        tooltip: a longer explanation (log tail after a crash, where to get Ollama...).
        external: the answering server was not started by the launcher.
        warning: a standing risk the user chose and should not forget (certificate
            checks off for this host), "" when none; also said in the detail.
    """

    state: ServerState
    detail: str = ""
    tooltip: str = ""
    version: str = ""
    # Not compared: the detail already says it to the millisecond, and a poll whose
    # round trip differs by microseconds must not repaint everything that watches.
    rtt_ms: float | None = field(default=None, compare=False)
    external: bool = False
    warning: str = ""

    @property
    def description(self) -> str:
        if self.state is ServerState.RESTARTING:  # reads as one phrase: "Restarting after..."
            return f"{self.state.value} {self.detail}".strip()
        return f"{self.state.value} - {self.detail}" if self.detail else self.state.value

    @property
    def answering(self) -> bool:
        """Some server (ours or not, Ollama or not) holds the address."""
        return self.state in (ServerState.RUNNING, ServerState.PORT_IN_USE)


@dataclass(frozen=True)
class Situation:
    """Everything the rule needs, besides the probe.

    Attributes:
        base_url: the host being watched.
        managed: the launcher may run a server for this host (local).
        binary: path of the ollama binary found, or "" when none.
        child_running / child_stopping: our child's life.
        start_pending: Start was clicked and the child has not answered yet.
        last_exit: how our last child ended, if it ended on its own and nobody
            started anything since (a crash stays shown until then).
        restart_attempt: a restart after a crash is scheduled (1, 2, 3), 0 when not.
        adopted: our running server was started by a previous launcher that died.
        configured_binary: the path to `ollama` chosen in Settings ("" for the search).
        insecure_tls: an `https` host whose certificate checks the user turned off.
    """

    base_url: str
    managed: bool
    binary: str = ""
    child_running: bool = False
    child_stopping: bool = False
    start_pending: bool = False
    last_exit: ServerExit | None = None
    restart_attempt: int = 0
    adopted: bool = False
    configured_binary: str = ""
    insecure_tls: bool = False


#: Said after the status words while a host's certificate checks are off.
INSECURE_TLS_NOTE = "certificate checks off"


def insecure_tls_warning(base_url: str) -> str:
    """The standing warning for an https host whose certificate is not checked."""
    return (
        f"Certificate checks are off for {base_url}: the launcher does not verify that it "
        "is talking to that server, so anyone on the way could read or change the "
        "conversation and the API key.\nTurn the checks back on in Settings → Remote "
        "hosts (or give the host's CA file there) when you can."
    )


def decide(probe: Probe | None, s: Situation) -> ServerStatus:
    """The status to show for a probe result in a situation (with the warning of an
    https host whose certificate checks are off, whatever the state)."""
    status = _decide(probe, s)
    if not s.insecure_tls:
        return status
    warning = insecure_tls_warning(s.base_url)
    detail = f"{status.detail} · {INSECURE_TLS_NOTE}" if status.detail else INSECURE_TLS_NOTE
    tooltip = f"{warning}\n\n{status.tooltip}" if status.tooltip else warning
    return replace(status, detail=detail, tooltip=tooltip, warning=warning)


def _decide(probe: Probe | None, s: Situation) -> ServerStatus:
    if s.child_stopping:
        return ServerStatus(ServerState.STOPPING, "waiting for the server to exit")
    if probe is None:
        return ServerStatus(ServerState.CHECKING, s.base_url)
    if probe.kind is ProbeKind.OLLAMA:
        ours = s.child_running
        detail = f"Ollama {probe.version}, {probe.rtt_ms:.0f} ms"
        who = "started by the launcher" if ours else "external: not started by the launcher"
        if ours and s.adopted:
            detail += " (left running when the launcher last ended)"
            who = (
                "started by the launcher and left running when it last ended unexpectedly;"
                " Stop server stops it"
            )
        return ServerStatus(
            ServerState.RUNNING,
            detail + ("" if ours or not s.managed else " (external)"),
            tooltip=f"Ollama {probe.version} at {s.base_url}, {who}.",
            version=probe.version,
            rtt_ms=probe.rtt_ms,
            external=not ours,
        )
    if probe.kind is ProbeKind.FOREIGN:
        return ServerStatus(
            ServerState.PORT_IN_USE,
            f"{s.base_url} answers, but it is not Ollama",
            tooltip=f"Another program holds this address: {probe.error}\n"
            "Stop it, or choose another port in Settings.",
        )
    if s.restart_attempt and not s.child_running and s.last_exit is not None:
        tail = "\n".join(s.last_exit.log_tail[-8:])
        return ServerStatus(
            ServerState.RESTARTING,
            f"after a crash ({s.last_exit.how()})\u2026",
            tooltip=f"{s.last_exit.summary()}\nRestart {s.restart_attempt} of 3."
            + (f"\nLast log lines:\n{tail}" if tail else ""),
        )
    if s.child_running or s.start_pending:
        return ServerStatus(ServerState.STARTING, f"waiting for {s.base_url} to answer")
    if s.last_exit is not None and s.last_exit.crashed:
        tail = "\n".join(s.last_exit.log_tail[-8:])
        advice = explain_server_exit(
            s.last_exit.reason(), during_startup=s.last_exit.during_startup, host=s.base_url
        )
        return ServerStatus(
            ServerState.CRASHED,
            s.last_exit.summary(),
            tooltip=advice + (f"\n\nLast log lines:\n{tail}" if tail else ""),
        )
    if not s.managed:
        return ServerStatus(
            ServerState.UNREACHABLE,
            f"{s.base_url} does not answer",
            tooltip=probe.error,
        )
    if probe.kind is ProbeKind.TIMEOUT:
        return ServerStatus(
            ServerState.UNREACHABLE,
            f"{s.base_url} accepts connections but does not answer",
            tooltip=probe.error,
        )
    if s.binary:
        return ServerStatus(
            ServerState.STOPPED, "no server is running", tooltip=f"Ollama binary: {s.binary}"
        )
    if s.configured_binary:
        return ServerStatus(
            ServerState.NOT_INSTALLED,
            f"{s.configured_binary} cannot be run",
            tooltip="The ollama program chosen in Settings does not exist or is not "
            "executable.\nChoose another in Settings, or clear the path to use the one on "
            "PATH.",
        )
    return ServerStatus(
        ServerState.NOT_INSTALLED,
        "get Ollama from https://ollama.com/download",
        tooltip="No `ollama` binary was found on PATH or in the usual install places.\n"
        "Install it from https://ollama.com/download, or set its path in Settings.",
    )


def poll_interval(
    state: ServerState,
    *,
    backoff: float,
    start_pending: bool = False,
    remote: bool = False,
    exit_watched: bool = False,
) -> tuple[float, float]:
    """Seconds until the next poll, and the remote backoff to remember.

    `exit_watched`: the server's exit wakes the monitor by itself (our own server,
    whose process is waited on).
    """
    if start_pending or state in (ServerState.STARTING, ServerState.STOPPING, ServerState.CHECKING):
        return FAST_INTERVAL, backoff
    if state is ServerState.UNREACHABLE and remote:
        backoff = min(backoff * 2, MAX_BACKOFF)
        return backoff, backoff
    if state is ServerState.RUNNING and exit_watched:
        return WATCHED_INTERVAL, STEADY_INTERVAL
    return STEADY_INTERVAL, STEADY_INTERVAL
