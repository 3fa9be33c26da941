"""Benchmark of ordinary use through the real window: a realistic reply, a download while
it streams, and memory after many replies.

Run: ``python -m tests.benchmarks -k reply`` (the window as in ``bench_ui``: the real
``build_main_window()`` in a qasync loop, the fake ``ollama serve`` in its own process).

* A realistic reply: 2,000 tokens at 100 tokens a second (``--quick``: 500) of Markdown
  with headings, lists, code blocks and a table, streamed twice: the largest event-loop
  stall while the 5 ms tick recorder runs, then the CPU the launcher's process uses
  while it streams with no recorder (``time.process_time`` over the reply's wall time;
  the server is another process, so none of its work is counted). The recorder's own
  200 wake-ups a second cost about 1.8 % of a core on the reference machine: the CPU
  with it attached is shown on its own row. Next to each stall: the most CPU time the
  main thread used between two ticks (its own longest hold of the loop; see bench_ui).
* A download while a reply streams: a five-layer pull sending 200 progress lines a
  second, started from the Models page while the realistic reply streams. Reported: how
  many times a second the downloads panel repainted (``ModelsView.repaints``: the panel
  batches progress on a timer) and the largest event-loop stall.
* History: a conversation of 2,000 messages (600 characters each) is imported with the
  store's own JSON import, then opened from the history (``Launcher.open_conversation``)
  from an empty conversation; the time to the transcript's first paint after that.
* The runaway guard is off in this module's settings (the 10 MB reply repeats one
  paragraph, which the guard would rightly stop).
* Memory: the process's resident size (``psutil``) after a first warm-up reply, then
  after 50 more conversations of 10,000 chunks each (``--quick``: 10) were streamed,
  each opened again from the history and left for a new one, after a garbage
  collection; the growth caused by one 10 MB reply in 1,000-character chunks
  (``--quick``: 2 MB), measured when it ends; and what is left of that growth once its
  conversation is left for a new one and the chat's heap check ran (two seconds later:
  ``core/heaptrim.py`` gives glibc's free heap back to the system when more than 16 MB
  is free). Each memory row says how many heap trims ran up to it: none is expected
  during the 50 conversations (their free heap stays under 16 MB), so that figure is
  not helped by trimming.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from typing import Any

import psutil
from PySide6.QtCore import QEvent, QObject

from tests.benchmarks._common import median, quick
from tests.benchmarks._server import FakeOllama
from tests.benchmarks._window import (
    EnabledWatcher,
    Rows,
    TickRecorder,
    new_conversation,
    run_window,
    select_model,
    stolen_ms,
    stolen_since,
    wait_until,
)
from tests.benchmarks.bench_ui import reply_tokens
from tests.ollama_server.specs import split_tokens

RUNS = 1  # long, quiet stretches; each figure is explained in the module docstring
REALISTIC = "realistic:latest"
MANY = "many:latest"
HUGE = "huge:latest"
PULL_MODEL = "five-layers:latest"
RATE = 100.0  # tokens a second

TARGETS: dict[str, str] = {
    "realistic reply: launcher CPU while streaming": "<= 10",
    "realistic reply: longest event-loop stall": "<= 35",
    "download + reply: downloads panel updates per second": "<= 20",
    "download + reply: longest event-loop stall": "<= 35",
    "memory: growth over the conversations": "<= 30",
    "history: open a 2,000-message conversation -> first paint, median": "<= 150",
    "history: open a 2,000-message conversation -> first paint, worst": "<= 150",
}


class PaintWatcher(QObject):
    """Records the first Paint event a widget gets after ``arm()``."""

    def __init__(self) -> None:
        super().__init__()
        self.painted_at: float | None = None

    def arm(self) -> None:
        self.painted_at = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.painted_at is None and event.type() == QEvent.Type.Paint:
            self.painted_at = time.perf_counter()
        return False


def realistic_tokens(count: int, seed: int = 11) -> list[str]:
    """Markdown as a model writes it: prose, lists and code (``reply_tokens``) with a table
    every few blocks."""
    rng = random.Random(seed)
    prose = "".join(reply_tokens(count, seed))
    blocks = prose.split("\n\n")
    out: list[str] = []
    for i, block in enumerate(blocks):
        out.append(block)
        if i % 6 == 3:
            rows = [
                f"| {rng.choice(['cpu', 'gpu', 'ram', 'disk'])} | {rng.randint(1, 999)} | "
                f"{rng.random():.3f} |"
                for _ in range(rng.randint(3, 6))
            ]
            out.append("| part | count | share |\n|---|---:|---:|\n" + "\n".join(rows))
    return split_tokens("\n\n".join(out))[:count]


def server_config(realistic: list[str], many: int, huge_chars: int) -> dict[str, Any]:
    # 1,000 characters a chunk, ten short paragraphs (the guard is off for this module).
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor."
    word = (paragraph[:98] + "\n\n") * 10
    return {
        "models": [{"name": REALISTIC}, {"name": MANY}, {"name": HUGE}],
        "replies": {
            REALISTIC: {"tokens": realistic, "chunk_interval": 1 / RATE},
            MANY: {"tokens": reply_tokens(many, seed=3), "chunk_interval": 0},
            HUGE: {"tokens": [word], "repeat": huge_chars // len(word), "chunk_interval": 0},
        },
        "pulls": {
            PULL_MODEL: {"size": 4_000_000_000, "interval": 0.005, "bytes_per_tick": 1_000_000}
        },
    }


async def send(window: Any, model: str, text: str = "Go on.") -> EnabledWatcher:
    """Send in a new conversation; the watcher says when Send is enabled again (reply done)."""
    chat = window.chat
    new_conversation(window)
    select_model(window, model)
    chat.message.setPlainText(text)
    watcher = EnabledWatcher()
    chat.send_button.installEventFilter(watcher)
    chat.send_button.click()
    await wait_until(lambda: not chat.send_button.isEnabled(), 5, "the reply to start")
    return watcher


async def finished(window: Any, watcher: EnabledWatcher, timeout: float = 120) -> None:
    await watcher.wait(timeout, "the reply to finish")
    window.chat.send_button.removeEventFilter(watcher)
    reply = window.chat.controller.conversation.messages[-1]
    if reply.state != "complete":
        raise AssertionError(f"the reply ended {reply.state!r}: {reply.note!r}")


async def realistic(window: Any) -> Rows:
    """The reply twice: once with the stall recorder, for the stalls; once without it, for
    the CPU (the recorder's 200 wake-ups a second cost about 1.8 % of a core here)."""
    recorder = TickRecorder()
    stolen_before = stolen_ms()
    recorder.start()
    probed_cpu = await _stream_realistic(window)
    gaps = recorder.stop()
    own = recorder.own_work()
    stolen = stolen_since(stolen_before, probed_cpu[1])
    used, wall = await _stream_realistic(window)
    chars = len(window.chat.controller.conversation.messages[-1].content)
    return [
        (
            "realistic reply: launcher CPU while streaming",
            f"{used / wall * 100:.1f} % of one core ({used:.2f} s CPU in {wall:.1f} s, "
            f"{chars:,} chars at {RATE:.0f} tokens/s)",
        ),
        (
            "realistic reply: launcher CPU, stall recorder attached",
            f"{probed_cpu[0] / probed_cpu[1] * 100:.1f} % of one core",
        ),
        ("realistic reply: longest event-loop stall", f"{max(gaps) * 1000:.1f} ms"),
        ("realistic reply: most main-thread CPU between two ticks", f"{max(own) * 1000:.1f} ms"),
        ("realistic reply: CPU time the hypervisor took (steal, both CPUs)", stolen),
    ]


async def _stream_realistic(window: Any) -> tuple[float, float]:
    """CPU seconds the launcher used while the realistic reply streamed, and its wall time."""
    started, cpu = time.perf_counter(), time.process_time()
    watcher = await send(window, REALISTIC)
    await finished(window, watcher)
    return time.process_time() - cpu, time.perf_counter() - started


async def download_while_streaming(window: Any) -> Rows:
    models = window.models
    repaints = models.repaints
    recorder = TickRecorder()
    stolen_before = stolen_ms()
    recorder.start()
    watcher = await send(window, REALISTIC)
    started = time.perf_counter()
    models.pull_name.setText(PULL_MODEL)
    models.pull_button.click()
    await finished(window, watcher)
    seconds = time.perf_counter() - started
    updates = models.repaints - repaints
    gaps = recorder.stop()
    own = recorder.own_work()
    stolen = stolen_since(stolen_before, seconds)
    models.cancel_button.click()
    await wait_until(lambda: not any(j.active for j in models.downloads.jobs), 5, "the cancel")
    return [
        (
            "download + reply: downloads panel updates per second",
            f"{updates / seconds:.1f} ({updates} in {seconds:.1f} s; 200 progress lines/s)",
        ),
        ("download + reply: longest event-loop stall", f"{max(gaps) * 1000:.1f} ms"),
        (
            "download + reply: most main-thread CPU between two ticks",
            f"{max(own) * 1000:.1f} ms",
        ),
        ("download + reply: CPU time the hypervisor took (steal, both CPUs)", stolen),
    ]


def rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


async def memory(window: Any, conversations: int, huge_chars: int) -> Rows:
    launcher = window.launcher
    watcher = await send(window, MANY)  # warm-up: caches, fonts, the first layout
    await finished(window, watcher)
    await asyncio.sleep(0.2)
    before = rss_mb()
    ids: list[int] = []
    for _ in range(conversations):
        watcher = await send(window, MANY)
        await finished(window, watcher)
        conv_id = window.chat.controller.conversation.id
        if conv_id is not None:
            ids.append(conv_id)
    await wait_until(lambda: len(launcher.saving) == 0, 30, "the saves")
    for conv_id in ids:
        await launcher.open_conversation(conv_id)
        await asyncio.sleep(0)  # painted
    new_conversation(window)
    await asyncio.sleep(0.2)
    after = rss_mb()
    trimmer = launcher.chat.heap_trimmer
    trims = trimmer.trims  # heap trims so far (core/heaptrim.py): none expected
    watcher = await send(window, HUGE)
    await finished(window, watcher, timeout=300)
    huge = rss_mb()
    checks = trimmer.checks
    new_conversation(window)
    await wait_until(lambda: trimmer.checks > checks, 10, "the heap check after leaving")
    left = rss_mb()
    return [
        ("memory: resident size after the warm-up reply", f"{before:.0f} MB"),
        (
            "memory: growth over the conversations",
            f"{after - before:.1f} MB ({conversations} x 10,000 chunks, streamed, opened, "
            f"closed; {len(ids)} saved; heap trims: {trims})",
        ),
        (
            f"memory: growth from one {huge_chars / 1e6:.0f} MB reply",
            f"{huge - after:.1f} MB (resident {huge:.0f} MB)",
        ),
        (
            f"memory: growth left once the {huge_chars / 1e6:.0f} MB reply's conversation is left",
            f"{left - after:.1f} MB (resident {left:.0f} MB; heap trims: {trimmer.trims})",
        ),
    ]


async def history_open(window: Any, opens: int) -> Rows:
    """Import a 2,000-message conversation (the store's own JSON import), then open it
    from the history and time the transcript's first paint."""
    launcher = window.launcher
    store = launcher.history.store
    conv_id = window.chat.controller.conversation.id
    assert conv_id is not None, "a saved conversation to take the export's shape from"
    data = await store.export_json(conv_id)
    text = "".join(reply_tokens(4_000, seed=5))
    messages = []
    for i in range(2_000):
        role = "user" if i % 2 == 0 else "assistant"
        start = (i * 397) % (len(text) - 600)
        messages.append(
            {**data["messages"][0], "role": role, "content": text[start : start + 600]}  # type: ignore[index]
        )
    data["messages"] = messages
    big = await store.import_json(data)
    viewport = window.chat.conversation.viewport()
    watcher = PaintWatcher()
    viewport.installEventFilter(watcher)
    times: list[float] = []
    try:
        for _ in range(opens):
            new_conversation(window)
            await asyncio.sleep(0.1)
            watcher.arm()
            started = time.perf_counter()
            await launcher.open_conversation(big.id)
            await wait_until(lambda: watcher.painted_at is not None, 10, "the first paint")
            assert watcher.painted_at is not None
            times.append(watcher.painted_at - started)
    finally:
        viewport.removeEventFilter(watcher)
    return [
        (
            "history: open a 2,000-message conversation -> first paint, median",
            f"{median(times) * 1000:.0f} ms ({opens} opens)",
        ),
        (
            "history: open a 2,000-message conversation -> first paint, worst",
            f"{max(times) * 1000:.0f} ms",
        ),
    ]


async def _main(window: Any, server: FakeOllama, conversations: int, huge_chars: int) -> Rows:
    rows = await realistic(window)
    rows += await history_open(window, 3)
    rows += await download_while_streaming(window)
    rows += await memory(window, conversations, huge_chars)
    return rows


def run() -> Rows:
    count = 500 if quick() else 2_000
    conversations = 10 if quick() else 50
    huge_chars = 2_000_000 if quick() else 10_000_000
    config = server_config(realistic_tokens(count), 10_000, huge_chars)
    # The guard off: the 10 MB reply repeats one paragraph, which it would rightly stop.
    settings = {"guard": {"enabled": False, "max_chars": 0}}
    return run_window(config, lambda w, s: _main(w, s, conversations, huge_chars), settings)


if __name__ == "__main__":
    for measure, value in run():
        print(f"{measure:<52} {value}")
