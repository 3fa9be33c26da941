"""Benchmarks for the conversation store.

Run with ``python -m tests.benchmarks.bench_store``.  ``run()`` returns ``(name, value)`` rows
so a common runner can collect them.

What is measured and why:

* saving a growing ~50 KB streamed reply: this happens about once a second for every reply,
  so it must stay in the low milliseconds even for long replies;
* listing 10,000 conversations x 4 messages: the sidebar reloads this after most actions;
* searching the same data: runs on every keystroke in the sidebar's search box (the
  issue's figure: searching 10,000 conversations, target <= 100 ms).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from launcher.core.conversation import ConversationSettings, Message
from launcher.core.store import Store

REPLY_BYTES = 50_000
REPLY_UPDATES = 100
CONVERSATIONS = 10_000
MESSAGES_PER_CONVERSATION = 4
_SIZE = f"{CONVERSATIONS} conv x {MESSAGES_PER_CONVERSATION} msg"
_SEARCHES = (
    ("rare word, ASCII (LIKE)", "zebra-unicorn"),
    ("rare word, non-ASCII (casefold)", "unicorn-NÄDEL"),
    ("common word (early matches)", "fox"),
    ("no match, ASCII (full scan)", "nothing-matches-this"),
    ("no match, non-ASCII (full scan)", "nothing-matches-thïs"),
)
RUNS = 1  # every row is already the median and max of repeats (and filling takes a while)
TARGETS: dict[str, str] = {f"search {label} ({_SIZE})": "<= 100" for label, _ in _SEARCHES}

_WORDS: tuple[str, ...] = (
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "streaming",
    "tokens",
    "into",
    "sqlite",
    "write",
    "ahead",
    "log",
    "keeps",
    "readers",
    "and",
    "writers",
    "apart",
    "durability",
    "matters",
)


def _text(seed: int, length: int) -> str:
    words: list[str] = []
    size = 0
    i = seed
    while size < length:
        word = _WORDS[i % len(_WORDS)]
        words.append(word)
        size += len(word) + 1
        i = i * 1103515245 + 12345 & 0x7FFFFFFF
    return " ".join(words)[:length]


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and max wall time in ms over ``repeat`` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def _bench_streaming(store: Store) -> list[tuple[str, str]]:
    conv = store.create_conversation(ConversationSettings(model="bench"))
    assert conv.id is not None
    store.add_message(conv.id, Message(role="user", content="write a long essay"))
    message_id = store.add_message(
        conv.id, Message(role="assistant", content="", state="streaming")
    )
    full = _text(1, REPLY_BYTES)
    step = REPLY_BYTES // REPLY_UPDATES
    samples = []
    for i in range(1, REPLY_UPDATES + 1):
        chunk = full[: i * step]
        start = time.perf_counter()
        store.update_message(message_id, content=chunk)
        samples.append((time.perf_counter() - start) * 1000)
    store.update_message(message_id, state="complete")
    return [
        (
            f"update_message growing reply to {REPLY_BYTES // 1000} KB ({REPLY_UPDATES} saves)",
            f"median {statistics.median(samples):.3f} ms, "
            f"p95 {sorted(samples)[int(len(samples) * 0.95) - 1]:.3f} ms, "
            f"max {max(samples):.3f} ms per update",
        )
    ]


def _fill(store: Store) -> None:
    settings = ConversationSettings(model="llama3.2:1b")
    conn = store._conn  # bulk load in one transaction: setup speed is not what is measured
    conn.execute("BEGIN")
    try:
        for c in range(CONVERSATIONS):
            conv = store.create_conversation(settings, f"Conversation {c} about {_WORDS[c % 20]}")
            assert conv.id is not None
            for m in range(MESSAGES_PER_CONVERSATION):
                role = "user" if m % 2 == 0 else "assistant"
                length = 200 if role == "user" else 1_500
                conn.execute(
                    "INSERT INTO messages (conversation_id, role, content, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (conv.id, role, _text(c * 100 + m, length), time.time()),
                )
        # A needle that exists in exactly one message, deep in the data.
        conn.execute(
            "UPDATE messages SET content = content || ' Zebra-Unicorn-Nädel' WHERE id = ?",
            (CONVERSATIONS * MESSAGES_PER_CONVERSATION // 2,),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _bench_listing(store: Store) -> list[tuple[str, str]]:
    _fill(store)
    rows: list[tuple[str, str]] = []
    size = _SIZE
    median, worst = _timed(lambda: store.list_conversations(), repeat=20)
    assert len(store.list_conversations()) == CONVERSATIONS
    rows.append((f"list_conversations ({size})", f"median {median:.2f} ms, max {worst:.2f} ms"))
    for label, query in _SEARCHES:
        median, worst = _timed(lambda q=query: store.list_conversations(q), repeat=10)  # type: ignore[misc]
        hits = len(store.list_conversations(query))
        rows.append(
            (
                f"search {label} ({size})",
                f"median {median:.2f} ms, max {worst:.2f} ms, {hits} hits",
            )
        )
    return rows


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[tuple[str, str]] = []
        for name, bench in (("stream", _bench_streaming), ("list", _bench_listing)):
            store = Store(Path(tmp) / f"{name}.sqlite3")
            try:
                rows += bench(store)
            finally:
                store.close()
    return rows


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
