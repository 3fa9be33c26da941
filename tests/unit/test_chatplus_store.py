"""The conversation store keeps each conversation's switches and the conversation a branch
came from; an old database gains both (off, none) when it is migrated."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from launcher.core.conversation import Conversation, ConversationSettings, Message
from launcher.core.features import ChatFeatures
from launcher.core.history import ConversationHistory
from launcher.core.store import Store
from tests.unit.store_helpers import make_v1_db


def test_switches_and_the_parent_are_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.sqlite3")
    try:
        settings = ConversationSettings(model="qwen3", features=ChatFeatures(web_search=True))
        parent = store.create_conversation(settings, "Trip")
        assert parent.id is not None
        store.add_message(parent.id, Message("user", "Plan Lyon"))
        child = store.create_conversation(
            ConversationSettings(model="qwen3"), "Trip (branch)", parent.id
        )
        assert child.id is not None and child.parent_id == parent.id
        loaded = store.get_conversation(parent.id)
        assert loaded.settings.features == ChatFeatures(web_search=True)
        assert loaded.parent_id is None
        loaded.settings.features.logprobs = True
        store.update_settings(parent.id, loaded.settings)
        again = store.get_conversation(parent.id).settings.features
        assert again == ChatFeatures(web_search=True, logprobs=True)
        rows = {s.id: s.parent_id for s in store.list_conversations()}
        assert rows == {parent.id: None, child.id: parent.id}
        assert store.get_conversation(child.id).parent_id == parent.id
    finally:
        store.close()


def test_an_old_database_is_migrated_with_everything_off(tmp_path: Path) -> None:
    path = tmp_path / "data" / "conversations.sqlite3"
    path.parent.mkdir()
    make_v1_db(path)
    store = Store(path)
    try:
        conv = store.get_conversation(1)
        assert conv.settings.features == ChatFeatures()
        assert conv.parent_id is None
        assert store.schema_version() == Store.SCHEMA_VERSION
    finally:
        store.close()


async def test_a_branch_is_saved_at_once_linked_to_its_parent(
    qloop: Any, isolated_env: Path
) -> None:
    history = ConversationHistory()
    await history.open()
    try:
        parent = Conversation(None, "Trip", ConversationSettings(model="qwen3"))
        parent.messages = [Message("user", "Plan Lyon"), Message("assistant", "Day 1")]
        await history.save_new(parent)
        assert parent.id is not None and all(m.id is not None for m in parent.messages)
        branch = Conversation(
            None,
            "Trip (branch)",
            ConversationSettings(model="qwen3", features=ChatFeatures(calculator=True)),
            [Message("user", "Plan Lyon")],
            parent_id=parent.id,
        )
        await history.save_new(branch)
        rows = {s.title: s.parent_id for s in history.summaries}
        assert rows == {"Trip": None, "Trip (branch)": parent.id}
        loaded = await history.load(branch.id or 0)
        assert loaded is not None and loaded.parent_id == parent.id
        assert loaded.settings.features.calculator
        assert [m.content for m in loaded.messages] == ["Plan Lyon"]
    finally:
        await history.aclose()
    gc.collect()
