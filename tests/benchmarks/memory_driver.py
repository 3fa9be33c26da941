"""Where the memory of many conversations goes: a driver for ``bench_reply.memory()``'s loop
alone, with the numbers that tell live growth from allocator slack (not a benchmark itself).

Run: ``python -m tests.benchmarks.memory_driver [N] [--open] [--trace] [--qobjects]
[--huge] [--holders=TYPE]``

Streams N (default 30) conversations of 10,000 chunks in the real window, as
``bench_reply.memory()`` does, and prints at each step: resident size, glibc's
``mallinfo2`` (bytes in use by malloc, bytes free inside its arenas, mmapped), Python's
small-object arenas (mmapped, so malloc does not count them), which mappings grew, live
Python objects by type that grew, live QObjects under the window by class that grew
(``--qobjects``), and at the end the resident size after ``malloc_trim(0)`` and
(``--trace``) the top ``tracemalloc`` growth by line. ``--open`` also opens every
conversation again from the history, as the benchmark does; ``--huge`` then streams the
benchmark's 10 MB reply; ``--holders=Handle`` lists who refers to new objects of that
type (and, with ``--trace``, where they were made).
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import gc
import re
import sys
import time
import tracemalloc
from typing import Any

import psutil
from PySide6.QtCore import QObject

from launcher.core.heaptrim import mallinfo, trim_heap
from tests.benchmarks._window import Rows, new_conversation, run_window, wait_until
from tests.benchmarks.bench_reply import HUGE, MANY, finished, send, server_config

HUGE_CHARS = 10_000_000  # as the benchmark's full run


def sqlite_mb() -> float | None:
    """SQLite's own count of the memory it holds (page caches, statements), or None."""
    try:
        lib = ctypes.CDLL("libsqlite3.so.0")  # the one Python's sqlite3 module links to
    except OSError:
        return None
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return float(lib.sqlite3_memory_used()) / 2**20


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def heap() -> dict[str, float]:
    """Malloc's own view (all arenas): in use, free inside arenas, mmapped chunks (MB)."""
    info = mallinfo()
    assert info is not None, "the driver needs glibc (mallinfo2)"
    return {
        "in_use": info.uordblks / 2**20,
        "free_in_arenas": info.fordblks / 2**20,
        "mmapped": info.hblkhd / 2**20,
    }


def trim() -> float:
    """Resident size after returning free heap to the system (MB)."""
    started = time.perf_counter()
    trim_heap(threshold=0)
    print(f"malloc_trim(0) took {(time.perf_counter() - started) * 1000:.1f} ms")
    return rss_mb()


def mappings() -> dict[str, tuple[str, int]]:
    """Resident KiB of every mapping of the process, by start address, with its name."""
    out: dict[str, tuple[str, int]] = {}
    key, name = "", ""
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                key = head[0].split("-")[0]
                name = head[5] if len(head) > 5 else "[anon]"
            elif head[0] == "Rss:":
                out[key] = (name, int(head[1]))
    return out


def pymalloc_arenas() -> str:
    """Python's small-object allocator: its arenas are mmapped, so malloc does not see them."""
    import os
    import tempfile

    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode()
    found = re.findall(r"# arenas (?:allocated current|highwater mark)\s*=\s*([\d,]+)", text)
    used = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text)
    blocks = used[1] if used else "?"
    return f"pymalloc arenas current/highwater {'/'.join(found)}, bytes in blocks {blocks}"


def mapping_growth(before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]) -> str:
    grown: collections.Counter[str] = collections.Counter()
    for key, (name, kib) in after.items():
        old = before.get(key, (name, 0))[1]
        grown[name] += kib - old
    for key, (name, kib) in before.items():
        if key not in after:
            grown[name] -= kib
    return ", ".join(f"{n} {k / 1024:+.1f}" for n, k in grown.most_common(6) if k > 256)


def py_types() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def qobjects(window: Any) -> collections.Counter[str]:
    """Live QObjects under the window by class (``--qobjects`` only: ``findChildren`` makes
    a Python wrapper for every child, which the window's wrapper keeps: ~20 a reply)."""
    counts: collections.Counter[str] = collections.Counter()
    if "--qobjects" not in sys.argv:
        return counts
    for child in window.findChildren(QObject):
        counts[type(child).__name__] += 1
    return counts


def _repr(obj: object) -> str:
    try:
        return repr(obj)[:140]
    except RuntimeError:  # a Qt wrapper whose C++ object is gone
        return f"<{type(obj).__qualname__}, C++ object deleted>"


def holders(name: str, before_ids: set[int], limit: int = 3) -> None:
    """Who refers to objects of type ``name`` that did not exist at the start: two levels."""
    gc.collect()
    found = [
        o for o in gc.get_objects() if type(o).__qualname__ == name and id(o) not in before_ids
    ]
    print(f"{len(found)} new {name}; holders of the first {limit}:")
    for obj in found[:limit]:
        print("  ", _repr(obj))
        where = tracemalloc.get_object_traceback(obj)
        if where is not None:
            for line in where.format()[-8:]:
                print("      made at", line)
        for ref in gc.get_referrers(obj):
            if ref is found:
                continue
            print("     <-", type(ref).__qualname__, _repr(ref))
            for ref2 in gc.get_referrers(ref)[:4]:
                if ref2 is found:
                    continue
                print("          <-", type(ref2).__qualname__, _repr(ref2))


def grew(before: collections.Counter[str], after: collections.Counter[str], top: int) -> str:
    diff = after.copy()
    diff.subtract(before)
    rows = [f"{name} +{n}" for name, n in diff.most_common(top) if n > 0]
    return ", ".join(rows) or "-"


def report(label: str, window: Any, base: dict[str, Any]) -> None:
    gc.collect()
    h = heap()
    rss = rss_mb()
    print(
        f"{label:<14} rss {rss:7.1f} MB (+{rss - base['rss']:5.1f})  malloc in use "
        f"{h['in_use']:7.1f} (+{h['in_use'] - base['heap']['in_use']:5.1f})  free in arenas "
        f"{h['free_in_arenas']:6.1f}  mmapped {h['mmapped']:6.1f}  sqlite {sqlite_mb() or 0:5.1f}",
        flush=True,
    )
    print(f"{'':<14} python objects grown: {grew(base['py'], py_types(), 12)}")
    print(f"{'':<14} mappings grown (MB): {mapping_growth(base['maps'], mappings())}")
    print(f"{'':<14} {pymalloc_arenas()}")
    print(f"{'':<14} qobjects grown: {grew(base['qt'], qobjects(window), 12)}", flush=True)


async def drive(window: Any, conversations: int, trace: bool, reopen: bool) -> Rows:
    launcher = window.launcher
    watcher = await send(window, MANY)
    await finished(window, watcher)
    await asyncio.sleep(0.2)
    gc.collect()
    if trace:
        tracemalloc.start(10)
    first = tracemalloc.take_snapshot() if trace else None
    before_ids = {id(o) for o in gc.get_objects()}
    base: dict[str, Any] = {
        "rss": rss_mb(),
        "heap": heap(),
        "py": py_types(),
        "qt": qobjects(window),
        "maps": mappings(),
    }
    report("start", window, base)
    ids: list[int] = []
    for i in range(conversations):
        watcher = await send(window, MANY)
        await finished(window, watcher)
        conv_id = window.chat.controller.conversation.id
        if conv_id is not None:
            ids.append(conv_id)
        if (i + 1) % 10 == 0:
            report(f"after {i + 1}", window, base)
    await wait_until(lambda: len(launcher.saving) == 0, 30, "the saves")
    if reopen:
        for conv_id in ids:
            await launcher.open_conversation(conv_id)
            await asyncio.sleep(0)
        report("reopened", window, base)
    new_conversation(window)
    await asyncio.sleep(0.2)
    report("closed", window, base)
    if "--huge" in sys.argv:
        await huge_reply(window, base)
    for arg in sys.argv:
        if arg.startswith("--holders="):
            holders(arg.split("=", 1)[1], before_ids)
    after = rss_mb()
    trimmed = trim()
    print(f"malloc_trim(0): rss {after:.1f} -> {trimmed:.1f} MB ({after - trimmed:.1f} MB freed)")
    print(f"growth: {after - base['rss']:.1f} MB; after trim {trimmed - base['rss']:.1f} MB")
    if first is not None:
        gc.collect()
        last = tracemalloc.take_snapshot()
        stats = last.compare_to(first, "traceback")
        total = sum(s.size_diff for s in stats)
        print(f"tracemalloc: live Python growth {total / 2**20:.2f} MB; top:")
        for stat in stats[:8]:
            print(f"  {stat.size_diff / 2**10:9.1f} KiB {stat.count_diff:+7d} blocks")
            for line in stat.traceback.format()[-6:]:
                print("     ", line)
    return []


async def huge_reply(window: Any, base: dict[str, Any]) -> None:
    """The benchmark's 10 MB reply (1,000-character chunks), then what stays of it once the
    conversation is left, and once the next reply replaced its turn."""
    watcher = await send(window, HUGE)
    await finished(window, watcher, timeout=300)
    report("10 MB reply", window, base)
    trimmer = window.launcher.chat.heap_trimmer
    checks = trimmer.checks
    new_conversation(window)
    await asyncio.sleep(0.2)
    report("left", window, base)
    await wait_until(lambda: trimmer.checks > checks, 10, "the heap check")
    report(f"heap checked, trimmed {trimmer.trims}x", window, base)
    watcher = await send(window, MANY)
    await finished(window, watcher)
    new_conversation(window)
    await asyncio.sleep(0.2)
    report("next reply", window, base)


def main(argv: list[str]) -> None:
    numbers = [int(a) for a in argv if a.isdigit()]
    conversations = numbers[0] if numbers else 30
    config = server_config(["x"], 10_000, HUGE_CHARS)
    settings = {"guard": {"enabled": False, "max_chars": 0}}
    run_window(
        config, lambda w, s: drive(w, conversations, "--trace" in argv, "--open" in argv), settings
    )


if __name__ == "__main__":
    main(sys.argv[1:])
