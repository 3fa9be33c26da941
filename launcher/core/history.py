"""Conversations that last: the list for the sidebar, and every turn saved as it streams.

A reply is written to SQLite when it starts, at most every half second while
it grows, and when it ends (complete, stopped or failed), so a launcher that
is killed mid-reply loses well under a second of text and shows the reply as
interrupted on the next start. Every write runs on the store's worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from launcher.core.chat import ChatTurn
from launcher.core.conversation import Conversation, ConversationSummary, Message
from launcher.core.store import AsyncStore, NotFoundError, Store, StoreError

SAVE_INTERVAL_SECONDS = 0.5


class ConversationHistory(QObject):
    """The store, seen from the app.

    Signals:
        listChanged(list): ConversationSummary rows, newest first (for the current search).
        failed(str): a store operation failed; the message says which and why.
    """

    listChanged = Signal(list)
    failed = Signal(str)

    def __init__(self, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path or Store.default_path()
        self.store = AsyncStore(self.path)
        self.summaries: list[ConversationSummary] = []
        self.search = ""
        self.saves = 0

    async def open(self) -> int:
        """Open the database, mark replies cut off by a previous crash, list conversations.

        Returns how many replies were marked interrupted.
        """
        try:
            await self.store.open()
            interrupted = await self.store.mark_interrupted()
            await self.store.purge_deleted()
        except (StoreError, OSError) as exc:
            self.failed.emit(f"Conversations could not be opened ({self.path}): {exc}")
            return 0
        await self.refresh()
        return interrupted

    async def aclose(self) -> None:
        await self.store.aclose()

    async def refresh(self, search: str | None = None) -> None:
        if search is not None:
            self.search = search
        try:
            self.summaries = await self.store.list_conversations(self.search)
        except (StoreError, OSError) as exc:
            self.failed.emit(f"Could not list conversations: {exc}")
            return
        self.listChanged.emit(self.summaries)

    async def load(self, conv_id: int) -> Conversation | None:
        try:
            return await self.store.get_conversation(conv_id)
        except (NotFoundError, StoreError, OSError) as exc:
            self.failed.emit(f"Could not open the conversation: {exc}")
            return None

    async def rename(self, conv_id: int, title: str) -> None:
        await self.store.rename(conv_id, title)
        await self.refresh()

    async def delete(self, conv_id: int) -> None:
        await self.store.delete_conversation(conv_id)
        await self.refresh()

    async def undo_delete(self, conv_id: int) -> None:
        await self.store.undo_delete(conv_id)
        await self.refresh()

    async def save_settings(self, conversation: Conversation) -> None:
        if conversation.id is not None:
            await self.store.update_settings(conversation.id, conversation.settings)

    async def save_message(self, conversation: Conversation, message: Message) -> None:
        """Save a message changed outside a turn (another version of a reply shown)."""
        if message.id is None:
            return
        try:
            await self.store.update_message(
                message.id,
                content=message.content,
                thinking=message.thinking,
                state=message.state,
                note=message.note,
                stats=dict(message.stats),
            )
        except (StoreError, OSError) as exc:
            self.failed.emit(f"The conversation could not be saved: {exc}")

    async def truncate(self, conversation: Conversation, message: Message) -> None:
        """Forget `message` and everything after it (edit and resend, regenerate)."""
        if conversation.id is not None and message.id is not None:
            await self.store.delete_messages_from(conversation.id, message.id)

    async def export(self, conv_id: int, fmt: str, path: Path) -> None:
        """Write a conversation to a Markdown or JSON file (off the Qt thread)."""
        if fmt == "json":
            data = await self.store.export_json(conv_id)
            text = json.dumps(data, indent=2, ensure_ascii=False)
        else:
            text = await self.store.export_markdown(conv_id)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")

    async def import_file(self, path: Path) -> Conversation:
        """Read a JSON export back in as a new conversation.

        Raises:
            ValueError: the file is not a conversation export (the message says why).
        """
        raw = await asyncio.to_thread(path.read_text, encoding="utf-8")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{path.name} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path.name} is not a conversation export.")
        conversation = await self.store.import_json(data)
        await self.refresh()
        return conversation

    # ---- saving a turn as it streams ---------------------------------------------

    async def persist(self, turn: ChatTurn) -> None:
        """Save the turn's new messages now, the reply while it grows, and its end."""
        conv = turn.conversation
        try:
            if conv.id is None:
                created = await self.store.create_conversation(conv.settings, conv.title)
                conv.id = created.id
            conv_id = conv.id
            assert conv_id is not None
            for message in conv.messages:
                if message.id is None:
                    message.id = await self.store.add_message(conv_id, message)
            await self.refresh()
            reply = turn.reply
            saved = (reply.content, reply.thinking)
            waiter = asyncio.ensure_future(turn.wait())
            try:
                while not waiter.done():
                    await asyncio.wait({waiter}, timeout=SAVE_INTERVAL_SECONDS)
                    if waiter.done():
                        break
                    current = (turn.content, turn.thinking)
                    if current != saved and reply.id is not None:
                        await self.store.update_message(
                            reply.id, content=current[0], thinking=current[1], state="streaming"
                        )
                        self.saves += 1
                        saved = current
            finally:
                if not waiter.done():
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
            if reply.id is not None:
                await self.store.update_message(
                    reply.id,
                    content=reply.content,
                    thinking=reply.thinking,
                    state=reply.state,
                    note=reply.note,
                    stats=dict(reply.stats),
                )
                self.saves += 1
            await self.refresh()
        except (StoreError, OSError) as exc:
            self.failed.emit(f"The conversation could not be saved: {exc}")
