"""Give freed heap back to the system after a conversation is left (glibc only).

Not a leak fix, allocator housekeeping: a 10 MB reply's text, its saves and its
transcript take some 60 MB of heap while it is shown. Once its conversation is left
they are freed, but glibc keeps the pages (free memory below the top of its main heap
is not given back by shrinking it), so the resident size stayed about 60 MB higher for
good (``python -m tests.benchmarks.memory_driver 3 --huge``: 64.7 MB free inside
malloc's arenas after leaving; ``malloc_trim(0)`` returned 60 MB in 4 ms). So a few
seconds after the chat moved to another conversation, off the streaming path, and only
when malloc holds more than ``TRIM_THRESHOLD_BYTES`` free, the heap is trimmed once.
Elsewhere (macOS, Windows, musl) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

#: Below this much free heap a trim is not worth its few milliseconds.
TRIM_THRESHOLD_BYTES = 16 * 2**20
#: How long after the last conversation change the check runs (a burst of changes,
#: such as opening several conversations in a row, costs one check).
TRIM_DELAY_MS = 2_000


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (2.33 and later): sizes summed over every arena."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _load_glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl names it differently)
        return None
    if not hasattr(libc, "mallinfo2") or not hasattr(libc, "malloc_trim"):
        return None
    libc.mallinfo2.restype = MallInfo2
    libc.mallinfo2.argtypes = []
    libc.malloc_trim.restype = ctypes.c_int
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


_GLIBC = _load_glibc()


def mallinfo() -> MallInfo2 | None:
    """glibc's own account of the heap (None where it cannot be asked)."""
    return None if _GLIBC is None else _GLIBC.mallinfo2()


def free_heap_bytes() -> int | None:
    """Bytes malloc holds free inside its arenas (None where it cannot be asked)."""
    info = mallinfo()
    return None if info is None else int(info.fordblks)


def trim_heap(threshold: int = TRIM_THRESHOLD_BYTES) -> bool:
    """Give malloc's free pages back to the system when it holds more than `threshold`
    bytes free; whether it trimmed."""
    free = free_heap_bytes()
    if _GLIBC is None or free is None or free <= threshold:
        return False
    _GLIBC.malloc_trim(0)
    log.debug("heap trimmed: %.1f MB were free in malloc's arenas", free / 2**20)
    return True


class HeapTrimmer(QObject):
    """Checks the heap once, `TRIM_DELAY_MS` after the last `schedule()`.

    Attributes:
        checks: how many checks ran; trims: how many of them trimmed.
    """

    def __init__(
        self,
        parent: QObject | None = None,
        delay_ms: int = TRIM_DELAY_MS,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        #: While it says True (a reply streams) the check waits: a trim walks the whole
        #: heap, and in the middle of a burst it was the longest stall (70 ms).
        self._busy = busy
        self.checks = 0
        self.trims = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._check)

    def schedule(self, *_: object) -> None:
        """Check a little later (again from now when already scheduled)."""
        self._timer.start()

    def _check(self) -> None:
        if self._busy():
            self._timer.start()  # again once the reply is over
            return
        self.checks += 1
        if trim_heap():
            self.trims += 1
