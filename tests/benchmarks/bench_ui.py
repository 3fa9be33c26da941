"""Benchmark through the real main window: chat rendering stalls, Stop and pull Cancel.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.benchmarks.bench_ui`` (or the
suite: ``python -m tests.benchmarks -k ui``).

The window is built as the app builds it: a ``QApplication`` (offscreen platform), a qasync
loop, ``build_main_window()`` inside it, shown, with ``OLLAMA_HOST`` pointing at the fake
``ollama serve`` binary running in its own process (so the server's work does not take
the GIL from the UI being measured) and the launcher's config/data folders in a temporary
directory. The settings there set only ``guard.max_chars = 0``: the 40,000-chunk reply is
longer than the guard's default 100,000-character limit and would be cut; the guard's
repetition check stays on, since feeding it is part of the per-chunk cost.

What is measured and why this way:

* Chat-render stall. The server sends a reply of 5,000 / 10,000 / 20,000 / 40,000 chunks as
  fast as it can (varied Markdown prose, headings, lists and code, never repeating, so the
  guard stays quiet). A ``QTimer`` (precise, 5 ms) records the gaps between its ticks from
  Send until the reply is finished: under qasync both asyncio callbacks and Qt painting
  run on the Qt event loop, so any stall, wherever it comes from, shows up as a long gap.
  Reported: the longest gap and the 99th percentile; the time from the Send click until
  the Send button is enabled again (the reply finalised and fully painted; taken from the
  button's EnabledChange event, not by polling); and that time per 1,000 chunks, which
  should stay roughly flat as the reply grows (linear rendering). Each size runs in a new
  conversation so earlier replies do not weigh on later ones. The final text is checked
  against what the server sent.
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
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from tests.benchmarks._common import median, percentile, quick
from tests.benchmarks._server import FakeOllama
from tests.ollama_server.specs import split_tokens

SIZES = (5_000, 10_000, 20_000, 40_000)
QUICK_SIZES = (5_000, 10_000, 20_000)
TICK_MS = 5
SLOW_MODEL = "slow:latest"
SLOW_INTERVAL = 0.02
SLOW_TOKENS = ["Partial", " reply", " stays", " here", "."] + [" more"] * 50_000
PULL_MODEL = "big:latest"

TARGETS: dict[str, str] = {
    "stop click -> server close, median": "<= 50",
    "stop click -> server close, worst": "<= 50",
    "stop: partial reply lost (of the runs)": "<= 0",
    "pull cancel click -> server close, median": "<= 200",
    "pull cancel click -> server close, worst": "<= 200",
}
for _size in SIZES:
    TARGETS[f"{_size:,} chunks: longest event-loop gap"] = "<= 50"

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


class TickRecorder(QObject):
    """A 5 ms precise QTimer that records when each tick ran."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[float] = []
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self._timer.start()

    def stop(self) -> list[float]:
        """Gaps between consecutive ticks, in seconds (the last one up to now)."""
        self._timer.stop()
        self.ticks.append(time.perf_counter())
        return [b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False)]


class EnabledWatcher(QObject):
    """Records the instant a widget becomes enabled (its EnabledChange event)."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled_at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            self.enabled_at is None
            and event.type() == QEvent.Type.EnabledChange
            and isinstance(watched, QWidget)
            and watched.isEnabled()
        ):
            self.enabled_at = time.perf_counter()
        return False


async def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


async def server_close(server: FakeOllama, timeout: float = 3.0) -> float:
    await wait_until(
        lambda: server.new_event("client_closed") is not None, timeout, "the server's close event"
    )
    event = server.new_event("client_closed")
    assert event is not None
    return float(event["monotonic"])


def select_model(window: Any, name: str) -> None:
    index = window.chat.model_combo.findText(name)
    if index < 0:
        raise AssertionError(f"model {name} not in the picker")
    window.chat.model_combo.setCurrentIndex(index)


def new_conversation(window: Any) -> None:
    controller = window.chat.controller
    controller.new_conversation()
    window.chat.show_conversation(controller.conversation)


async def one_reply(window: Any, tokens: list[str], size: int) -> tuple[list[float], float]:
    """Send once and wait for the whole reply: (event-loop gaps, Send -> reply shown)."""
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
    await wait_until(lambda: watcher.enabled_at is not None, 120, f"the {size}-chunk reply")
    gaps = recorder.stop()
    chat.send_button.removeEventFilter(watcher)
    assert watcher.enabled_at is not None
    reply = chat.controller.conversation.messages[-1]
    expected = "".join(tokens[:size])
    if reply.state != "complete" or reply.content != expected:
        raise AssertionError(
            f"{size}-chunk reply: state {reply.state!r} ({reply.note!r}), "
            f"{len(reply.content)} of {len(expected)} chars"
        )
    return gaps, watcher.enabled_at - t_send


async def render_stall(
    window: Any, tokens: list[str], size: int, repeats: int
) -> list[tuple[str, str]]:
    gaps: list[float] = []
    totals: list[float] = []
    for _ in range(repeats):
        run_gaps, total = await one_reply(window, tokens, size)
        gaps += run_gaps
        totals.append(total)
    total = median(totals)
    chars = len("".join(tokens[:size]))
    label = f"{size:,} chunks"
    return [
        (f"{label}: longest event-loop gap", f"{max(gaps) * 1000:.2f} ms"),
        (
            f"{label}: p99 / median event-loop gap",
            f"{percentile(gaps, 99) * 1000:.2f} / {median(gaps) * 1000:.2f} ms "
            f"({len(gaps)} gaps, {repeats} runs)",
        ),
        (f"{label}: Send -> whole reply shown", f"{total * 1000:.1f} ms ({chars:,} chars)"),
        (f"{label}: per 1,000 chunks", f"{total / size * 1e6:.2f} ms"),
    ]


async def stop_latency(window: Any, server: FakeOllama, repeats: int) -> list[tuple[str, str]]:
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


async def pull_cancel(window: Any, server: FakeOllama, repeats: int) -> list[tuple[str, str]]:
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


async def idle_cost(window: Any, seconds: float) -> list[tuple[str, str]]:
    """What the window costs while nothing happens: the status poll every 2 s, the
    log view's timer. Process CPU time over a quiet stretch, and the polls made."""
    monitor = window.launcher.monitor
    polls = monitor.polls
    cpu = time.process_time()
    await asyncio.sleep(seconds)  # the thing measured: an idle stretch
    used = time.process_time() - cpu
    return [
        (
            f"idle {seconds:.0f} s: process CPU",
            f"{used * 1000:.0f} ms ({used / seconds * 100:.2f} %)",
        ),
        (f"idle {seconds:.0f} s: status polls", str(monitor.polls - polls)),
    ]


async def _main(
    server: FakeOllama, tokens: list[str], sizes: tuple[int, ...]
) -> list[tuple[str, str]]:
    from launcher.app import build_main_window

    window = build_main_window()
    window.show()
    rows: list[tuple[str, str]] = [
        ("server", "fake `ollama serve` in its own process; close times from FAKE_OLLAMA_EVENTS")
    ]
    try:
        await wait_until(lambda: window.chat.model_combo.count() > 0, 10, "the model list")
        for size in sizes:
            rows += await render_stall(window, tokens, size, 1 if quick() else 3)
        repeats = 10 if quick() else 20
        rows += await stop_latency(window, server, repeats)
        rows += await pull_cancel(window, server, 5 if quick() else 10)
        rows += await idle_cost(window, 4.0 if quick() else 10.0)
    finally:
        await window.shutdown()
        window.close()
        window.deleteLater()
        await asyncio.sleep(0.05)
    return rows


def run() -> list[tuple[str, str]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync

    sizes = QUICK_SIZES if quick() else SIZES
    tokens = reply_tokens(max(sizes))
    with (
        tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp,
        FakeOllama(server_config(tokens, sizes)) as server,
    ):
        config_dir = Path(tmp) / "config"
        config_dir.mkdir()
        (config_dir / "settings.json").write_text('{"guard": {"max_chars": 0}}', encoding="utf-8")
        os.environ["OLLAMA_HOST"] = server.host
        os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = str(config_dir)
        os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = str(Path(tmp) / "data")
        existing = QApplication.instance()
        app = existing if isinstance(existing, QApplication) else QApplication([])
        app.setQuitOnLastWindowClosed(False)  # as the app does: closing must not stop the loop
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            rows: list[tuple[str, str]] = loop.run_until_complete(_main(server, tokens, sizes))
            return rows
        finally:
            loop.close()
            asyncio.set_event_loop(None)


if __name__ == "__main__":
    for measure, value in run():
        print(f"{measure:<48} {value}")
