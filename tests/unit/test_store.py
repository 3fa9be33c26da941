"""Store queries: records, opening, conversations, search, messages, durability."""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from launcher.core.conversation import (
    Conversation,
    ConversationSettings,
    Message,
    title_from,
)
from launcher.core.store import (
    NotFoundError,
    Store,
    StoreError,
)
from tests.unit.store_helpers import REPO_ROOT
from tests.unit.store_helpers import settings_ as _settings
from tests.unit.store_helpers import sha256 as _sha256

# ------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------


class TestRecords:
    def test_to_api_omits_thinking_and_empty_images(self) -> None:
        m = Message(role="assistant", content="hi", thinking="hmm")
        assert m.to_api() == {"role": "assistant", "content": "hi"}
        m2 = Message(role="user", content="look", images=["aGVsbG8="])
        assert m2.to_api() == {"role": "user", "content": "look", "images": ["aGVsbG8="]}

    def test_options_only_set_values(self) -> None:
        assert ConversationSettings().options() == {}
        s = ConversationSettings(temperature=0.0, num_ctx=4096, seed=0, keep_alive="5m", think=True)
        # 0 / 0.0 are real values, not "unset"; keep_alive and think are top-level fields.
        assert s.options() == {"temperature": 0.0, "num_ctx": 4096, "seed": 0}

    def test_api_messages_system_first_and_skips_failed_empty_replies(self) -> None:
        conv = Conversation(
            id=1,
            title="t",
            settings=ConversationSettings(system_prompt="Be brief."),
            messages=[
                Message(role="user", content="q1"),
                Message(role="assistant", content="", state="error", note="boom"),
                Message(role="user", content="q2"),
                Message(role="assistant", content="partial", state="stopped"),
            ],
        )
        assert conv.api_messages() == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "q1"},
            {"role": "user", "content": "q2"},
            {"role": "assistant", "content": "partial"},
        ]

    def test_api_messages_without_system_prompt(self) -> None:
        conv = Conversation(id=None, title="", settings=ConversationSettings(), messages=[])
        assert conv.api_messages() == []

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Hello world", "Hello world"),
            ("\n\n  first   line  \nsecond", "first line"),
            ("", ""),
            ("   \n  ", ""),
        ],
    )
    def test_title_from(self, text: str, expected: str) -> None:
        assert title_from(text) == expected

    def test_title_from_long_text_is_cut_with_ellipsis(self) -> None:
        title = title_from("word " * 40)
        assert title.endswith("…")
        assert len(title) <= 60
        assert title_from("x" * 200) == "x" * 59 + "…"


# ------------------------------------------------------------------------------------------
# Opening, paths, pragmas
# ------------------------------------------------------------------------------------------


class TestOpening:
    def test_default_path_env_override(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("OLLAMA_LAUNCHER_DATA_DIR", str(tmp_path / "x"))
        assert Store.default_path() == tmp_path / "x" / "conversations.sqlite3"

    def test_default_path_platformdirs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("OLLAMA_LAUNCHER_DATA_DIR", raising=False)
        path = Store.default_path()
        assert path.name == "conversations.sqlite3"
        assert "ollama-launcher" in str(path)

    def test_creates_parent_dirs_wal_and_version(self, store: Store, db_path: Path) -> None:
        assert db_path.parent.is_dir()
        assert store.schema_version() == Store.SCHEMA_VERSION >= 1
        other = sqlite3.connect(db_path)
        try:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert other.execute("PRAGMA user_version").fetchone()[0] == Store.SCHEMA_VERSION
        finally:
            other.close()

    def test_reopen_keeps_data(self, db_path: Path) -> None:
        s = Store(db_path)
        conv = s.create_conversation(_settings(), "keep me")
        s.close()
        s2 = Store(db_path)
        try:
            assert s2.get_conversation(conv.id or 0).title == "keep me"
        finally:
            s2.close()

    def test_close_twice_is_harmless(self, db_path: Path) -> None:
        s = Store(db_path)
        s.close()
        s.close()

    def test_not_a_database_is_refused_untouched(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True)
        db_path.write_bytes(b"this is not sqlite at all" * 100)
        before = _sha256(db_path)
        with pytest.raises(StoreError, match="not been modified"):
            Store(db_path)
        assert _sha256(db_path) == before


# ------------------------------------------------------------------------------------------
# Conversations & messages
# ------------------------------------------------------------------------------------------


class TestConversations:
    def test_create_and_get(self, store: Store) -> None:
        settings = _settings(
            system_prompt="sys",
            temperature=0.7,
            num_ctx=8192,
            seed=42,
            top_p=0.9,
            keep_alive="10m",
            think=False,
        )
        conv = store.create_conversation(settings)
        assert conv.id is not None and conv.title == "" and conv.messages == []
        loaded = store.get_conversation(conv.id)
        assert loaded.settings == settings
        assert loaded.created_at == conv.created_at

    def test_get_unknown_raises(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.get_conversation(999)

    def test_newest_first_by_activity(self, store: Store) -> None:
        a = store.create_conversation(_settings(), "A")
        b = store.create_conversation(_settings(), "B")
        assert [c.title for c in store.list_conversations()] == ["B", "A"]
        store.add_message(a.id or 0, Message(role="user", content="bump"))
        summaries = store.list_conversations()
        assert [c.title for c in summaries] == ["A", "B"]
        assert summaries[0].message_count == 1 and summaries[1].message_count == 0
        assert summaries[0].model == "llama3.2:1b"
        assert b.id in {c.id for c in summaries}

    def test_title_from_first_user_message_only(self, store: Store) -> None:
        conv = store.create_conversation(_settings())
        cid = conv.id or 0
        store.add_message(cid, Message(role="system", content="system text"))
        assert store.get_conversation(cid).title == ""
        store.add_message(cid, Message(role="user", content="How do I bake bread?\nDetails"))
        store.add_message(cid, Message(role="assistant", content="Like this"))
        store.add_message(cid, Message(role="user", content="Second question"))
        assert store.get_conversation(cid).title == "How do I bake bread?"

    def test_explicit_title_is_kept_and_rename(self, store: Store) -> None:
        conv = store.create_conversation(_settings(), "Mine")
        cid = conv.id or 0
        store.add_message(cid, Message(role="user", content="hello"))
        assert store.get_conversation(cid).title == "Mine"
        store.rename(cid, "  Renamed   chat ")
        assert store.get_conversation(cid).title == "Renamed chat"
        store.rename(cid, "")  # back to automatic
        assert store.get_conversation(cid).title == "hello"
        with pytest.raises(NotFoundError):
            store.rename(12345, "x")

    def test_update_settings(self, store: Store) -> None:
        conv = store.create_conversation(_settings(temperature=0.1))
        new = ConversationSettings(model="qwen3:0.6b", think=True, num_ctx=2048)
        store.update_settings(conv.id or 0, new)
        assert store.get_conversation(conv.id or 0).settings == new

    def test_soft_delete_undo_and_purge(self, store: Store, db_path: Path) -> None:
        keep = store.create_conversation(_settings(), "keep")
        gone = store.create_conversation(_settings(), "gone")
        gid = gone.id or 0
        store.add_message(gid, Message(role="user", content="bye"))
        store.delete_conversation(gid)
        assert [c.title for c in store.list_conversations()] == ["keep"]
        with pytest.raises(NotFoundError):
            store.get_conversation(gid)
        store.undo_delete(gid)
        assert store.get_conversation(gid).messages[0].content == "bye"
        store.delete_conversation(gid)
        assert store.purge_deleted() == 1
        assert store.purge_deleted() == 0
        with pytest.raises(NotFoundError):
            store.undo_delete(gid)
        # Messages went with it (foreign-key cascade).
        assert store._conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        assert store.get_conversation(keep.id or 0).title == "keep"


class TestSearch:
    @pytest.fixture
    def filled(self, store: Store) -> Store:
        a = store.create_conversation(_settings(), "Bread recipes")
        store.add_message(a.id or 0, Message(role="user", content="How long to proof dough?"))
        b = store.create_conversation(_settings(), "Python help")
        store.add_message(b.id or 0, Message(role="user", content="What is 100% CPU_usage?"))
        c = store.create_conversation(_settings(), "Reise")
        store.add_message(c.id or 0, Message(role="user", content="Straße nach ÜBERLINGEN"))
        return store

    def _titles(self, store: Store, query: str) -> list[str]:
        return [c.title for c in store.list_conversations(query)]

    def test_matches_title_and_text_case_insensitively(self, filled: Store) -> None:
        assert self._titles(filled, "bread") == ["Bread recipes"]
        assert self._titles(filled, "PROOF") == ["Bread recipes"]
        assert self._titles(filled, "  ") == ["Reise", "Python help", "Bread recipes"]
        assert self._titles(filled, "nothing like this") == []

    def test_wildcards_are_literal(self, filled: Store) -> None:
        assert self._titles(filled, "100%") == ["Python help"]
        assert self._titles(filled, "%") == ["Python help"]
        assert self._titles(filled, "to_proof") == []  # "_" must not match any character
        assert self._titles(filled, "CPU_") == ["Python help"]
        assert self._titles(filled, "\\") == []

    def test_non_ascii_case_folding(self, filled: Store) -> None:
        assert self._titles(filled, "überlingen") == ["Reise"]
        assert self._titles(filled, "straße") == ["Reise"]
        assert self._titles(filled, "STRAßE") == ["Reise"]
        # Known trade-off: a pure-ASCII query uses LIKE (ASCII case folding only, about twice
        # as fast), so "strasse" does not find "Straße"; see bench_store.py for the numbers.

    def test_non_ascii_query_finds_ascii_text_it_folds_to(self, store: Store) -> None:
        # ASCII text takes a fast path (lower() instead of casefold()); a query whose
        # casefold is ASCII ("ß" -> "ss", the Kelvin sign -> "k") must still find it,
        # and one that stays non-ASCII must not match ASCII text.
        street = store.create_conversation(_settings(), "Street")
        store.add_message(street.id or 0, Message(role="user", content="GROSSE Strasse 5, 3 KM"))
        assert self._titles(store, "große") == ["Street"]
        assert self._titles(store, "STRAẞE") == ["Street"]
        assert self._titles(store, "3 \u212am") == ["Street"]
        assert self._titles(store, "straße 6") == []
        assert self._titles(store, "strässe") == []

    def test_deleted_are_not_found(self, filled: Store) -> None:
        conv_id = filled.list_conversations("bread")[0].id
        filled.delete_conversation(conv_id)
        assert self._titles(filled, "bread") == []


class TestMessages:
    def test_add_update_and_order(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        user = Message(role="user", content="q", images=["aW1n"])
        uid = store.add_message(cid, user)
        assert user.id == uid
        reply = Message(role="assistant", content="", state="streaming")
        rid = store.add_message(cid, reply)
        store.update_message(rid, content="par", thinking="think")
        store.update_message(
            rid,
            content="partial answer",
            state="complete",
            stats={"eval_count": 12, "tokens_per_second": 33.5, "bad": float("nan")},
        )
        msgs = store.get_conversation(cid).messages
        assert [m.id for m in msgs] == [uid, rid]
        assert msgs[0].images == ["aW1n"]
        assert msgs[1].content == "partial answer" and msgs[1].thinking == "think"
        assert msgs[1].state == "complete"
        assert msgs[1].stats == {"eval_count": 12.0, "tokens_per_second": 33.5}

    def test_update_errors(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        mid = store.add_message(cid, Message(role="assistant", content=""))
        with pytest.raises(NotFoundError):
            store.update_message(99999, content="x")
        with pytest.raises(NotFoundError):
            store.update_message(99999)
        store.update_message(mid)  # nothing to change is fine
        with pytest.raises(ValueError, match="state"):
            store.update_message(mid, state="bogus")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="role"):
            store.add_message(cid, Message(role="robot", content=""))  # type: ignore[arg-type]

    def test_delete_messages_from(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        other = store.create_conversation(_settings()).id or 0
        ids = [
            store.add_message(cid, Message(role=r, content=str(i)))  # type: ignore[arg-type]
            for i, r in enumerate(["user", "assistant", "user", "assistant"])
        ]
        other_id = store.add_message(other, Message(role="user", content="other"))
        store.delete_messages_from(cid, ids[2])
        assert [m.content for m in store.get_conversation(cid).messages] == ["0", "1"]
        # New messages get fresh ids (never reused), so stale ids in the UI can't hit them.
        new_id = store.add_message(cid, Message(role="user", content="edited"))
        assert new_id > max(ids) and new_id > other_id
        with pytest.raises(NotFoundError):
            store.delete_messages_from(cid, other_id)  # message of another conversation
        assert store.get_conversation(other).messages[0].content == "other"

    def test_mark_interrupted(self, store: Store) -> None:
        cid = store.create_conversation(_settings()).id or 0
        a = store.add_message(cid, Message(role="assistant", content="half", state="streaming"))
        b = store.add_message(
            cid, Message(role="assistant", content="x", state="streaming", note="custom")
        )
        store.add_message(cid, Message(role="assistant", content="done"))
        assert store.mark_interrupted() == 2
        assert store.mark_interrupted() == 0
        by_id = {m.id: m for m in store.get_conversation(cid).messages}
        assert by_id[a].state == "interrupted" and by_id[a].content == "half"
        assert by_id[a].note.startswith("Interrupted")
        assert by_id[b].note == "custom"


# ------------------------------------------------------------------------------------------
# Durability: a real child process killed mid-reply
# ------------------------------------------------------------------------------------------

CHILD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from launcher.core.conversation import ConversationSettings, Message
    from launcher.core.store import Store

    store = Store(Path(sys.argv[1]))
    conv = store.create_conversation(ConversationSettings(model="m"))
    store.add_message(conv.id, Message(role="user", content="tell me a story"))
    reply = Message(role="assistant", content="", state="streaming")
    store.add_message(conv.id, reply)
    print("ready", conv.id, reply.id, flush=True)
    text = ""
    for i in range(100_000):
        text += f"token{i} "
        store.update_message(reply.id, content=text)
        print(len(text), flush=True)  # printed only after the commit returned
        time.sleep(0.005)  # pacing so the text stays small; not used for synchronisation
    """
)


def test_killed_mid_reply_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "conversations.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    committed: list[int] = []
    conv_id = reply_id = None
    try:
        while len(committed) < 20:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "child did not report enough updates in time"
            line = lines.get(timeout=remaining)
            assert line is not None, (
                f"child exited early: {proc.stderr.read() if proc.stderr else ''}"
            )
            if line.startswith("ready"):
                _, conv_id_s, reply_id_s = line.split()
                conv_id, reply_id = int(conv_id_s), int(reply_id_s)
            else:
                committed.append(int(line))
    finally:
        proc.kill()  # SIGKILL on POSIX: no cleanup, no atexit, no close()
        proc.wait(timeout=30)
    reader.join(timeout=30)
    # Lines still in the pipe were also printed after their commit: include them.
    while True:
        line = lines.get_nowait() if not lines.empty() else None
        if line is None:
            break
        if line.endswith("\n") and line.strip().isdigit():
            committed.append(int(line))
    assert proc.stderr is not None
    proc.stderr.close()
    assert conv_id is not None and reply_id is not None

    s = Store(db)
    try:
        conv = s.get_conversation(conv_id)
        reply = next(m for m in conv.messages if m.id == reply_id)
        assert len(reply.content) >= committed[-1]
        assert reply.content.startswith("token0 token1 ")
        assert reply.state == "streaming"
        assert s.mark_interrupted() == 1
        reply = next(m for m in s.get_conversation(conv_id).messages if m.id == reply_id)
        assert reply.state == "interrupted"
        assert len(reply.content) >= committed[-1]
    finally:
        s.close()
