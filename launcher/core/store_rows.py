"""How records map to rows: the SQL column lists, row <-> record conversions and value checks."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, Final

from launcher.core import extras_json, transcript, transcript_import
from launcher.core.conversation import (
    MESSAGE_STATES,
    ROLES,
    Conversation,
    ConversationSettings,
    Message,
    ReplyVersion,
)
from launcher.core.features import ChatFeatures
from launcher.core.toolloop import ToolStep
from launcher.ollama import Logprob

MESSAGE_COLUMNS: Final = (
    "id, role, content, thinking, images, state, note, stats, created_at, versions, version_index,"
    " tool_steps, tokens"
)

log = logging.getLogger(__name__)


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


def insert_conversation(
    conn: sqlite3.Connection,
    title: str,
    settings: ConversationSettings,
    created_at: float,
    updated_at: float,
    parent_id: int | None = None,
) -> int:
    """A new conversation row (no messages); its id."""
    cursor = conn.execute(
        "INSERT INTO conversations (title, model, system_prompt, temperature, num_ctx, seed,"
        " top_p, keep_alive, think, created_at, updated_at, features, parent_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            title,
            *settings_row(settings),
            created_at,
            updated_at,
            settings.features.to_json(),
            parent_id,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def read_conversation(conn: sqlite3.Connection, conv_id: int) -> Conversation | None:
    """A conversation with all its messages in order; None when there is none (or it is
    deleted)."""
    row = conn.execute(
        "SELECT id, title, model, system_prompt, temperature, num_ctx, seed, top_p,"
        " keep_alive, think, created_at, updated_at, features, parent_id"
        " FROM conversations WHERE id = ? AND deleted_at IS NULL",
        (conv_id,),
    ).fetchone()
    if row is None:
        return None
    messages = [
        message_from_row(m)
        for m in conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            (conv_id,),
        )
    ]
    settings = settings_from_row(row[2:10])
    settings.features = ChatFeatures.from_json(row[12])
    return Conversation(
        id=row[0],
        title=row[1],
        settings=settings,
        messages=messages,
        created_at=row[10],
        updated_at=row[11],
        parent_id=row[13],
    )


def insert_message(conn: sqlite3.Connection, conv_id: int, message: Message) -> sqlite3.Cursor:
    return conn.execute(
        "INSERT INTO messages (conversation_id, role, content, thinking, images, state,"
        " note, stats, created_at, versions, version_index, tool_steps, tokens)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            dump_steps(message.tool_steps),
            dump_tokens(message.tokens),
        ),
    )


def message_from_row(m: Sequence[Any]) -> Message:
    versions = transcript_import.parse_versions(json.loads(m[9]), "message")
    steps, tokens = _extras(m)
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
        tool_steps=steps,
        tokens=tokens,
    )


def _extras(m: Sequence[Any]) -> tuple[list[ToolStep], list[Logprob]]:
    """The row's tool steps and token probabilities; a damaged value loses only those."""
    try:
        steps = extras_json.parse_steps(json.loads(m[11]), "message")
        tokens = extras_json.parse_tokens(json.loads(m[12]), "message", trusted=True)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        log.warning(
            "message %s: its tool steps or token probabilities are unreadable (%s)", m[0], exc
        )
        return [], []
    return steps, tokens


def dump_steps(steps: Sequence[ToolStep]) -> str:
    return json.dumps(extras_json.steps_to_json(steps), ensure_ascii=False)


def dump_tokens(tokens: Sequence[Logprob]) -> str:
    return json.dumps(extras_json.tokens_to_json(tokens), ensure_ascii=False)


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


def message_assignments(
    *,
    content: str | None,
    thinking: str | None,
    state: str | None,
    note: str | None,
    stats: Mapping[str, float] | None,
    versions: list[ReplyVersion] | None,
    version_index: int | None,
    tool_steps: list[ToolStep] | None,
    tokens: list[Logprob] | None,
) -> tuple[list[str], list[object]]:
    """The ``column = ?`` parts and their values of an UPDATE, for the fields given."""
    values: dict[str, object | None] = {
        "content": content,
        "thinking": thinking,
        "state": state,
        "note": note,
        "stats": None if stats is None else dump_stats(stats),
        "versions": None
        if versions is None
        else json.dumps(transcript.versions_to_json(versions), ensure_ascii=False),
        "version_index": None if version_index is None else int(version_index),
        "tool_steps": None if tool_steps is None else dump_steps(tool_steps),
        "tokens": None if tokens is None else dump_tokens(tokens),
    }
    given = {column: value for column, value in values.items() if value is not None}
    return [f"{column} = ?" for column in given], list(given.values())


def summaries_query(search: str) -> tuple[str, tuple[object, ...]]:
    """The sidebar's query (rows of id, title, model, updated_at, message count, parent_id),
    newest first, filtered by `search` in titles and message text (see Store.list_conversations).
    """
    sql = (
        "SELECT c.id, c.title, c.model, c.updated_at,"
        " (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), c.parent_id"
        " FROM conversations c WHERE c.deleted_at IS NULL"
    )
    params: tuple[object, ...] = ()
    needle = search.strip()
    if needle and needle.isascii():
        sql += (
            " AND (c.title LIKE ?1 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m"
            " WHERE m.conversation_id = c.id AND m.content LIKE ?1 ESCAPE '\\'))"
        )
        params = (like_pattern(needle),)
    elif needle:
        sql += (
            " AND (casefold_contains(c.title, ?1) OR EXISTS (SELECT 1 FROM messages m"
            " WHERE m.conversation_id = c.id AND casefold_contains(m.content, ?1)))"
        )
        params = (needle.casefold(),)
    return sql + " ORDER BY c.updated_at DESC, c.id DESC", params


def family_ids(conn: sqlite3.Connection, conv_id: int) -> list[int]:
    """`conv_id` first, then its branches, their branches and so on (not deleted ones)."""
    found = conn.execute(
        "WITH RECURSIVE family(id) AS (SELECT ?1 UNION SELECT c.id FROM conversations c"
        " JOIN family f ON c.parent_id = f.id WHERE c.deleted_at IS NULL)"
        " SELECT id FROM family",
        (conv_id,),
    ).fetchall()
    return [conv_id, *sorted(row[0] for row in found if row[0] != conv_id)]
