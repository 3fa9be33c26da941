"""Fault 19 of issue 7: a 10 MB reply through the real window: does anything freeze?

Run: ``QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.bench_chat_10mb`` (or the suite:
``python -m tests.benchmarks -k chat_10mb``).

The fake ``ollama serve`` (its own process, so it does not take the GIL from the UI) sends
a 10 MB reply of varied Markdown in ~250-character chunks, as fast as it can. Two cases:

* the runaway guard as shipped (on, 100,000-character limit): the guard stops the reply
  and closes the connection; measured: the longest event-loop gap from Send until the
  window is idle again, and how much of the reply was kept;
* the guard off: all 10 MB is streamed and kept; the view shows its first
  ``MAX_SHOWN_CHARS`` (1 MB, painted within the painter's time budget) and says the rest is
  not shown; measured: the longest and 99th-percentile event-loop gap, the time until the
  reply has ended and is shown, and that the kept reply is complete.

The event-loop gaps come from a 5 ms precise QTimer (see ``bench_ui``): under qasync both
asyncio callbacks and Qt painting run on the Qt event loop, so any stall shows up as a gap.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from tests.benchmarks._common import median, percentile
from tests.benchmarks._server import FakeOllama
from tests.benchmarks.bench_ui import TickRecorder, reply_tokens, select_model, wait_until

TARGET_BYTES = 10_000_000
CHUNK_CHARS = 250
MODEL = "huge:latest"

TARGETS: dict[str, str] = {
    "guard on: longest event-loop gap": "<= 100",
    "guard off: longest event-loop gap": "<= 100",
}


def huge_reply() -> list[str]:
    """~10 MB of varied Markdown, in chunks of about CHUNK_CHARS characters."""
    base = "".join(reply_tokens(20_000))
    parts: list[str] = []
    size = 0
    copy = 0
    while size < TARGET_BYTES:
        copy += 1
        part = base.replace("compute(", f"compute_{copy}(")
        parts.append(part)
        size += len(part)
    text = "".join(parts)
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]


async def one_case(window: Any, expected: str, guard: bool) -> list[tuple[str, str]]:
    chat = window.chat
    chat.controller.new_conversation()
    select_model(window, MODEL)
    recorder = TickRecorder()
    recorder.start()
    started = time.perf_counter()
    chat.message.setPlainText("Write ten megabytes.")
    chat.send_button.click()
    await wait_until(lambda: chat._turn is None, 600, "the reply to end and be painted")
    total = time.perf_counter() - started
    gaps = recorder.stop()
    reply = chat.controller.conversation.messages[-1]
    label = "guard on" if guard else "guard off"
    rows = [
        (f"{label}: longest event-loop gap", f"{max(gaps) * 1000:.1f} ms"),
        (
            f"{label}: p99 / median event-loop gap",
            f"{percentile(gaps, 99) * 1000:.1f} / {median(gaps) * 1000:.1f} ms ({len(gaps)} gaps)",
        ),
        (f"{label}: Send -> reply ended and shown", f"{total:.1f} s"),
        (
            f"{label}: reply kept",
            f"{len(reply.content):,} of {len(expected):,} chars, state {reply.state}"
            + (f" ({reply.note})" if reply.note else ""),
        ),
    ]
    shown = len(chat.conversation.toPlainText())
    rows.append((f"{label}: characters in the view", f"{shown:,}"))
    if not expected.startswith(reply.content):
        raise AssertionError(f"{label}: the kept reply is not a prefix of what was sent")
    if not guard and reply.content != expected:
        raise AssertionError("guard off: the reply is not complete")
    return rows


async def _main(expected: str, config_dir: Path) -> list[tuple[str, str]]:
    from launcher.app import build_main_window

    rows: list[tuple[str, str]] = []
    for guard in (True, False):
        settings = {} if guard else {"guard": {"enabled": False}}
        (config_dir / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        window = build_main_window()
        window.show()
        try:
            picker = window.chat.model_combo
            await wait_until(lambda p=picker: p.count() > 0, 10, "the model list")
            rows += await one_case(window, expected, guard)
        finally:
            await window.shutdown()
            window.close()
            window.deleteLater()
            await asyncio.sleep(0.05)
    return rows


def run() -> list[tuple[str, str]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from launcher.core.qtloop import QtEventLoop

    tokens = huge_reply()
    config = {
        "models": [{"name": MODEL}],
        "replies": {MODEL: {"tokens": tokens, "chunk_interval": 0}},
    }
    with tempfile.TemporaryDirectory(prefix="bench-10mb-") as tmp, FakeOllama(config) as server:
        config_dir = Path(tmp) / "config"
        config_dir.mkdir()
        os.environ["OLLAMA_HOST"] = server.host
        os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = str(config_dir)
        os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = str(Path(tmp) / "data")
        existing = QApplication.instance()
        app = existing if isinstance(existing, QApplication) else QApplication([])
        app.setQuitOnLastWindowClosed(False)
        loop = QtEventLoop(app)  # the app's loop
        asyncio.set_event_loop(loop)
        try:
            rows: list[tuple[str, str]] = loop.run_until_complete(
                _main("".join(tokens), config_dir)
            )
            return rows
        finally:
            loop.close()
            asyncio.set_event_loop(None)
