"""Reading a conversation export back in: strict validation of every field, before anything
is written.

A bad file raises `ValueError` naming the offending field (``messages[3].state``)
and never half-imports. What this launcher does not know but can safely leave
out (a per-conversation switch of a newer launcher) is dropped with a note the
user is shown, instead of refusing the whole file. A file holds one
conversation (`EXPORT_FORMAT`) or several (`BUNDLE_FORMAT`), each with the id it
had and the id of the conversation it branched from, so the store can keep a
parent's link to its branch through the new ids.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, cast

from launcher.core import extras_json
from launcher.core.conversation import (
    MESSAGE_STATES,
    ROLES,
    ConversationSettings,
    Message,
    MessageState,
    ReplyVersion,
    title_from,
)
from launcher.core.features import ChatFeatures
from launcher.core.transcript import (
    BUNDLE_FORMAT,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    INTERRUPTED_NOTE,
)

#: The switches this launcher knows (the fields of ChatFeatures).
FEATURE_NAMES = frozenset(f.name for f in fields(ChatFeatures))


@dataclass
class ParsedExport:
    """One conversation of an import file, validated.

    Attributes:
        source_id: its id in the launcher that exported it (None: not given).
        parent_id: the id, in that launcher, of the conversation it branched from.
        parent_created_at: when that parent was created (tells it from another
            conversation that has the same id here).
        notes: what was left out, for the user ("the switch 'x' is unknown…").
    """

    settings: ConversationSettings
    title: str
    created_at: float | None
    messages: list[Message]
    source_id: int | None = None
    parent_id: int | None = None
    parent_created_at: float | None = None
    notes: list[str] = field(default_factory=list)


def parse_versions(raw: object, where: str) -> list[ReplyVersion]:
    """`versions_to_json` output back into records; ValueError naming the bad field."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{where}.versions: expected a list")
    out: list[ReplyVersion] = []
    for i, item in enumerate(raw):
        here = f"{where}.versions[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{here}: expected an object")
        state = _get_state(item, here)
        if state == "streaming":
            state = "interrupted"
        created_at = _get_time(item, "created_at", here)
        out.append(
            ReplyVersion(
                content=_get_str(item, "content", here),
                thinking=_get_str(item, "thinking", here),
                state=state,
                note=_get_str(item, "note", here),
                stats=_get_stats(item, here),
                created_at=time.time() if created_at is None else created_at,
                tool_steps=extras_json.parse_steps(item.get("tool_steps"), here),
                tokens=extras_json.parse_tokens(item.get("tokens"), here),
            )
        )
    return out


def check_version_index(index: object, versions: list[ReplyVersion], where: str) -> int:
    """A valid position of the shown reply among ``len(versions) + 1`` versions."""
    if index is None:
        return len(versions)
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"{where}.version_index: expected an integer, got {index!r}")
    if not 0 <= index <= len(versions):
        raise ValueError(
            f"{where}.version_index: {index} is outside 0..{len(versions)} (the versions kept)"
        )
    return index


# -- import ---------------------------------------------------------------------------------------


def parse_bundle(data: object) -> list[ParsedExport]:
    """Validate an import file: one export, or a bundle of several; ValueError if bad."""
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        return [parse_export(data)]
    _check_version(data)
    raw = data.get("conversations")
    if not isinstance(raw, list) or not raw:
        raise ValueError("Invalid export: 'conversations' should be a non-empty list")
    parsed: list[ParsedExport] = []
    for i, item in enumerate(raw):
        try:
            parsed.append(parse_export(item))
        except ValueError as exc:
            raise ValueError(f"conversations[{i}]: {exc}") from None
    ids = [p.source_id for p in parsed if p.source_id is not None]
    if len(ids) != len(set(ids)):
        raise ValueError("Invalid export: two conversations have the same 'id'")
    return parsed


def _check_version(data: Mapping[str, object]) -> None:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"Invalid export: 'version' should be a positive integer, got {version!r}")
    if version > EXPORT_VERSION:
        raise ValueError(
            f"This export uses format version {version}, newer than this launcher understands "
            f"({EXPORT_VERSION}); please upgrade the launcher."
        )


def parse_export(data: object) -> ParsedExport:
    """Validate one conversation's JSON export; ValueError naming the bad field."""
    if not isinstance(data, dict):
        raise ValueError(
            f"Not a conversation export: expected a JSON object, got {type(data).__name__}"
        )
    if data.get("format") != EXPORT_FORMAT:
        raise ValueError(
            f"Not a conversation export: 'format' should be {EXPORT_FORMAT!r}, "
            f"got {data.get('format')!r}"
        )
    _check_version(data)
    title = " ".join(_get_str(data, "title", "export").split())
    created_at = _get_time(data, "created_at", "export")
    raw_settings = data.get("settings")
    settings = _parse_settings(raw_settings)  # an object or null by now
    settings.features, notes = _parse_features(
        raw_settings.get("features") if isinstance(raw_settings, dict) else None
    )
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise ValueError("Invalid export: 'messages' should be a list")
    messages = [_parse_message(raw, f"messages[{i}]") for i, raw in enumerate(raw_messages)]
    if not title:
        title = next((title_from(m.content) for m in messages if m.role == "user"), "")
    shown = title or "Untitled conversation"
    return ParsedExport(
        settings,
        title,
        created_at,
        messages,
        source_id=_get_id(data, "id"),
        parent_id=_get_id(data, "parent_id"),
        parent_created_at=_get_time(data, "parent_created_at", "export"),
        notes=[f"“{shown}”: {note}" for note in notes],
    )


def _get_id(obj: Mapping[str, object], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"export.{key}: expected a positive integer or null, got {value!r}")
    return value


def _parse_features(raw: object) -> tuple[ChatFeatures, list[str]]:
    """The switches that are on, and a note for each name this launcher does not know."""
    if raw is None:
        return ChatFeatures(), []
    if not isinstance(raw, dict):
        raise ValueError(f"settings.features: expected an object, got {type(raw).__name__}")
    on: dict[str, bool] = {}
    notes: list[str] = []
    for name, value in raw.items():
        if not isinstance(value, bool):
            raise ValueError(f"settings.features.{name}: expected true or false, got {value!r}")
        if name in FEATURE_NAMES:
            on[name] = value
        else:
            notes.append(f"the switch “{name}” is not known to this launcher and was left off.")
    return ChatFeatures(**on), notes


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _get_str(obj: Mapping[str, object], key: str, where: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _get_time(obj: Mapping[str, object], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(cast(float, value)):
        raise ValueError(f"{where}.{key}: expected a timestamp number, got {value!r}")
    return float(cast(float, value))


def _get_state(obj: Mapping[str, object], where: str) -> MessageState:
    state = obj.get("state", "complete")
    if not isinstance(state, str) or state not in MESSAGE_STATES:
        raise ValueError(f"{where}.state: expected one of {sorted(MESSAGE_STATES)}, got {state!r}")
    return cast(MessageState, state)


def _get_stats(obj: Mapping[str, object], where: str) -> dict[str, float]:
    stats = obj.get("stats", {})
    if not isinstance(stats, dict) or not all(
        isinstance(k, str) and _is_number(v) for k, v in stats.items()
    ):
        raise ValueError(f"{where}.stats: expected an object of numbers")
    return {k: float(v) for k, v in stats.items()}


def _parse_settings(raw: object) -> ConversationSettings:
    if raw is None:
        return ConversationSettings()
    if not isinstance(raw, dict):
        raise ValueError(f"settings: expected an object, got {type(raw).__name__}")
    where = "settings"
    fields: dict[str, object] = raw

    def optional_float(key: str) -> float | None:
        value = fields.get(key)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{where}.{key}: expected a number or null, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{where}.{key}: expected a finite number, got {value!r}")
        return float(value)

    def optional_int(key: str) -> int | None:
        value = fields.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}.{key}: expected an integer or null, got {value!r}")
        return value

    keep_alive = raw.get("keep_alive")
    if keep_alive is not None and not isinstance(keep_alive, str):
        raise ValueError(f"{where}.keep_alive: expected a string or null, got {keep_alive!r}")
    think = raw.get("think")
    if think is not None and not isinstance(think, bool):
        raise ValueError(f"{where}.think: expected true, false or null, got {think!r}")
    return ConversationSettings(
        model=_get_str(raw, "model", where),
        system_prompt=_get_str(raw, "system_prompt", where),
        temperature=optional_float("temperature"),
        num_ctx=optional_int("num_ctx"),
        seed=optional_int("seed"),
        top_p=optional_float("top_p"),
        keep_alive=keep_alive,
        think=think,
    )


def _parse_message(raw: object, where: str) -> Message:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object, got {type(raw).__name__}")
    role = raw.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise ValueError(f"{where}.role: expected one of {sorted(ROLES)}, got {role!r}")
    state = _get_state(raw, where)
    if "content" not in raw:
        raise ValueError(f"{where}.content: missing")
    images = raw.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ValueError(f"{where}.images: expected a list of base64 strings")
    stats = _get_stats(raw, where)
    created_at = _get_time(raw, "created_at", where)
    note = _get_str(raw, "note", where)
    if state == "streaming":
        state, note = "interrupted", note or INTERRUPTED_NOTE
    versions = parse_versions(raw.get("versions"), where)
    if versions and role != "assistant":
        raise ValueError(f"{where}.versions: only replies (assistant messages) have versions")
    index = check_version_index(raw.get("version_index"), versions, where)
    steps = extras_json.parse_steps(raw.get("tool_steps"), where)
    tokens = extras_json.parse_tokens(raw.get("tokens"), where)
    if (steps or tokens) and role != "assistant":
        raise ValueError(f"{where}: only replies have tool steps and token probabilities")
    return Message(
        role=cast(Any, role),
        content=_get_str(raw, "content", where),
        thinking=_get_str(raw, "thinking", where),
        images=list(images),
        state=state,
        note=note,
        stats=stats,
        created_at=time.time() if created_at is None else created_at,
        versions=versions,
        version_index=index,
        tool_steps=steps,
        tokens=tokens,
    )
