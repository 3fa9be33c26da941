"""The rules that keep an idle launcher quiet: the status poll, the log tail, the collector."""

from __future__ import annotations

import asyncio
from pathlib import Path

from launcher.core import gcguard
from launcher.core.logbuffer import LogBuffer
from launcher.core.logtail import LogTail, next_poll
from launcher.core.status import (
    FAST_INTERVAL,
    MAX_BACKOFF,
    STEADY_INTERVAL,
    WATCHED_INTERVAL,
    ServerState,
    ServerStatus,
    poll_interval,
)
from tests.waiting import wait_until


def test_our_running_server_is_polled_rarely_others_every_two_seconds() -> None:
    running = ServerState.RUNNING
    # Our own server: its exit wakes the monitor, so the poll only looks for a hang.
    assert poll_interval(running, backoff=2.0, exit_watched=True)[0] == WATCHED_INTERVAL
    assert WATCHED_INTERVAL > STEADY_INTERVAL
    # Any other server (local or remote) is polled every 2 s (a local one is also
    # watched for its hang-up, which only makes its end show sooner).
    assert poll_interval(running, backoff=2.0)[0] == STEADY_INTERVAL
    assert poll_interval(running, backoff=2.0, remote=True)[0] == STEADY_INTERVAL
    assert STEADY_INTERVAL <= 2.0
    # Starting, stopping, checking, or a Start clicked: fast, even for our child.
    for state in (ServerState.STARTING, ServerState.STOPPING, ServerState.CHECKING):
        assert poll_interval(state, backoff=2.0, exit_watched=True)[0] == FAST_INTERVAL
    assert poll_interval(running, backoff=2.0, start_pending=True)[0] == FAST_INTERVAL
    assert poll_interval(ServerState.STOPPED, backoff=2.0)[0] == STEADY_INTERVAL


def test_an_unreachable_remote_host_backs_off_and_a_steady_one_resets() -> None:
    backoff = STEADY_INTERVAL
    waits = []
    for _ in range(6):
        wait, backoff = poll_interval(ServerState.UNREACHABLE, backoff=backoff, remote=True)
        waits.append(wait)
    assert waits == [4.0, 8.0, 16.0, MAX_BACKOFF, MAX_BACKOFF, MAX_BACKOFF]
    assert poll_interval(ServerState.RUNNING, backoff=backoff, remote=True) == (2.0, 2.0)
    # A local server that does not answer is not backed off: Start must show quickly.
    assert poll_interval(ServerState.UNREACHABLE, backoff=8.0) == (2.0, 2.0)


def test_a_round_trip_alone_does_not_make_a_new_status() -> None:
    a = ServerStatus(ServerState.RUNNING, "Ollama 0.12.3, 3 ms", rtt_ms=2.61)
    b = ServerStatus(ServerState.RUNNING, "Ollama 0.12.3, 3 ms", rtt_ms=3.38)
    c = ServerStatus(ServerState.RUNNING, "Ollama 0.12.3, 4 ms", rtt_ms=3.6)
    assert a == b  # the same words on screen: nothing to repaint
    assert a != c


def test_the_log_tail_slows_down_when_quiet_and_speeds_up_when_lines_flow() -> None:
    fast, watched, unwatched = 0.05, 0.5, 2.0
    interval = fast
    for _ in range(10):  # quiet, nobody looking
        interval = next_poll(interval, grew=False, watched=False)
    assert interval == unwatched
    assert next_poll(interval, grew=False, watched=True) == watched  # a view opened
    # A lone line after a quiet spell: a quarter of the wait, not a burst of fast reads.
    assert next_poll(unwatched, grew=True, watched=False) == unwatched / 4
    interval = unwatched
    for _ in range(4):  # a flood
        interval = next_poll(interval, grew=True, watched=False)
    assert interval == fast


def test_an_unwatched_tail_still_delivers_every_line(tmp_path: Path) -> None:
    """Slower polling while nobody looks never loses or delays lines for long."""
    path, log = tmp_path / "server.log", LogBuffer()
    path.write_bytes(b"")
    tail = LogTail(path, log)
    assert log.viewers == 0

    async def follow_until_seen() -> None:
        task = asyncio.ensure_future(tail.follow())
        try:
            for n in range(3):
                with path.open("ab") as out:
                    out.write(f"line {n}\n".encode())
                await wait_until(lambda n=n: len(log.lines()) > n, 10)
        finally:
            task.cancel()

    asyncio.run(follow_until_seen())
    assert log.lines() == ["line 0", "line 1", "line 2"]


def test_the_collector_checks_every_second_while_objects_are_made_and_rarely_when_idle() -> None:
    second, idle = gcguard.CHECK_INTERVAL_MS, gcguard.IDLE_CHECK_INTERVAL_MS
    interval = second
    for _ in range(10):
        interval = gcguard.next_interval(interval, allocated=3, collected=False)
    assert interval == idle
    assert gcguard.next_interval(idle, allocated=5000, collected=False) == second
    assert gcguard.next_interval(idle, allocated=0, collected=True) == second
