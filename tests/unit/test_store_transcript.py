"""Export and import: Markdown and JSON transcripts, validation, redaction."""

from __future__ import annotations

import json

import pytest

from launcher.core.conversation import (
    ConversationSettings,
    Message,
    ReplyVersion,
)
from launcher.core.store import (
    EXPORT_FORMAT,
    Store,
    redact_secrets,
)
from tests.unit.store_helpers import settings_ as _settings
from tests.unit.store_helpers import strip_ids as _strip_ids

# ------------------------------------------------------------------------------------------
# Export / import
# ------------------------------------------------------------------------------------------


def _rich_conversation(store: Store) -> int:
    cid = (
        store.create_conversation(
            _settings(system_prompt="You are terse.", temperature=0.2, seed=7, think=True),
            "Export me",
        ).id
        or 0
    )
    store.add_message(cid, Message(role="user", content="Explain **WAL**", images=["aW1n"]))
    store.add_message(
        cid,
        Message(
            role="assistant",
            content="Write-ahead logging.",
            thinking="The user wants a short answer.",
            stats={"eval_count": 5.0, "ttft_ms": 120.0},
        ),
    )
    store.add_message(cid, Message(role="user", content="More?"))
    store.add_message(
        cid,
        Message(
            role="assistant",
            content="",
            state="error",
            note="HTTP 401 (Authorization: Bearer sk-abcdefghijklmnopqrstuv) api_key=hunter22",
        ),
    )
    return cid


class TestExport:
    def test_markdown_contains_roles_text_and_status(self, store: Store) -> None:
        md = store.export_markdown(_rich_conversation(store))
        assert md.startswith("# Export me\n")
        for needle in (
            "## System prompt",
            "You are terse.",
            "## User",
            "Explain **WAL**",
            "## Assistant",
            "Write-ahead logging.",
            "The user wants a short answer.",
            "1 image attached",
            "llama3.2:1b",
            "temperature=0.2",
            "(error: HTTP 401",
        ):
            assert needle in md
        assert "aW1n" not in md  # images are not embedded

    def test_json_round_trip(self, store: Store) -> None:
        cid = _rich_conversation(store)
        original = store.get_conversation(cid)
        data = store.export_json(cid)
        assert data["format"] == EXPORT_FORMAT and data["version"] == 1
        # Must survive real serialisation, not just a dict copy.
        data = json.loads(json.dumps(data))
        imported = store.import_json(data)
        assert imported.id != cid
        assert imported.title == "Export me"
        assert imported.settings == original.settings
        redacted = _strip_ids(original.messages)
        redacted[-1].note = redact_secrets(redacted[-1].note)
        assert _strip_ids(imported.messages) == redacted
        assert store.list_conversations()[0].id == imported.id

    def test_exports_never_contain_api_keys(self, store: Store) -> None:
        cid = _rich_conversation(store)
        md = store.export_markdown(cid)
        text = json.dumps(store.export_json(cid))
        for out in (md, text):
            assert "sk-abcdefghijklmnopqrstuv" not in out
            assert "hunter22" not in out
            assert "[redacted]" in out
        exported = store.export_json(cid)
        settings = exported["settings"]
        assert isinstance(settings, dict)
        keys = set(exported) | set(settings)
        assert not {k for k in keys if "key" in k or "token" in k or "auth" in k}

    def test_import_without_title_uses_first_user_message(self, store: Store) -> None:
        data: dict[str, object] = {
            "format": EXPORT_FORMAT,
            "version": 1,
            "messages": [
                {"role": "user", "content": "Imported question"},
                {"role": "assistant", "content": "cut", "state": "streaming"},
            ],
        }
        conv = store.import_json(data)
        assert conv.title == "Imported question"
        assert conv.settings == ConversationSettings()
        assert conv.messages[1].state == "interrupted"

    @pytest.mark.parametrize(
        ("data", "match"),
        [
            ([1, 2], "expected a JSON object"),
            ({"format": "something-else", "version": 1, "messages": []}, "format"),
            ({"format": EXPORT_FORMAT, "messages": []}, "version"),
            ({"format": EXPORT_FORMAT, "version": True, "messages": []}, "version"),
            ({"format": EXPORT_FORMAT, "version": 99, "messages": []}, "newer"),
            ({"format": EXPORT_FORMAT, "version": 1}, "messages"),
            ({"format": EXPORT_FORMAT, "version": 1, "messages": ["hi"]}, r"messages\[0\]"),
            (
                {"format": EXPORT_FORMAT, "version": 1, "messages": [{"role": "bot"}]},
                r"messages\[0\]\.role",
            ),
            (
                {"format": EXPORT_FORMAT, "version": 1, "messages": [{"role": "user"}]},
                r"messages\[0\]\.content",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "messages": [{"role": "user", "content": 5}],
                },
                "expected a string",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "messages": [{"role": "user", "content": "x", "state": "done"}],
                },
                r"messages\[0\]\.state",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "messages": [{"role": "user", "content": "x", "images": [1]}],
                },
                "images",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "settings": {"num_ctx": "big"},
                    "messages": [],
                },
                r"settings\.num_ctx",
            ),
            (
                {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "settings": {"temperature": True},
                    "messages": [],
                },
                r"settings\.temperature",
            ),
            (
                {"format": EXPORT_FORMAT, "version": 1, "settings": [], "messages": []},
                "settings",
            ),
        ],
    )
    def test_bad_import_raises_clear_value_error(
        self, store: Store, data: object, match: str
    ) -> None:
        with pytest.raises(ValueError, match=match):
            store.import_json(data)  # type: ignore[arg-type]
        # Nothing half-imported.
        assert store.list_conversations() == []

    def test_redact_secrets(self) -> None:
        assert redact_secrets("plain error 500") == "plain error 500"
        assert "abc123secretvalue" not in redact_secrets("Bearer abc123secretvalue")
        assert "s3cr3t" not in redact_secrets('{"api_key": "s3cr3t"}')


class TestReplyVersions:
    def test_versions_survive_the_store_and_a_json_round_trip(self, store: Store) -> None:
        cid = store.create_conversation(_settings(), "versions").id or 0
        store.add_message(cid, Message("user", "q"))
        reply = Message(
            "assistant",
            "second",
            versions=[
                ReplyVersion("first", note="token=abcdefgh123", stats={"eval_count": 3.0}),
                ReplyVersion("third", state="error", note="failed"),
            ],
            version_index=1,
        )
        store.add_message(cid, reply)
        loaded = store.get_conversation(cid).messages[1]
        assert loaded.versions == reply.versions and loaded.version_index == 1
        data = store.export_json(cid)
        text = json.dumps(data)
        assert "abcdefgh123" not in text  # notes of other versions are redacted too
        imported = store.import_json(json.loads(text)).messages[1]
        assert [v.content for v in imported.versions] == ["first", "third"]
        assert imported.version_index == 1 and imported.content == "second"
        assert "(version 2 of 3)" in store.export_markdown(cid)

    @pytest.mark.parametrize(
        ("versions", "index", "match"),
        [
            ("nope", 0, r"messages\[0\]\.versions: expected a list"),
            ([{"content": 1}], 0, r"versions\[0\]\.content: expected a string"),
            ([{"content": "a"}], 5, r"version_index: 5 is outside 0\.\.1"),
            ([{"content": "a"}], True, r"version_index: expected an integer"),
        ],
    )
    def test_bad_versions_in_an_import_name_the_field(
        self, store: Store, versions: object, index: object, match: str
    ) -> None:
        data = {
            "format": EXPORT_FORMAT,
            "version": 1,
            "messages": [
                {"role": "assistant", "content": "x", "versions": versions, "version_index": index}
            ],
        }
        with pytest.raises(ValueError, match=match):
            store.import_json(data)
        assert store.list_conversations() == []
