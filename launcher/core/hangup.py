"""Notices at once that a local server went away, without polling it: a connection held
open to the server ends when its process does.

Why: a server the launcher did not start cannot be waited on like our own child, and
asking `/api/version` every second or two just to notice its end keeps an idle launcher
awake. A TCP connection that sends nothing costs nothing while the server lives (Go's
HTTP server, which Ollama runs on, waits for the request with no deadline), and the
kernel closes it the moment the process ends, killed or not. Only for loopback hosts:
a remote host's connection may end in a proxy or a NAT for other reasons.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

from launcher.ollama.host import is_loopback_url


def watchable(base_url: str) -> bool:
    """Whether a hang-up of this host can be watched (a server on this machine)."""
    return is_loopback_url(base_url)


async def hangup(base_url: str) -> None:
    """Return when a connection to the server at `base_url` ends, or cannot be made."""
    parts = urllib.parse.urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        reader, writer = await asyncio.open_connection(parts.hostname, port)
    except OSError:
        return
    try:
        while await reader.read(4096):
            pass  # nothing is asked, so nothing should come; only the end matters
    except OSError:
        pass
    finally:
        writer.close()


async def wait_next(wake: asyncio.Event, interval: float, watch: str | None) -> bool:
    """Wait until `interval` seconds pass, `wake` is set, or (when `watch` is a base URL)
    that server hangs up. True when it was the hang-up. The connection is held only
    for this wait: nothing is left open afterwards, however the wait ends."""
    waits: list[asyncio.Task[Any]] = [asyncio.ensure_future(wake.wait())]
    if watch is not None:
        waits.append(asyncio.ensure_future(hangup(watch)))
    try:
        done, _ = await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    wake.clear()
    return len(waits) > 1 and waits[1] in done
