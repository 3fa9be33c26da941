"""The single writer: SQLite only on its worker thread, order kept, errors surfaced."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from launcher.core.conversation import (
    Conversation,
    Message,
)
from launcher.core.store import (
    SchemaTooNewError,
    Store,
)
from launcher.core.store_async import AsyncStore
from tests.unit.store_helpers import make_v1_db as _make_v1_db
from tests.unit.store_helpers import settings_ as _settings

# ------------------------------------------------------------------------------------------
# AsyncStore
# ------------------------------------------------------------------------------------------


class TracingStore(Store):
    """Records the thread of every SQL statement the connection runs."""

    statement_threads: set[int]

    def _connect(self, path: Path) -> sqlite3.Connection:
        self.statement_threads = set()
        conn = super()._connect(path)
        conn.set_trace_callback(lambda _sql: self.statement_threads.add(threading.get_ident()))
        return conn


class TestAsyncStore:
    def test_sqlite_never_runs_on_the_event_loop_thread(self, db_path: Path) -> None:
        created: list[TracingStore] = []

        def factory(path: Path) -> Store:
            s = TracingStore(path)
            created.append(s)
            return s

        async def scenario() -> tuple[int, set[int]]:
            astore = AsyncStore(db_path, store_factory=factory)
            conv = await astore.create_conversation(_settings(), "async")
            cid = conv.id or 0
            msg = Message(role="assistant", content="", state="streaming")
            mid = await astore.add_message(cid, msg)
            assert msg.id == mid
            await astore.update_message(mid, content="hello", stats={"eval_count": 1})
            assert (await astore.list_conversations("async"))[0].id == cid
            assert (await astore.get_conversation(cid)).messages[0].content == "hello"
            assert await astore.mark_interrupted() == 1
            assert "hello" in await astore.export_markdown(cid)
            data = await astore.export_json(cid)
            await astore.import_json(data)
            await astore.rename(cid, "renamed")
            await astore.update_settings(cid, _settings(seed=1))
            await astore.delete_messages_from(cid, mid)
            await astore.delete_conversation(cid)
            await astore.undo_delete(cid)
            await astore.delete_conversation(cid)
            assert await astore.purge_deleted() == 1
            assert await astore.schema_version() == Store.SCHEMA_VERSION
            threads = set(created[0].statement_threads)
            await astore.aclose()
            await astore.aclose()
            with pytest.raises(RuntimeError, match="closed"):
                await astore.list_conversations()
            return threading.get_ident(), threads

        loop_thread, threads = asyncio.run(scenario())
        assert threads, "no statements traced"
        assert loop_thread not in threads
        assert len(threads) == 1  # one dedicated worker, so writes keep their order

    def test_slow_call_does_not_block_the_loop(self, db_path: Path) -> None:
        gate = threading.Event()

        class SlowStore(Store):
            def list_conversations(self, search: str = "") -> list:  # type: ignore[type-arg]
                # Only finishes once the event loop has run something else meanwhile.
                assert gate.wait(timeout=10), "event loop was blocked"
                return super().list_conversations(search)

        async def scenario() -> None:
            astore = AsyncStore(db_path, store_factory=SlowStore)
            await astore.open()
            pending = asyncio.ensure_future(astore.list_conversations())
            await asyncio.sleep(0)  # let the call be submitted
            gate.set()  # runs on the loop thread while the worker is inside the call
            assert await asyncio.wait_for(pending, timeout=10) == []
            await astore.aclose()

        asyncio.run(scenario())

    def test_writes_keep_issue_order_and_survive_caller_mutation(self, db_path: Path) -> None:
        async def scenario() -> Conversation:
            astore = AsyncStore(db_path)
            cid = (await astore.create_conversation(_settings())).id or 0
            msg = Message(role="assistant", content="", state="streaming")
            add = asyncio.ensure_future(astore.add_message(cid, msg))
            await asyncio.sleep(0)
            msg.content = "mutated after submit"  # must not race with the insert
            mid = await add
            # Fire many updates without awaiting each: the last one issued must win.
            updates = [astore.update_message(mid, content="x" * i) for i in range(1, 51)]
            await asyncio.gather(*updates)
            conv = await astore.get_conversation(cid)
            await astore.aclose()
            return conv

        conv = asyncio.run(scenario())
        assert conv.messages[0].content == "x" * 50

    def test_open_surfaces_errors(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA user_version = 999")
        conn.commit()
        conn.close()

        async def scenario() -> None:
            astore = AsyncStore(db_path)
            with pytest.raises(SchemaTooNewError):
                await astore.open()
            await astore.aclose()

        asyncio.run(scenario())

    def test_close_blocking(self, db_path: Path) -> None:
        async def scenario() -> AsyncStore:
            astore = AsyncStore(db_path)
            await astore.create_conversation(_settings(), "sync close")
            return astore

        astore = asyncio.run(scenario())
        astore.close_blocking()
        astore.close_blocking()
        s = Store(db_path)
        try:
            assert [c.title for c in s.list_conversations()] == ["sync close"]
        finally:
            s.close()
