"""A reply's tool steps and token probabilities are kept: stored, migrated, bounded, exported."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import ClassVar

import pytest

from launcher.core.conversation import Message, ReplyVersion
from launcher.core.extras_json import MAX_STORED_RESULT_CHARS, MAX_STORED_TOKENS
from launcher.core.store import Store
from launcher.core.store_schema import MIGRATIONS
from launcher.core.toolloop import ToolStep
from launcher.core.tools import ToolResult
from launcher.ollama import Logprob
from launcher.ollama.types import TokenLogprob
from tests.unit.store_helpers import settings_


def _steps() -> list[ToolStep]:
    search = ToolStep(
        "web_search",
        {"query": "ollama 0.12"},
        ToolResult("web_search", {}, "1. Ollama 0.12 — https://ollama.com/"),
    )
    failed = ToolStep(
        "web_fetch",
        {"url": "https://example.com"},
        ToolResult("web_fetch", {}, "The page could not be read.", ok=False, details="api_key=abc"),
    )
    stopped = ToolStep("calculator", {"expression": "6*7"})  # Stop ended it mid-run
    return [search, failed, stopped]


def _tokens() -> list[Logprob]:
    alternatives = (TokenLogprob("Paris", -0.0101), TokenLogprob("Lyon", -4.6052))
    return [
        Logprob("Paris", -0.0101, (80, 97), alternatives),
        Logprob(" is", -0.5, top_logprobs=(TokenLogprob(" is", -0.5),)),
    ]


def _reply(**extra: object) -> Message:
    return Message(
        role="assistant",
        content="Paris is",
        tool_steps=_steps(),
        tokens=_tokens(),
        **extra,  # type: ignore[arg-type]
    )


def _conversation(store: Store, reply: Message) -> int:
    conv_id = store.create_conversation(settings_(), "Extras").id
    assert conv_id is not None
    store.add_message(conv_id, Message(role="user", content="Capital of France?"))
    store.add_message(conv_id, reply)
    return conv_id


def test_tool_steps_and_token_probabilities_survive_closing_the_database(db_path: Path) -> None:
    store = Store(db_path)
    conv_id = _conversation(store, _reply())
    store.close()
    again = Store(db_path)
    try:
        reply = again.get_conversation(conv_id).messages[1]
    finally:
        again.close()
    assert [(s.name, s.arguments) for s in reply.tool_steps] == [
        (s.name, s.arguments) for s in _steps()
    ]
    first, failed, stopped = reply.tool_steps
    assert first.result is not None and first.result.content.startswith("1. Ollama 0.12")
    assert failed.result is not None and not failed.result.ok
    assert stopped.result is None
    # Compact: the token text, its logprob and the alternatives; bytes are not kept.
    assert [(t.token, t.logprob) for t in reply.tokens] == [("Paris", -0.0101), (" is", -0.5)]
    assert reply.tokens[0].top_logprobs == (
        TokenLogprob("Paris", -0.0101),
        TokenLogprob("Lyon", -4.6052),
    )


def test_they_are_written_when_a_streamed_reply_ends(store: Store) -> None:
    reply = Message(role="assistant", content="", state="streaming")
    conv_id = _conversation(store, reply)
    assert reply.id is not None
    assert store.get_conversation(conv_id).messages[1].tool_steps == []
    store.update_message(reply.id, content="Paris is", state="complete", tool_steps=_steps())
    store.update_message(reply.id, tokens=_tokens())
    saved = store.get_conversation(conv_id).messages[1]
    assert [s.name for s in saved.tool_steps] == ["web_search", "web_fetch", "calculator"]
    assert len(saved.tokens) == 2 and saved.content == "Paris is"


def test_token_probabilities_and_tool_results_are_bounded(store: Store) -> None:
    many = [Logprob(f" w{i}", -0.123456789) for i in range(MAX_STORED_TOKENS + 500)]
    huge = ToolStep("web_fetch", {"url": "u"}, ToolResult("web_fetch", {}, "x" * 50_000))
    conv_id = _conversation(store, Message("assistant", "long", tool_steps=[huge], tokens=many))
    saved = store.get_conversation(conv_id).messages[1]
    assert len(saved.tokens) == MAX_STORED_TOKENS
    assert saved.tokens[0].logprob == -0.1235  # rounded: 4 places are plenty for a popup
    result = saved.tool_steps[0].result
    assert result is not None and len(result.content) < MAX_STORED_RESULT_CHARS + 40
    assert result.content.endswith("(cut when saved)")


def test_reply_versions_keep_their_own_steps_and_probabilities(store: Store) -> None:
    older = ReplyVersion("Lyon?", tool_steps=_steps()[:1], tokens=_tokens()[:1])
    conv_id = _conversation(store, Message("assistant", "Paris", versions=[older]))
    (version,) = store.get_conversation(conv_id).messages[1].versions
    assert [s.name for s in version.tool_steps] == ["web_search"]
    assert [t.token for t in version.tokens] == ["Paris"]


@pytest.mark.parametrize("damaged", ["{broken", "[[5, -1.0, []]]", '[["a", "b", []]]', '{"a": 1}'])
def test_an_unreadable_value_loses_only_the_extras_never_the_message(
    store: Store, db_path: Path, damaged: str
) -> None:
    conv_id = _conversation(store, _reply())
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE messages SET tokens = ? WHERE role = 'assistant'", (damaged,))
    raw.commit()
    raw.close()
    reply = store.get_conversation(conv_id).messages[1]
    assert reply.content == "Paris is"
    assert reply.tokens == [] and reply.tool_steps == []


class _V3Store(Store):
    """The launcher before tool steps were stored (schema version 3)."""

    MIGRATIONS: ClassVar[tuple[str, ...]] = MIGRATIONS[:3]
    SCHEMA_VERSION: ClassVar[int] = 3


def test_a_version_3_database_gains_the_columns_after_a_backup(db_path: Path) -> None:
    old = _V3Store(db_path)
    conv_id = old.create_conversation(settings_(), "Before").id
    assert conv_id is not None
    old.close()
    raw = sqlite3.connect(db_path)  # a message as the version 3 launcher wrote it
    raw.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at)"
        " VALUES (?, 'assistant', 'kept', 1.0)",
        (conv_id,),
    )
    raw.commit()
    raw.close()
    store = Store(db_path)
    try:
        assert store.schema_version() == len(MIGRATIONS) == 4
        (message,) = store.get_conversation(conv_id).messages
        assert message.content == "kept" and message.tool_steps == [] and message.tokens == []
    finally:
        store.close()
    assert db_path.with_name(db_path.name + ".v3.bak").exists()
    assert any("v3" in p.name for p in (db_path.parent / "backups").iterdir())


def test_the_markdown_export_shows_each_tool_step_and_its_result(store: Store) -> None:
    text = store.export_markdown(_conversation(store, _reply()))
    assert '<details><summary>Tool: web_search: "ollama 0.12"</summary>' in text
    assert "```text\n1. Ollama 0.12 — https://ollama.com/\n```" in text
    assert 'Tool: web_fetch: "https://example.com" (failed)' in text
    assert 'Tool: calculator: "6*7" (stopped)' in text
    assert text.index("Tool: web_search") < text.index("Paris is")  # the steps come first


def test_a_result_with_backticks_cannot_break_out_of_its_block(store: Store) -> None:
    sneaky = ToolStep("web_fetch", {"url": "u"}, ToolResult("web_fetch", {}, "```\n# Not mine"))
    text = store.export_markdown(
        _conversation(store, Message("assistant", "ok", tool_steps=[sneaky]))
    )
    assert "````text\n```\n# Not mine\n````" in text


def test_the_json_export_carries_them_and_an_import_brings_them_back(store: Store) -> None:
    data = store.export_json(_conversation(store, _reply()))
    entry = data["messages"][1]  # type: ignore[index]
    assert [s["name"] for s in entry["tool_steps"]] == ["web_search", "web_fetch", "calculator"]
    assert entry["tool_steps"][1]["result"]["details"] == "api_key=[redacted]"
    assert entry["tokens"][0] == ["Paris", -0.0101, [["Paris", -0.0101], ["Lyon", -4.6052]]]
    imported = store.import_json(json.loads(json.dumps(data))).messages[1]
    assert [s.title() for s in imported.tool_steps] == [s.title() for s in _steps()]
    assert [t.token for t in imported.tokens] == ["Paris", " is"]


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("tool_steps", "nope", "messages[1].tool_steps: expected a list"),
        ("tool_steps", [{"arguments": {}}], "messages[1].tool_steps[0].name"),
        ("tool_steps", [{"name": "x", "result": {"ok": "yes"}}], "ok and ran"),
        ("tokens", [["a", "b", []]], "messages[1].tokens[0]: expected [token, logprob]"),
        ("tokens", [["a", -1.0]], "expected [token, logprob, alternatives]"),
    ],
)
def test_an_import_with_bad_extras_is_refused_naming_the_field(
    store: Store, field: str, value: object, complaint: str
) -> None:
    data = store.export_json(_conversation(store, _reply()))
    data["messages"][1][field] = value  # type: ignore[index]
    before = len(store.list_conversations())
    with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        store.import_json(data)
    assert len(store.list_conversations()) == before  # nothing half-imported


def test_only_replies_may_carry_extras_in_an_import(store: Store) -> None:
    data = store.export_json(_conversation(store, _reply()))
    data["messages"][0]["tool_steps"] = data["messages"][1]["tool_steps"]  # type: ignore[index]
    with pytest.raises(ValueError, match="only replies"):
        store.import_json(data)
