"""Writing an import into the database: every conversation of the file in one transaction,
a branch's link to its parent kept through the new ids.

Kept apart from `store.py` because the links need care: a parent in the same
file is found by the id it had where it was exported; a parent outside the
file is kept only when a conversation with that id exists here and was created
when the file says (otherwise the id belongs to a stranger); a link that would
go round in a circle (a hand-edited file) is dropped. Each dropped link is a
note for the user, never a refused file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from launcher.core import store_rows as rows
from launcher.core.conversation import Conversation
from launcher.core.transcript_import import ParsedExport

#: Two timestamps closer than this are the same moment (a float through JSON and back).
SAME_MOMENT = 1e-3


@dataclass
class ImportResult:
    """What an import made: the new conversations (in file order) and what to tell the user."""

    conversations: list[Conversation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _label(parsed: ParsedExport) -> str:
    return f"“{parsed.title or 'Untitled conversation'}”"


def insert_all(
    conn: sqlite3.Connection, parsed: list[ParsedExport], tick: Callable[[], float]
) -> tuple[list[int], list[str]]:
    """Insert every conversation and its messages, then the branch links; (new ids, notes).

    Runs inside the caller's transaction: a failure leaves nothing behind."""
    notes = [note for p in parsed for note in p.notes]
    new_ids: list[int] = []
    for p in parsed:
        now = tick()
        conv_id = rows.insert_conversation(conn, p.title, p.settings, p.created_at or now, now)
        for message in p.messages:
            message.id = rows.insert_message(conn, conv_id, message).lastrowid
        new_ids.append(conv_id)
    pairs = list(zip(parsed, new_ids, strict=True))
    by_source = {p.source_id: new for p, new in pairs if p.source_id is not None}
    links: dict[int, int] = {}
    for p, new in pairs:
        if p.parent_id is None:
            continue
        parent = by_source.get(p.parent_id)
        if parent is None and p.parent_id not in new_ids and _is_here(conn, p):
            parent = p.parent_id
        if parent is None:
            notes.append(
                f"{_label(p)} was a branch of a conversation that is neither in this file nor "
                "here, so it is imported on its own."
            )
        elif _leads_to(links, parent, new):
            notes.append(f"{_label(p)}: its branch link went round in a circle and was dropped.")
        else:
            links[new] = parent
            conn.execute("UPDATE conversations SET parent_id = ? WHERE id = ?", (parent, new))
    return new_ids, notes


def _is_here(conn: sqlite3.Connection, parsed: ParsedExport) -> bool:
    """Whether the parent outside the file exists here (and is the same conversation)."""
    row = conn.execute(
        "SELECT created_at FROM conversations WHERE id = ? AND deleted_at IS NULL",
        (parsed.parent_id,),
    ).fetchone()
    if row is None:
        return False
    wanted = parsed.parent_created_at
    return wanted is None or abs(float(row[0]) - wanted) < SAME_MOMENT


def _leads_to(links: dict[int, int], start: int, target: int) -> bool:
    """Whether following the parent links from `start` reaches `target` (a circle)."""
    seen: set[int] = set()
    current: int | None = start
    while current is not None and current not in seen:
        if current == target:
            return True
        seen.add(current)
        current = links.get(current)
    return False
