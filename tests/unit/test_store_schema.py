"""Schema and migrations: versions, refusal of newer files, rollback, backups first."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from launcher.core.conversation import (
    ConversationSettings,
    Message,
    ReplyVersion,
)
from launcher.core.store import (
    CorruptDatabaseError,
    SchemaTooNewError,
    Store,
    StoreError,
)
from tests.unit.store_helpers import make_v1_db as _make_v1_db
from tests.unit.store_helpers import sha256 as _sha256

# ------------------------------------------------------------------------------------------
# Migrations
# ------------------------------------------------------------------------------------------


class TestMigrations:
    def test_open_v1_database_created_by_raw_sql(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        s = Store(db_path)
        try:
            assert s.schema_version() == Store.SCHEMA_VERSION
            conv = s.get_conversation(1)
            assert conv.title == "old chat"
            assert conv.settings.model == "llama3.2:1b"
            assert conv.settings.temperature == 0.5
            assert conv.settings.think is True
            assert [m.content for m in conv.messages] == ["hello from v1", "partial"]
            assert conv.messages[1].stats == {"eval_count": 3.0}
            assert s.mark_interrupted() == 1
            # Still writable after migration.
            s.add_message(1, Message(role="user", content="new"))
            assert [c.title for c in s.list_conversations()] == ["old chat"]
        finally:
            s.close()

    @pytest.mark.parametrize("start", ["empty", "v1"])
    def test_connections_opening_at_once_migrate_once(self, tmp_path: Path, start: str) -> None:
        # The window's store, a backup and a reader may open a new or old file at the
        # same moment: each reads the version before the write lock, so the later ones
        # must notice that the step was done meanwhile instead of failing on it. Several
        # rounds: the switch to write-ahead logging lost one opener in about 25.
        for round_ in range(30):
            db_path = tmp_path / f"round{round_}" / "conversations.sqlite3"
            if start == "v1":
                _make_v1_db(db_path)
            barrier = threading.Barrier(6)
            errors: list[BaseException] = []

            def open_store(
                path: Path = db_path,
                barrier: threading.Barrier = barrier,
                errors: list[BaseException] = errors,
            ) -> None:
                barrier.wait()
                try:
                    Store(path).close()
                except BaseException as exc:  # reported below
                    errors.append(exc)

            threads = [threading.Thread(target=open_store) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert errors == [], f"round {round_}"
            s = Store(db_path)
            try:
                assert s.schema_version() == Store.SCHEMA_VERSION
            finally:
                s.close()

    def test_newer_schema_is_refused_without_touching_the_file(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        conn = sqlite3.connect(db_path)
        conn.execute(f"PRAGMA user_version = {Store.SCHEMA_VERSION + 5}")
        conn.commit()
        conn.close()
        before = _sha256(db_path)
        with pytest.raises(SchemaTooNewError) as info:
            Store(db_path)
        message = str(info.value)
        assert f"schema version {Store.SCHEMA_VERSION + 5}" in message
        assert "newer launcher" in message
        assert _sha256(db_path) == before
        assert not Path(str(db_path) + "-wal").exists()

    def test_next_migration_is_applied_with_backup(self, db_path: Path) -> None:
        _make_v1_db(db_path)

        class StoreV2(Store):
            MIGRATIONS = (*Store.MIGRATIONS, "ALTER TABLE conversations ADD COLUMN pinned INTEGER;")

        s = StoreV2(db_path)
        try:
            assert s.schema_version() == len(StoreV2.MIGRATIONS)
            assert s.get_conversation(1).title == "old chat"
        finally:
            s.close()
        backup = db_path.with_name(db_path.name + ".v1.bak")
        assert backup.exists()
        conn = sqlite3.connect(backup)
        try:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        finally:
            conn.close()

    def test_failing_migration_rolls_back_completely(self, db_path: Path) -> None:
        _make_v1_db(db_path)

        class BrokenV2(Store):
            MIGRATIONS = (
                *Store.MIGRATIONS,
                "ALTER TABLE conversations ADD COLUMN pinned INTEGER;\n"
                "DELETE FROM messages;\n"
                "THIS IS NOT SQL;",
            )

        with pytest.raises(StoreError):
            BrokenV2(db_path)
        s = Store(db_path)
        try:
            assert s.schema_version() == Store.SCHEMA_VERSION  # the good steps stay
            assert len(s.get_conversation(1).messages) == 2
            columns = [r[1] for r in s._conn.execute("PRAGMA table_info(conversations)")]
            assert "pinned" not in columns
        finally:
            s.close()


class TestMigrationSafety:
    def test_v1_file_gains_reply_versions_with_copies_first(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        s = Store(db_path)
        try:
            reply = s.get_conversation(1).messages[1]
            assert reply.versions == [] and reply.version_index == 0
            versions = [ReplyVersion("first try", state="stopped", stats={"eval_count": 2.0})]
            s.update_message(reply.id or 0, versions=versions, version_index=1)
            again = s.get_conversation(1).messages[1]
            assert again.versions == versions
            assert again.version_index == 1 and again.version_count == 2
        finally:
            s.close()
        assert db_path.with_name(db_path.name + ".v1.bak").exists()
        copies = list((db_path.parent / "backups").glob("conversations-*-v1.sqlite3"))
        assert len(copies) == 1
        conn = sqlite3.connect(copies[0])
        try:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
        finally:
            conn.close()

    def test_a_table_rebuild_never_cascades_into_messages(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        # The table as the current schema defines it (later migrations add columns).
        fresh = Store(db_path.with_name("fresh.sqlite3"))
        try:
            (create,) = fresh._conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'conversations'"
            ).fetchone()
        finally:
            fresh.close()
        create = create.replace("CREATE TABLE conversations", "CREATE TABLE conversations_new")
        rebuild = f"""
        {create};
        INSERT INTO conversations_new SELECT * FROM conversations;
        DROP TABLE conversations;
        ALTER TABLE conversations_new RENAME TO conversations;
        """

        class Rebuilt(Store):
            MIGRATIONS = (*Store.MIGRATIONS, rebuild)

        s = Rebuilt(db_path)
        try:
            assert [m.content for m in s.get_conversation(1).messages] == [
                "hello from v1",
                "partial",
            ]
            assert s._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # on again
        finally:
            s.close()

    def test_a_migration_leaving_orphans_is_rolled_back(self, db_path: Path) -> None:
        _make_v1_db(db_path)
        orphan = (
            "INSERT INTO messages (conversation_id, role, content, created_at)"
            " VALUES (999, 'user', 'nobody', 1.0);"
        )

        class Orphaning(Store):
            MIGRATIONS = (*Store.MIGRATIONS, orphan)

        with pytest.raises(StoreError, match="rolled back"):
            Orphaning(db_path)
        s = Store(db_path)
        try:
            assert s.schema_version() == Store.SCHEMA_VERSION
            count = s._conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            assert count == 2
        finally:
            s.close()


class TestDamage:
    def test_damaged_pages_are_found_at_open_and_the_file_is_untouched(self, db_path: Path) -> None:
        s = Store(db_path)
        conv = s.create_conversation(ConversationSettings(model="m"), "t")
        for i in range(300):
            s.add_message(conv.id or 0, Message("user", f"message {i} " * 40))
        s.close()
        data = bytearray(db_path.read_bytes())
        page = 4096
        for offset in range(2 * page, min(len(data), 6 * page)):  # smash b-tree pages
            data[offset] = 0xA5
        db_path.write_bytes(bytes(data))
        before = _sha256(db_path)
        with pytest.raises(CorruptDatabaseError, match="not been modified"):
            Store(db_path)
        assert _sha256(db_path) == before
