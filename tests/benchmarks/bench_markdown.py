"""Benchmark: streaming Markdown rendering must stay linear in the reply length.

Streams replies of 10k-80k characters of mixed Markdown in 4-character deltas and calls
render() every 50 deltas (about what a 40 ms paint timer sees at ~5000 chars/s). If
finished blocks were re-rendered, "ms per 10k chars" would grow with the size.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.benchmarks.bench_markdown
"""

from __future__ import annotations

import os
import random
import time

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication

from launcher.ui.markdown import MarkdownStream, SafeTextBrowser

SIZES = (10_000, 20_000, 40_000, 80_000)
DELTA = 4
RENDER_EVERY = 50
REPEATS = 3

_WORDS = [
    "model",
    "server",
    "token",
    "stream",
    "render",
    "layout",
    "cursor",
    "block",
    "fence",
    "table",
    "list",
    "quick",
    "local",
    "launcher",
    "ollama",
    "download",
    "status",
    "paragraph",
    "linear",
    "tail",
    "segment",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 16))]
    if rng.random() < 0.3:
        words[2] = f"**{words[2]}**"
    if rng.random() < 0.3:
        words[4] = f"`{words[4]}()`"
    return " ".join(words).capitalize() + "."


def mixed_markdown(size: int, seed: int = 0) -> str:
    """Deterministic reply with paragraphs, headings, lists, code blocks and tables."""
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        kind = rng.choice(("para", "para", "list", "olist", "code", "table", "heading"))
        if kind == "para":
            part = " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))
        elif kind == "heading":
            part = "#" * rng.randint(1, 3) + " " + _sentence(rng)
        elif kind == "list":
            part = "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(3, 8)))
        elif kind == "olist":
            part = "\n".join(f"{i + 1}. {_sentence(rng)}" for i in range(rng.randint(3, 8)))
        elif kind == "code":
            lines = [f"    x_{i} = compute({i})  # {rng.choice(_WORDS)}" for i in range(20)]
            part = "```python\ndef f():\n" + "\n".join(lines[: rng.randint(5, 20)]) + "\n```"
        else:
            rows = [f"| {rng.choice(_WORDS)} | {rng.randint(1, 99)} | {rng.choice(_WORDS)} |"]
            part = "| Name | Size | Note |\n|------|-----:|------|\n" + "\n".join(
                rows * rng.randint(3, 10)
            )
        parts.append(part)
        total += len(part) + 2
    return "\n\n".join(parts)[:size]


def _stream_once(app: QApplication, text: str) -> tuple[float, float, list[float]]:
    browser = SafeTextBrowser()
    browser.resize(800, 600)
    QTextCursor(browser.document()).insertText("User: a question")
    stream = MarkdownStream(browser)
    max_render = 0.0
    renders: list[float] = []
    started = time.perf_counter()
    for count, i in enumerate(range(0, len(text), DELTA), start=1):
        stream.append(text[i : i + DELTA])
        if count % RENDER_EVERY == 0:
            t0 = time.perf_counter()
            stream.render()
            renders.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    stream.finish()
    max_render = max([*renders, time.perf_counter() - t0])
    total = time.perf_counter() - started
    browser.deleteLater()
    app.processEvents()
    return total * 1000, max_render * 1000, renders


def run() -> list[tuple[str, str]]:
    """Return (metric, value) rows per size: total ms, ms per 10k chars, max render() ms.

    Sizes are prefixes of one generated reply, so the content mix is the same for all of
    them; each size runs REPEATS times and the fastest run is reported (less noise). The
    mean render() time of the first and last quarter shows that a render does not get
    slower as the document grows.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    _stream_once(app, mixed_markdown(2_000, seed=99))  # warm up fonts and caches
    reply = mixed_markdown(max(SIZES), seed=1)
    rows: list[tuple[str, str]] = []
    for size in SIZES:
        runs = [_stream_once(app, reply[:size]) for _ in range(REPEATS)]
        total_ms, max_ms, renders = min(runs, key=lambda run: run[0])
        quarter = max(1, len(renders) // 4)
        first = sum(renders[:quarter]) / quarter * 1000
        last = sum(renders[-quarter:]) / quarter * 1000
        label = f"{size // 1000}k chars"
        rows.append((f"{label}: total ms", f"{total_ms:.1f}"))
        rows.append((f"{label}: ms per 10k chars", f"{total_ms / size * 10_000:.1f}"))
        rows.append((f"{label}: max render() ms", f"{max_ms:.2f}"))
        rows.append((f"{label}: render() calls", str(len(renders))))
        rows.append((f"{label}: mean render() ms, 1st/last 25%", f"{first:.2f} / {last:.2f}"))
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name:34} {value}")
