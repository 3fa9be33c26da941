"""A local server the launcher did not start: its end shows at once, not at the next poll
(every 2 s), because a connection held open to it (`core/hangup.py`) ends when its
process does."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

from launcher.ui.main_window import MainWindow
from tests.conftest import FAKE_BIN_DIR
from tests.ui.helpers import status_of
from tests.waiting import wait_until


def serve_outside_the_launcher() -> subprocess.Popen[bytes]:
    """`ollama serve` started the way a user would in a terminal (the fake one)."""
    return subprocess.Popen(
        [str(FAKE_BIN_DIR / "ollama"), "serve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def test_a_killed_external_server_shows_at_once_not_at_the_next_poll(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama()
    server = serve_outside_the_launcher()
    try:
        window = make_window()
        monitor = window.launcher.monitor
        await wait_until(lambda: status_of(window).startswith("Running"), 10)
        assert monitor.status.external
        # Right after a poll: the next one is 2 s away, later than the deadline below:
        # only the hang-up can wake the monitor in time.
        polls = monitor.polls
        monitor.wake()
        await wait_until(lambda: monitor.polls > polls, 5)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)
        await wait_until(lambda: not status_of(window).startswith("Running"), 1.5)
        assert monitor.polls <= polls + 3  # one probe woken by the hang-up, not a poll loop
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)


async def test_the_held_connection_does_not_disturb_a_running_external_server(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    """While it lives, the held connection neither disturbs it nor wakes the monitor."""
    fake_ollama()
    server = serve_outside_the_launcher()
    try:
        window = make_window()
        monitor = window.launcher.monitor
        await wait_until(lambda: status_of(window).startswith("Running"), 10)
        polls = monitor.polls
        monitor.wake()
        await wait_until(lambda: monitor.polls == polls + 1, 5)
        # The chat still works through the normal client meanwhile.
        launcher = window.launcher
        models = await launcher.client_for(launcher.profile).list_models()
        assert models and status_of(window).startswith("Running")
        assert monitor.polls == polls + 1
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)
