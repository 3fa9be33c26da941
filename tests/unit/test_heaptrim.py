"""The heap trim reads malloc's own free count and trims once per burst of requests."""

from __future__ import annotations

import platform
import sys
from typing import Any

import pytest

from launcher.core.heaptrim import HeapTrimmer, free_heap_bytes, trim_heap

GLIBC = free_heap_bytes() is not None
glibc_only = pytest.mark.skipif(not GLIBC, reason="glibc's mallinfo2/malloc_trim only")


def test_malloc_is_asked_where_it_can_be() -> None:
    """glibc 2.33 or later on Linux (mallinfo2): a byte count; elsewhere: nothing to do."""
    name, version = platform.libc_ver()
    modern = name == "glibc" and tuple(int(p) for p in version.split(".")[:2]) >= (2, 33)
    if sys.platform.startswith("linux") and modern:
        free = free_heap_bytes()
        assert isinstance(free, int) and free >= 0
    else:
        assert free_heap_bytes() is None and trim_heap(-1) is False


@glibc_only
def test_freed_blocks_show_as_free_heap_and_a_trim_follows_the_threshold() -> None:
    # 40 MB in 1,000-byte blocks: over Python's small-object limit, so each one is malloc's
    # (the earlier holes of a long test run fill first, so count from when they are live).
    blocks = [bytes(1_000) for _ in range(40_000)]
    pin = bytes(1_000)  # above them, so that their space cannot fold back into the top
    live = free_heap_bytes()
    del blocks
    freed = free_heap_bytes()
    assert live is not None and freed is not None
    assert freed - live > 30 * 2**20, (live, freed)
    assert trim_heap(threshold=freed + 2**30) is False  # less free than asked: nothing
    assert trim_heap(threshold=0) is True
    del pin


def test_a_burst_of_requests_costs_one_check(qtbot: Any) -> None:
    trimmer = HeapTrimmer(delay_ms=50)
    for _ in range(3):
        trimmer.schedule()
    qtbot.waitUntil(lambda: trimmer.checks >= 1, timeout=2000)
    assert trimmer.checks == 1
    assert trimmer.trims in (0, 1)
    trimmer.schedule(object())  # the signal's argument (the conversation) is ignored
    qtbot.waitUntil(lambda: trimmer.checks == 2, timeout=2000)


def test_no_check_while_busy_then_one_after(qtbot: Any) -> None:
    """While a reply streams the check waits (a trim walks the whole heap); it runs once
    the reply is over."""
    streaming = [True]
    trimmer = HeapTrimmer(delay_ms=20, busy=lambda: streaming[0])
    trimmer.schedule()
    qtbot.wait(150)  # several delays: none may check
    assert trimmer.checks == 0
    streaming[0] = False
    qtbot.waitUntil(lambda: trimmer.checks == 1, timeout=2000)
