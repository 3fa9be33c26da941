"""Benchmark for launcher.core.guard.RunawayGuard (not a pytest test).

Run: ``.venv/bin/python -m tests.benchmarks.bench_guard``. ``run()`` returns
rows of (measure, value):

* cost of feeding a 200,000-char ordinary reply in 4-char deltas (total ms and
  microseconds per ``feed`` call, best of several rounds);
* the same for an adversarial "near-loop" text (runs just below the
  thresholds, so every check has many candidate periods to reject);
* for several loops started after 2,000 chars of ordinary text, how many
  chars of loop were streamed before the guard tripped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from launcher.core.guard import GuardSettings, RunawayGuard

#: Read by ``python -m tests.benchmarks``: ordinary text must never trip the guard.
TARGETS: dict[str, str] = {
    "ordinary: tripped (must be False)": "== False",
    "near-loop: tripped (must be False)": "== False",
}

_WORD_TEXT = (
    "the a an model answer server stream token reply quickly slowly river light harbour "
    "engineer value table column window buffer period guard loop launcher desktop python "
    "thread event signal button status download because however which although returns "
    "configure install update memory context prompt system user assistant example result "
    "first second third final simple complex local remote network address port"
)
_WORDS = _WORD_TEXT.split()


def ordinary_text(n_chars: int, seed: int = 42) -> str:
    """Varied prose-like text with paragraphs, lists and code-ish lines."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    item = 0
    while size < n_chars:
        kind = rng.random()
        if kind < 0.75:
            words = [rng.choice(_WORDS) for _ in range(rng.randint(5, 22))]
            piece = " ".join(words).capitalize() + rng.choice(".!?;") + " "
            if rng.random() < 0.12:
                piece += "\n\n"
        elif kind < 0.9:
            item += 1
            piece = f"{item}. {rng.choice(_WORDS)} {rng.choice(_WORDS)}\n"
        else:
            name = rng.choice(_WORDS)
            piece = f"    {name}_{rng.randint(0, 999)} = compute({name!r}, {rng.randint(0, 99)})\n"
        out.append(piece)
        size += len(piece)
    return "".join(out)[:n_chars]


def near_loop_text(n_chars: int) -> str:
    """Short-period runs just under the thresholds, separated by a breaker."""
    rng = random.Random(9)
    out: list[str] = []
    size = 0
    while size < n_chars:
        unit = rng.choice(["=", "ha ", "| 0 ", "ab", "-"])
        piece = unit * (240 // len(unit)) + f" <{rng.randint(0, 9999)}>\n"
        out.append(piece)
        size += len(piece)
    return "".join(out)[:n_chars]


def _deltas(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _time_feed(text: str, size: int = 4, rounds: int = 5) -> tuple[float, int, bool]:
    deltas = list(_deltas(text, size))
    best = float("inf")
    tripped = False
    for _ in range(rounds):
        guard = RunawayGuard(GuardSettings(max_chars=0))
        feed = guard.feed
        t0 = time.perf_counter()
        for d in deltas:
            feed(d)
        best = min(best, time.perf_counter() - t0)
        tripped = guard.tripped is not None
    return best, len(deltas), tripped


def _baseline(text: str, size: int = 4, rounds: int = 5) -> float:
    """Cost of the loop itself with a no-op consumer, to separate overhead."""
    deltas = list(_deltas(text, size))
    sink: list[str] = []
    best = float("inf")
    for _ in range(rounds):
        sink.clear()
        append = sink.append
        t0 = time.perf_counter()
        for d in deltas:
            append(d)
        best = min(best, time.perf_counter() - t0)
    return best


def _chars_to_trip(prefix: str, unit: str, size: int = 4) -> tuple[int, str]:
    guard = RunawayGuard()
    text = prefix + unit * (20_000 // len(unit) + 2)
    for d in _deltas(text, size):
        trip = guard.feed(d)
        if trip is not None:
            return guard.chars_seen - len(prefix), trip.message
    return -1, "did not trip"


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    text = ordinary_text(200_000)
    secs, calls, tripped = _time_feed(text)
    base = _baseline(text)
    rows.append(("ordinary 200,000 chars, 4-char deltas: feed calls", f"{calls:,}"))
    rows.append(("ordinary: total time", f"{secs * 1e3:.1f} ms"))
    rows.append(("ordinary: per feed call", f"{secs / calls * 1e6:.2f} µs"))
    rows.append(("ordinary: loop overhead without guard", f"{base / calls * 1e6:.2f} µs/call"))
    rows.append(("ordinary: tripped (must be False)", str(tripped)))

    secs1, calls1, _ = _time_feed(text, size=1, rounds=3)
    rows.append(("ordinary, 1-char deltas: per feed call", f"{secs1 / calls1 * 1e6:.2f} µs"))

    adv = near_loop_text(200_000)
    secs_a, calls_a, tripped_a = _time_feed(adv)
    rows.append(("near-loop 200,000 chars: total time", f"{secs_a * 1e3:.1f} ms"))
    rows.append(("near-loop: per feed call", f"{secs_a / calls_a * 1e6:.2f} µs"))
    rows.append(("near-loop: tripped (must be False)", str(tripped_a)))

    prefix = ordinary_text(2_000, seed=1)
    paragraph = ordinary_text(450, seed=2)
    long_paragraph = ordinary_text(1_800, seed=3)
    loops = {
        '"ha "': "ha ",
        '"I am sorry. "': "I am sorry. ",
        "code line": 'print("x")\n',
        "newline": "\n",
        "450-char paragraph": paragraph,
        "1,800-char paragraph": long_paragraph,
    }
    for name, unit in loops.items():
        chars, message = _chars_to_trip(prefix, unit)
        copies = chars / len(unit)
        rows.append(
            (
                f"loop {name} after 2,000 chars: chars of loop before trip",
                f"{chars:,} ({copies:.1f} copies) -> {message}",
            )
        )
    return rows


if __name__ == "__main__":
    for measure, value in run():
        print(f"{measure:<62} {value}")
