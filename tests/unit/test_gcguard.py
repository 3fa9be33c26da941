"""The collector's rule mirrors CPython's thresholds; the object collects on its own thread."""

from __future__ import annotations

import gc
from typing import Any

from launcher.core.gcguard import MainThreadCollector, collect_due


def test_collect_due_follows_the_thresholds() -> None:
    assert collect_due((10, 0, 0), (700, 10, 10)) is None
    assert collect_due((701, 0, 0), (700, 10, 10)) == 0
    assert collect_due((701, 11, 0), (700, 10, 10)) == 1
    assert collect_due((701, 11, 11), (700, 10, 10)) == 2
    assert collect_due((10, 11, 11), (700, 10, 10)) is None  # young first, as CPython
    assert collect_due((5, 0, 0), (0, 10, 10)) is None  # threshold 0: collection off


def test_collector_turns_automatic_collection_off_and_collects_itself(qapp: Any) -> None:
    collector = MainThreadCollector()
    collector.start()
    try:
        assert not gc.isenabled()
        garbage = [[] for _ in range(gc.get_threshold()[0] + 10)]
        for item in garbage:
            item.append(item)  # cycles: only the cyclic collector frees them
        del garbage, item
        collector.check()
        assert collector.collections == 1
        assert gc.get_count()[0] < gc.get_threshold()[0]
    finally:
        collector.stop(enable=False)


def test_freeze_keeps_what_lived_and_still_collects_what_comes_after(qapp: Any) -> None:
    """Start-up's objects leave the collector's walks; garbage made before the freeze is
    collected first, and cycles made after it are still collected."""
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self

    before = Node()
    gone_before = weakref.ref(before)
    del before  # a cycle: only the collector frees it
    collector = MainThreadCollector()
    collector.start()
    try:
        collector.freeze()
        assert gone_before() is None  # collected, not frozen
        assert gc.get_freeze_count() > 0
        after = Node()
        gone_after = weakref.ref(after)
        del after
        gc.collect()
        assert gone_after() is None
    finally:
        gc.unfreeze()
        collector.stop(enable=False)
