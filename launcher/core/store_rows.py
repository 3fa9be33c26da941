"""How records map to rows: the SQL column lists, row <-> record conversions and value checks."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, Final

from launcher.core import transcript
from launcher.core.conversation import (
    MESSAGE_STATES,
    ROLES,
    ConversationSettings,
    Message,
)

MESSAGE_COLUMNS: Final = (
    "id, role, content, thinking, images, state, note, stats, created_at, versions, version_index"
)


def like_pattern(text: str) -> str:
    r"""A ``LIKE ... ESCAPE '\'`` pattern matching ``text`` literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def casefold_contains(haystack: str | None, needle: str | None) -> int:
    """SQL function for non-ASCII searches, where SQLite's ``LIKE`` only folds ASCII case."""
    if haystack is None or needle is None:
        return 0
    if haystack.isascii():
        # Most text is ASCII (code, English): its casefold is its lower(), which
        # has a fast path, and it cannot contain a needle that stays non-ASCII.
        return int(needle.isascii() and needle in haystack.lower())
    return int(needle in haystack.casefold())


def settings_row(settings: ConversationSettings) -> tuple[object, ...]:
    return (
        settings.model,
        settings.system_prompt,
        settings.temperature,
        settings.num_ctx,
        settings.seed,
        settings.top_p,
        settings.keep_alive,
        None if settings.think is None else int(settings.think),
    )


def settings_from_row(row: Sequence[Any]) -> ConversationSettings:
    model, system_prompt, temperature, num_ctx, seed, top_p, keep_alive, think = row
    return ConversationSettings(
        model=model,
        system_prompt=system_prompt,
        temperature=temperature,
        num_ctx=num_ctx,
        seed=seed,
        top_p=top_p,
        keep_alive=keep_alive,
        think=None if think is None else bool(think),
    )


def insert_message(conn: sqlite3.Connection, conv_id: int, message: Message) -> sqlite3.Cursor:
    return conn.execute(
        "INSERT INTO messages (conversation_id, role, content, thinking, images, state,"
        " note, stats, created_at, versions, version_index)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            conv_id,
            message.role,
            message.content,
            message.thinking,
            json.dumps(list(message.images)),
            message.state,
            message.note,
            dump_stats(message.stats),
            message.created_at,
            json.dumps(transcript.versions_to_json(message.versions)),
            message.version_index,
        ),
    )


def message_from_row(m: Sequence[Any]) -> Message:
    versions = transcript.parse_versions(json.loads(m[9]), "message")
    return Message(
        role=m[1],
        content=m[2],
        thinking=m[3],
        images=json.loads(m[4]),
        state=m[5],
        note=m[6],
        stats=json.loads(m[7]),
        created_at=m[8],
        id=m[0],
        versions=versions,
        version_index=min(max(int(m[10]), 0), len(versions)),
    )


def check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"Invalid message role {role!r}; expected one of {sorted(ROLES)}")


def check_state(state: str) -> None:
    if state not in MESSAGE_STATES:
        raise ValueError(
            f"Invalid message state {state!r}; expected one of {sorted(MESSAGE_STATES)}"
        )


def dump_stats(stats: Mapping[str, float]) -> str:
    return json.dumps(transcript.clean_stats(stats))
