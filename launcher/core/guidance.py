"""What a server status means for a person, in one place: the first-run help and its fixes.

The window's notice, the Chat page and the Models page all ask
`status_explanation()` instead of writing their own advice, so "Ollama isn't
installed — here is how to get it" reads the same everywhere.
"""

from __future__ import annotations

import sys

from launcher.core.explain import Explanation, host_label
from launcher.core.status import ServerState, ServerStatus

DOWNLOAD_URL = "https://ollama.com/download"

#: One install command per OS (sys.platform prefix -> command), as ollama.com gives them.
INSTALL_COMMANDS = {
    "linux": "curl -fsSL https://ollama.com/install.sh | sh",
    "darwin": "brew install ollama",
    "win32": "winget install Ollama.Ollama",
}


def install_command(platform: str = sys.platform) -> str:
    """The command that installs Ollama here ("" on a system we have none for)."""
    for prefix, command in INSTALL_COMMANDS.items():
        if platform.startswith(prefix):
            return command
    return ""


def status_explanation(
    status: ServerStatus,
    host: str = "",
    platform: str = sys.platform,
    *,
    with_command: bool = True,
) -> Explanation | None:
    """The notice to show for `status`, or None when there is nothing to say.

    `with_command=False` leaves the install command out of the headline, for a
    widget that shows it on a line of its own with a Copy button.

    Only states a person must act on get one; Starting, Stopping, Checking and
    Running speak for themselves in the status indicator.
    """
    where = host_label(host) if host else "this host"
    state = status.state
    if state is ServerState.NOT_INSTALLED:
        command = install_command(platform) if with_command else ""
        how = f" or run: {command}" if command else ""
        return Explanation(
            f"Ollama isn't installed on this computer. Get it from {DOWNLOAD_URL}{how} — "
            "then come back: the launcher starts it for you. (Already installed elsewhere? "
            "Set its path in Settings.)",
            status.tooltip,
            "Open download page",
        )
    if state is ServerState.STOPPED:
        return Explanation(f"Ollama isn't running on {where} — Start it.", "", "Start server")
    if state is ServerState.CRASHED:
        return Explanation(
            f"Ollama stopped unexpectedly ({status.detail}). Start it again; the Server log "
            "shows what happened.",
            status.tooltip,
            "Start server",
        )
    if state is ServerState.PORT_IN_USE:
        return Explanation(
            f"Another program answers at {where}, and it is not Ollama. Stop that program, "
            "or choose another listen address in Settings.",
            status.tooltip,
            "Settings",
        )
    if state is ServerState.UNREACHABLE:
        return Explanation(
            f"Can't reach Ollama at {where} — check that the machine is on, that Ollama runs "
            "there and listens on the network, and that no firewall is in the way.",
            status.tooltip,
            "Retry",
        )
    return None
