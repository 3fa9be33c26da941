"""JSON export and import carry a conversation's switches and its branch link, strictly checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from launcher.core.conversation import Message
from launcher.core.features import ChatFeatures
from launcher.core.store import Store
from launcher.core.transcript import BUNDLE_FORMAT
from tests.unit.store_helpers import settings_


def _chat(store: Store, title: str, parent: int | None = None, **switches: bool) -> int:
    settings = settings_(features=ChatFeatures(**switches))
    conv_id = store.create_conversation(settings, title, parent_id=parent).id
    assert conv_id is not None
    store.add_message(conv_id, Message("user", f"{title}?"))
    store.add_message(conv_id, Message("assistant", f"{title}!"))
    return conv_id


def _through_a_file(data: dict[str, object]) -> Any:
    return json.loads(json.dumps(data))


def test_the_switches_and_the_branch_link_are_exported(store: Store) -> None:
    parent = _chat(store, "Parent")
    branch = _chat(store, "Branch", parent, web_search=True, logprobs=True)
    data = store.export_json(branch)
    assert data["id"] == branch and data["parent_id"] == parent
    assert data["parent_created_at"] == store.get_conversation(parent).created_at
    features = data["settings"]["features"]  # type: ignore[index]
    assert features == {
        "web_search": True,
        "web_fetch": False,
        "calculator": False,
        "logprobs": True,
        "tint": False,
    }


def test_an_import_brings_the_switches_back(store: Store) -> None:
    data = _through_a_file(store.export_json(_chat(store, "Tools", calculator=True, tint=True)))
    result = store.import_bundle(data)
    (imported,) = result.conversations
    assert imported.settings.features == ChatFeatures(calculator=True, tint=True)
    assert store.get_conversation(imported.id or 0).settings.features.calculator
    assert result.notes == []


def test_an_unknown_switch_is_dropped_with_a_note(store: Store) -> None:
    data = _through_a_file(store.export_json(_chat(store, "Future", web_fetch=True)))
    data["settings"]["features"]["teleport"] = True
    result = store.import_bundle(data)
    assert result.conversations[0].settings.features == ChatFeatures(web_fetch=True)
    assert result.notes == [
        "“Future”: the switch “teleport” is not known to this launcher and was left off."
    ]


@pytest.mark.parametrize(
    ("features", "complaint"),
    [
        ("on", r"settings\.features: expected an object"),
        ({"web_search": 1}, r"settings\.features\.web_search: expected true or false"),
    ],
)
def test_switches_that_are_not_true_or_false_refuse_the_file(
    store: Store, features: object, complaint: str
) -> None:
    data = _through_a_file(store.export_json(_chat(store, "Bad")))
    data["settings"]["features"] = features
    with pytest.raises(ValueError, match=complaint):
        store.import_bundle(data)
    assert len(store.list_conversations()) == 1


@pytest.mark.parametrize("order", ["parent first", "branch first"])
def test_a_parent_and_its_branch_in_one_file_stay_linked_through_the_new_ids(
    tmp_path: Path, order: str
) -> None:
    source = Store(tmp_path / "a" / "conversations.sqlite3")
    parent = _chat(source, "Parent")
    branch = _chat(source, "Branch", parent)
    bundle = _through_a_file(source.export_bundle([parent, branch]))
    source.close()
    assert bundle["format"] == BUNDLE_FORMAT
    if order == "branch first":
        bundle["conversations"].reverse()
    target = Store(tmp_path / "b" / "conversations.sqlite3")
    try:
        for title in ("Already here", "And here"):
            _chat(target, title)  # the new ids differ from the exported ones
        result = target.import_bundle(bundle)
        by_title = {c.title: c for c in result.conversations}
        assert by_title["Branch"].parent_id == by_title["Parent"].id
        assert by_title["Parent"].parent_id is None
        assert by_title["Parent"].id not in (parent, branch)
        assert result.notes == []
    finally:
        target.close()


def test_a_branch_whose_parent_is_here_keeps_its_link(store: Store) -> None:
    parent = _chat(store, "Parent")
    branch = _chat(store, "Branch", parent)
    data = _through_a_file(store.export_json(branch))
    store.delete_conversation(branch)
    store.purge_deleted()
    imported = store.import_json(data)
    assert imported.parent_id == parent


def test_a_branch_whose_parent_is_gone_is_imported_on_its_own(store: Store) -> None:
    parent = _chat(store, "Parent")
    data = _through_a_file(store.export_json(_chat(store, "Branch", parent)))
    store.delete_conversation(parent)
    store.purge_deleted()
    result = store.import_bundle(data)
    assert result.conversations[0].parent_id is None
    assert result.notes == [
        "“Branch” was a branch of a conversation that is neither in this file nor here, "
        "so it is imported on its own."
    ]


def test_a_parent_id_naming_another_conversation_here_is_not_trusted(tmp_path: Path) -> None:
    source = Store(tmp_path / "a" / "conversations.sqlite3")
    parent = _chat(source, "Their parent")
    data = _through_a_file(source.export_json(_chat(source, "Their branch", parent)))
    source.close()
    target = Store(tmp_path / "b" / "conversations.sqlite3")
    try:
        stranger = _chat(target, "Mine")  # same id as their parent, another conversation
        assert stranger == parent
        result = target.import_bundle(data)
        assert result.conversations[0].parent_id is None
        assert len(result.notes) == 1
    finally:
        target.close()


def test_links_that_go_round_in_a_circle_are_dropped(store: Store) -> None:
    one, two = _chat(store, "One"), _chat(store, "Two")
    bundle = _through_a_file(store.export_bundle([one, two]))
    bundle["conversations"][0]["parent_id"] = two
    bundle["conversations"][1]["parent_id"] = one
    result = store.import_bundle(bundle)
    parents = [c.parent_id for c in result.conversations]
    assert parents.count(None) == 1  # one link kept, the one closing the circle dropped
    assert any("circle" in note for note in result.notes)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda b: b["conversations"][1].update(id=b["conversations"][0]["id"]), "same 'id'"),
        (lambda b: b["conversations"][1].update(parent_id="1"), r"conversations\[1\]: export"),
        (lambda b: b["conversations"][1]["messages"][0].update(role="x"), r"\[1\]: messages"),
        (lambda b: b.update(conversations=[]), "non-empty list"),
    ],
)
def test_a_bad_bundle_imports_nothing(store: Store, change: Any, complaint: str) -> None:
    bundle = _through_a_file(store.export_bundle([_chat(store, "A"), _chat(store, "B")]))
    change(bundle)
    with pytest.raises(ValueError, match=complaint):
        store.import_bundle(bundle)
    assert len(store.list_conversations()) == 2


def test_the_family_of_a_conversation_is_it_and_its_branches(store: Store) -> None:
    parent = _chat(store, "Parent")
    branch = _chat(store, "Branch", parent)
    twig = _chat(store, "Twig", branch)
    _chat(store, "Unrelated")
    assert store.family(parent) == [parent, branch, twig]
    assert store.family(branch) == [branch, twig]
