"""Which events deserve a desktop notification, and what it says: pure rules, no Qt.

The tray shows what these rules return; keeping the rules apart means they
are tested with plain values, and the wording lives in one place.
"""

from __future__ import annotations

import signal as signals
from collections.abc import Mapping
from dataclasses import dataclass

# A reply shorter than this is not worth interrupting anyone for.
LONG_REPLY_SECONDS = 10.0

KINDS = ("downloads", "server", "replies")  # the keys of Settings.notifications


@dataclass(frozen=True)
class Notice:
    """One notification.

    Attributes:
        kind: which setting turns it off ("downloads", "server" or "replies").
        title: the headline.
        body: one or two sentences: what happened, what to do.
        warning: shown with a warning icon (something failed).
    """

    kind: str
    title: str
    body: str
    warning: bool = False


def allowed(notice: Notice, preferences: Mapping[str, bool]) -> bool:
    """Whether the user wants this kind of notification (on unless turned off)."""
    return preferences.get(notice.kind, True) is not False


def download_finished(model: str, state: str, error: str = "") -> Notice | None:
    """A pull ended: `state` is the JobState's name (DONE, FAILED, CANCELLED)."""
    if state == "DONE":
        return Notice("downloads", "Download finished", f"{model} is ready to use.")
    if state == "FAILED":
        body = f"{model} could not be downloaded: {error}" if error else f"{model} failed."
        return Notice(
            "downloads", "Download failed", body + " Try again from the Models tab.", True
        )
    return None  # cancelled by the user: they know


def _how_it_ended(code: int | None, signal: int | None) -> str:
    if signal:
        try:
            name = signals.Signals(signal).name
        except ValueError:
            name = f"signal {signal}"
        return f"it was ended by {name}"
    if code is None:
        return "it ended"
    return f"it exited with code {code}"


def server_crashed(code: int | None, signal: int | None = None) -> Notice:
    """The server we started ended without being asked to."""
    return Notice(
        "server",
        "Ollama server stopped unexpectedly",
        f"The server the launcher started is no longer running ({_how_it_ended(code, signal)}). "
        "The Server log tab shows its last lines.",
        True,
    )


def server_restarting(attempt: int, code: int | None, signal: int | None = None) -> Notice:
    """The server we started crashed and is being started again."""
    return Notice(
        "server",
        "Restarting the Ollama server",
        f"The server stopped unexpectedly ({_how_it_ended(code, signal)}); "
        f"starting it again (attempt {attempt}).",
        True,
    )


def reply_finished(
    model: str,
    state: str,
    seconds: float,
    window_active: bool,
    long_reply_seconds: float = LONG_REPLY_SECONDS,
) -> Notice | None:
    """A reply ended: worth a notice only if it was long and nobody was watching.

    A reply the user stopped needs no notice; one that failed says so.
    """
    if window_active or seconds < long_reply_seconds or state == "stopped":
        return None
    if state == "error":
        return Notice(
            "replies",
            "The reply failed",
            f"{model or 'The model'} could not finish its reply.",
            True,
        )
    if state != "complete":
        return None
    return Notice("replies", "Reply ready", f"{model or 'The model'} finished its reply.")
