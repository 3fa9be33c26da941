"""Python's cyclic garbage collector, run on the Qt thread only.

A collection runs in whichever thread happens to allocate when a threshold is
crossed: the store's worker, a keyring thread, an executor. If it frees a
QObject there (a closed window, an object owning a timer), Qt destroys it from
the wrong thread and later crashes on its dead timers (seen as a segfault in
`QTimerInfoList::activateTimers`). So while the app runs, automatic collection
is off and this object collects on the Qt thread instead, by the same
thresholds, from a timer: the usual remedy in long-lived PyQt/PySide apps.
What start-up made is frozen once it is done (`freeze`), so the full
collections that still come walk only what was made since.

The timer slows down while nothing is allocated (an idle launcher should not
wake up every second to find nothing to do) and is back to every second as
soon as a check finds that allocations go on.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: How often the thresholds are checked while objects are being allocated; a check
#: that collects nothing costs ~1 µs, the wake-up around it much more.
CHECK_INTERVAL_MS = 1000
#: The longest wait between checks while (almost) nothing is allocated.
IDLE_CHECK_INTERVAL_MS = 4_000
#: A check that finds fewer new objects than this counts as idle (the interval doubles).
IDLE_ALLOCATIONS = 100


def next_interval(current_ms: int, allocated: int, collected: bool) -> int:
    """The wait before the next check: 1 s while objects are being allocated or a
    collection was due, doubling up to IDLE_CHECK_INTERVAL_MS while nearly idle."""
    if collected or allocated >= IDLE_ALLOCATIONS:
        return CHECK_INTERVAL_MS
    return min(current_ms * 2, IDLE_CHECK_INTERVAL_MS)


def collect_due(counts: tuple[int, int, int], thresholds: tuple[int, int, int]) -> int | None:
    """The generation to collect for gc's `counts` against its `thresholds`, or None.

    Mirrors CPython's own rule: a generation is collected when its count passed its
    threshold, together with the younger ones.
    """
    generation = None
    for gen in range(3):
        if thresholds[gen] and counts[gen] > thresholds[gen]:
            generation = gen
        else:
            break
    return generation


class MainThreadCollector(QObject):
    """Turns automatic collection off and collects from a timer on this object's thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._last_count = 0
        self.collections = 0

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def freeze(self) -> None:
        """Once start-up is done: collect, then move everything alive (modules, classes,
        widgets, their wrappers) out of the collector's reach (`gc.freeze`). A full
        collection walked all of it every time, 37 ms in a profile of a long reply: a
        stall inside whatever was running. Now it walks only what was made since."""
        gc.collect()
        gc.freeze()

    def stop(self, *, enable: bool = True) -> None:
        """A last collection here, then (unless told not to) automatic collection again."""
        self._timer.stop()
        gc.collect()
        if enable:
            gc.enable()

    def check(self) -> bool:
        """Collect what is due now; True when something was collected."""
        counts = gc.get_count()
        generation = collect_due((counts[0], counts[1], counts[2]), self._thresholds)
        if generation is not None:
            gc.collect(generation)
            self.collections += 1
        self._last_count = gc.get_count()[0]
        return generation is not None

    def _tick(self) -> None:
        allocated = gc.get_count()[0] - self._last_count
        collected = self.check()
        self._timer.setInterval(next_interval(self._timer.interval(), allocated, collected))
        self._timer.start()
