"""Notifications through the desktop's own notification service, for desktops without a tray.

GNOME without an extension, for instance, has no system tray, so a tray
message would go nowhere; its notification service (org.freedesktop.Notifications
on the session bus) still shows them. The message is handed to `notify-send`
(or GLib's `gdbus`) as a detached process: nothing waits on the Qt thread, and
nothing is left to clean up.
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Callable

from PySide6.QtCore import QProcess

log = logging.getLogger(__name__)

APP_NAME = "Ollama Launcher"
ICON = "ollama-launcher"
EXPIRE_MS = 8000


def command(
    title: str, body: str, warning: bool, which: Callable[[str], str | None] = shutil.which
) -> list[str] | None:
    """The command that shows this notification, or None when this system has neither tool."""
    notify_send = which("notify-send")
    if notify_send:
        return [
            notify_send,
            f"--app-name={APP_NAME}",
            f"--icon={ICON}",
            f"--expire-time={EXPIRE_MS}",
            f"--urgency={'critical' if warning else 'normal'}",
            "--",
            title,
            body,
        ]
    gdbus = which("gdbus")
    if gdbus:
        return [
            gdbus, "call", "--session",
            "--dest", "org.freedesktop.Notifications",
            "--object-path", "/org/freedesktop/Notifications",
            "--method", "org.freedesktop.Notifications.Notify",
            APP_NAME, "0", ICON, _gvariant(title), _gvariant(body), "[]", "{}", str(EXPIRE_MS),
        ]  # fmt: skip
    return None


def _gvariant(text: str) -> str:
    """A GVariant string literal (gdbus parses its arguments as GVariant text)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def send(title: str, body: str, warning: bool = False) -> bool:
    """Hand the notification to the desktop (Linux and the BSDs); False when it cannot be."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return False
    args = command(title, body, warning)
    if args is None:
        return False
    started, _pid = QProcess.startDetached(args[0], args[1:])
    if not started:
        log.info("desktop notification could not be sent with %s", args[0])
    return bool(started)
