"""Benchmark through the real main window: chat rendering at 20k/100k chunks, Stop, Cancel.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.benchmarks.bench_ui`` (or the
suite: ``python -m tests.benchmarks -k ui``).

The window is built as the app builds it (``_window.run_window``), with the fake
``ollama serve`` in its own process. The settings set only ``guard.max_chars = 0``: the
long replies are longer than the runaway guard's default length limit and would be cut;
the guard's repetition check stays on, since feeding it is part of the per-chunk cost.

What is measured and why this way:

* Chat rendering. The server sends a reply of 20,000 and 100,000 chunks (``--quick``:
  5,000 and 25,000) as fast as it can (varied Markdown prose, headings, lists and code,
  never repeating, so the guard stays quiet). A 5 ms precise ``QTimer`` records the gaps
  between its ticks from Send until the reply is finished: the longest gap is the largest
  event-loop stall. Reported per size: the longest stall of the worst and of the median
  run; the most CPU time the main thread used between two ticks (the app's own longest
  hold of the loop: a gap can be longer than that when the thread did not run at all,
  which on a virtual machine happens when the hypervisor takes the CPU away, 10-25 ms
  at a time; the steal it reports over the replies is shown too); the time from the Send
  click until the Send button is enabled again (the reply finalised and fully painted;
  taken from the button's EnabledChange event); and the time per chunk, whose ratio
  between the two sizes shows whether rendering is linear. Each
  reply runs in a new conversation. The final text is checked against what was sent.
* Stop latency through the UI: a slow reply (a chunk every 20 ms); once the first words are
  painted in the transcript, ``stop_button.click()``. t0 is ``time.monotonic()`` just before
  the click; the end is the server's ``client_closed`` event (``FAKE_OLLAMA_EVENTS``,
  separate process, same monotonic clock on Linux). Checked: the partial reply stays in
  the transcript.
* Pull cancel latency: a slow pull is started from the Models tab; once progress has
  arrived, ``cancel_button.click()``; same clocks as for Stop.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from tests.benchmarks._common import median, percentile, quick
from tests.benchmarks._server import FakeOllama
from tests.benchmarks._window import (
    EnabledWatcher,
    Rows,
    TickRecorder,
    new_conversation,
    run_window,
    select_model,
    server_close,
    stolen_ms,
    stolen_since,
    wait_until,
)
from tests.ollama_server.specs import split_tokens

SIZES = (20_000, 100_000)
QUICK_SIZES = (5_000, 25_000)
RUNS = 1  # every figure below is already a median/worst of repeats within one run
SLOW_MODEL = "slow:latest"
SLOW_INTERVAL = 0.02
SLOW_TOKENS = ["Partial", " reply", " stays", " here", "."] + [" more"] * 50_000
PULL_MODEL = "big:latest"

TARGETS: dict[str, str] = {
    "stop click -> server close, median": "<= 5",
    "stop click -> server close, worst": "<= 25",
    "stop: partial reply lost (of the runs)": "<= 0",
    "pull cancel click -> server close, median": "<= 200",
    "pull cancel click -> server close, worst": "<= 200",
    "time per chunk, largest / smallest reply (linear: 1.0)": "<= 1.3",
}
for _size in SIZES + QUICK_SIZES:
    TARGETS[f"{_size:,} chunks: longest event-loop stall, worst run"] = "<= 35"

# fmt: off
_WORDS = (
    "model", "server", "token", "stream", "render", "layout", "cursor", "block", "fence",
    "table", "list", "quick", "local", "launcher", "ollama", "download", "status", "linear",
    "paragraph", "tail", "segment", "answer", "reply", "window", "button", "signal", "thread",
    "memory", "context", "prompt", "system", "result", "value", "buffer", "network", "port",
    "harbour", "river", "light", "engineer", "column", "period", "guard", "python", "desktop",
    "simple", "complex", "final",
)
# fmt: on


def reply_tokens(count: int, seed: int = 7) -> list[str]:
    """``count`` tokens of varied, never-repeating Markdown (leading spaces kept)."""
    rng = random.Random(seed)
    parts: list[str] = []
    tokens = 0
    block = 0
    while tokens < count:
        block += 1
        kind = rng.random()
        if kind < 0.6:
            sentences = []
            for _ in range(rng.randint(2, 5)):
                words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 16))]
                if rng.random() < 0.3:
                    words[1] = f"**{words[1]}**"
                if rng.random() < 0.3:
                    words[3] = f"`{words[3]}_{rng.randint(0, 999)}()`"
                sentences.append(" ".join(words).capitalize() + ".")
            part = " ".join(sentences)
        elif kind < 0.7:
            part = "## " + " ".join(rng.choice(_WORDS) for _ in range(4)).capitalize()
        elif kind < 0.85:
            part = "\n".join(
                f"- {rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.randint(0, 9999)}"
                for _ in range(rng.randint(3, 7))
            )
        else:
            lines = [
                f"    v_{block}_{i} = compute({rng.randint(0, 99999)})  # {rng.choice(_WORDS)}"
                for i in range(rng.randint(3, 10))
            ]
            part = "```python\ndef f_" + str(block) + "():\n" + "\n".join(lines) + "\n```"
        part += "\n\n"
        parts.append(part)
        tokens += len(split_tokens(part))
    return split_tokens("".join(parts))[:count]


def server_config(tokens: list[str], sizes: tuple[int, ...]) -> dict[str, Any]:
    models = [{"name": f"burst{size}:latest"} for size in sizes] + [{"name": SLOW_MODEL}]
    replies: dict[str, Any] = {
        f"burst{size}:latest": {"tokens": tokens[:size], "chunk_interval": 0} for size in sizes
    }
    replies[SLOW_MODEL] = {"tokens": SLOW_TOKENS, "chunk_interval": SLOW_INTERVAL}
    pulls = {PULL_MODEL: {"size": 50_000_000_000, "interval": 0.02, "bytes_per_tick": 10_000_000}}
    return {"models": models, "replies": replies, "pulls": pulls}


async def one_reply(
    window: Any, tokens: list[str], size: int
) -> tuple[list[float], list[float], float]:
    """Send once and wait for the whole reply: (event-loop gaps, the main thread's CPU
    time in each, Send -> reply shown)."""
    chat = window.chat
    new_conversation(window)
    select_model(window, f"burst{size}:latest")
    chat.message.setPlainText(f"Write {size} tokens.")
    watcher = EnabledWatcher()
    chat.send_button.installEventFilter(watcher)
    recorder = TickRecorder()
    recorder.start()
    t_send = time.perf_counter()
    chat.send_button.click()
    await watcher.wait(120, f"the {size}-chunk reply")
    gaps = recorder.stop()
    own = recorder.own_work()
    chat.send_button.removeEventFilter(watcher)
    assert watcher.enabled_at is not None
    reply = chat.controller.conversation.messages[-1]
    expected = "".join(tokens[:size])
    if reply.state != "complete" or reply.content != expected:
        raise AssertionError(
            f"{size}-chunk reply: state {reply.state!r} ({reply.note!r}), "
            f"{len(reply.content)} of {len(expected)} chars"
        )
    return gaps, own, watcher.enabled_at - t_send


async def render_stall(window: Any, tokens: list[str], size: int, repeats: int) -> Rows:
    """Rows for ``repeats`` replies of ``size`` chunks; the last row is the median time."""
    gaps: list[float] = []
    longest: list[float] = []
    own_longest: list[float] = []
    totals: list[float] = []
    stolen_before = stolen_ms()
    for _ in range(repeats):
        run_gaps, own, total = await one_reply(window, tokens, size)
        gaps += run_gaps
        longest.append(max(run_gaps))
        own_longest.append(max(own))
        totals.append(total)
    stolen = stolen_since(stolen_before, sum(totals))
    chars = len("".join(tokens[:size]))
    label = f"{size:,} chunks"
    return [
        (f"{label}: longest event-loop stall, worst run", f"{max(longest) * 1000:.2f} ms"),
        (f"{label}: longest event-loop stall, median run", f"{median(longest) * 1000:.2f} ms"),
        (
            f"{label}: most main-thread CPU between two ticks, worst run",
            f"{max(own_longest) * 1000:.2f} ms",
        ),
        (f"{label}: CPU time the hypervisor took (steal, both CPUs)", stolen),
        (
            f"{label}: p99 / median event-loop gap",
            f"{percentile(gaps, 99) * 1000:.2f} / {median(gaps) * 1000:.2f} ms "
            f"({len(gaps)} gaps, {repeats} runs)",
        ),
        (
            f"{label}: Send -> whole reply shown, median / worst",
            f"{median(totals) * 1000:.0f} / {max(totals) * 1000:.0f} ms ({chars:,} chars)",
        ),
        (f"{label}: time per chunk, median", f"{median(totals) / size * 1e6:.1f} µs"),
    ]


async def stop_latency(window: Any, server: FakeOllama, repeats: int) -> Rows:
    chat = window.chat
    latencies: list[float] = []
    partial_lost = 0
    for _ in range(repeats):
        new_conversation(window)
        select_model(window, SLOW_MODEL)
        chat.message.setPlainText("Say something slowly.")
        server.mark()
        chat.send_button.click()
        await wait_until(
            lambda: "Partial reply stays" in chat.conversation.toPlainText(), 5, "painted words"
        )
        t0 = time.monotonic()
        chat.stop_button.click()
        closed = await server_close(server)
        latencies.append(closed - t0)
        await wait_until(chat.send_button.isEnabled, 5, "Send enabled after Stop")
        reply = chat.controller.conversation.messages[-1]
        if not (
            reply.state == "stopped"
            and reply.content.startswith("Partial reply stays")
            and "Partial reply stays" in chat.conversation.toPlainText()
        ):
            partial_lost += 1
    return [
        ("stop click -> server close, median", f"{median(latencies) * 1000:.2f} ms"),
        ("stop click -> server close, worst", f"{max(latencies) * 1000:.2f} ms"),
        ("stop: partial reply lost (of the runs)", f"{partial_lost} of {repeats}"),
    ]


async def pull_cancel(window: Any, server: FakeOllama, repeats: int) -> Rows:
    models = window.models
    latencies: list[float] = []
    for _ in range(repeats):
        server.mark()
        models.pull_name.setText(PULL_MODEL)
        models.pull_button.click()
        await wait_until(models.cancel_button.isEnabled, 5, "Cancel pull enabled")
        await wait_until(
            lambda: server.new_event("started") is not None, 5, "the pull stream to start"
        )
        await asyncio.sleep(0.1)  # a few progress lines arrive and are shown
        t0 = time.monotonic()
        models.cancel_button.click()
        closed = await server_close(server)
        latencies.append(closed - t0)
        await wait_until(
            lambda: not any(job.active for job in models.downloads.jobs), 5, "the pull to end"
        )
    return [
        ("pull cancel click -> server close, median", f"{median(latencies) * 1000:.2f} ms"),
        ("pull cancel click -> server close, worst", f"{max(latencies) * 1000:.2f} ms"),
    ]


async def _main(window: Any, server: FakeOllama, tokens: list[str], sizes: tuple[int, ...]) -> Rows:
    rows: Rows = [
        ("server", "fake `ollama serve` in its own process; close times from FAKE_OLLAMA_EVENTS")
    ]
    per_chunk: list[float] = []
    for size in sizes:
        size_rows = await render_stall(window, tokens, size, 2 if quick() else 3)
        rows += size_rows
        per_chunk.append(float(size_rows[-1][1].split()[0]))
    rows.append(
        (
            "time per chunk, largest / smallest reply (linear: 1.0)",
            f"{per_chunk[-1] / per_chunk[0]:.2f}",
        )
    )
    rows += await stop_latency(window, server, 15 if quick() else 30)
    rows += await pull_cancel(window, server, 5 if quick() else 10)
    return rows


def run() -> Rows:
    sizes = QUICK_SIZES if quick() else SIZES
    tokens = reply_tokens(max(sizes))
    return run_window(
        server_config(tokens, sizes),
        lambda window, server: _main(window, server, tokens, sizes),
    )


if __name__ == "__main__":
    for measure, value in run():
        print(f"{measure:<48} {value}")
