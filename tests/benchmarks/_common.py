"""Small helpers shared by the benchmark modules (not a benchmark itself: no ``bench_`` prefix).

``--quick`` reaches a module as the environment variable ``BENCH_QUICK=1`` because each
module runs in a fresh interpreter and ``run()`` takes no arguments.
"""

from __future__ import annotations

import math
import os
import statistics

QUICK_ENV = "BENCH_QUICK"


def quick() -> bool:
    """True when the suite runs with ``--quick`` (smaller sizes, fewer rounds)."""
    return os.environ.get(QUICK_ENV) == "1"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank: a value that was actually observed."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
