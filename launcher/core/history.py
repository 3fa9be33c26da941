"""Conversations that last: the list for the sidebar, and every turn saved as it streams.

A reply is written to SQLite when it starts, at most every half second while
it grows, and when it ends (complete, stopped or failed), so a launcher that
is killed mid-reply loses well under a second of text and shows the reply as
interrupted on the next start. Every write runs on the store's worker thread.

Writes that belong to the conversation being chatted in (a turn's messages, a
truncation, a reply's versions) run **in the order they were asked for**: each
takes its place in one queue synchronously, when the chat signal arrives, so a
truncation can never overtake the insert of the message it removes (stop, then
regenerate at once, never brings a discarded reply back). A database locked by
another program delays writes (retried with backoff, the reply kept in memory
meanwhile) and the user is told; a damaged one is moved aside and replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from launcher.core.backups import BackupInfo
from launcher.core.chat import ChatTurn
from launcher.core.conversation import Conversation, ConversationSummary, Message
from launcher.core.explain import explain
from launcher.core.history_mirror import HistoryMirror
from launcher.core.reply_saving import follow_reply, save_whole
from launcher.core.store import ImportResult, NotFoundError, Store, StoreError
from launcher.core.store_async import AsyncStore
from launcher.core.store_errors import DatabaseLockedError
from launcher.core.write_queue import WriteQueue

T = TypeVar("T")

SAVE_INTERVAL_SECONDS = 0.5
#: How often a running launcher checks whether today's backup exists.
BACKUP_CHECK_SECONDS = 3600.0

log = logging.getLogger(__name__)


class ConversationHistory(QObject):
    """The store, seen from the app.

    Attributes:
        notice: what the user should know about their saved conversations right now
            ("" when nothing): a damaged database set aside, a reply waiting for a
            locked database. Shown in the conversation area.

    Signals:
        listChanged(list): ConversationSummary rows, newest first (for the current search).
        failed(str): a store operation failed; the message says what happened and what
            to do (from `explain`), the technical text goes to the log.
        noticeChanged(str): `notice` changed.
    """

    listChanged = Signal(list)
    failed = Signal(str)
    noticeChanged = Signal(str)

    def __init__(self, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path or Store.default_path()
        self.store = AsyncStore(self.path)
        self.summaries: list[ConversationSummary] = []
        self.search = ""
        self.saves = 0
        self.notice = ""
        self._standing = ""  # the notice to go back to once a lock is gone
        self._backups: asyncio.Task[None] | None = None
        self._closing = False
        self.writes = WriteQueue(
            on_locked=lambda exc: self._set_notice(explain(exc).headline),
            on_unlocked=lambda: self._set_notice(self._standing),
            on_failed=lambda exc: self._fail("The conversation could not be saved", exc),
        )
        #: Continuous export: every conversation also as Markdown (`mirror_folder`).
        self.markdown = HistoryMirror(self.store, self._fail, lambda: self._closing)

    # ---- notices ------------------------------------------------------------------

    def _set_notice(self, text: str) -> None:
        if text != self.notice:
            self.notice = text
            self.noticeChanged.emit(text)

    def _fail(self, doing: str, exc: BaseException) -> None:
        explanation = explain(exc)
        log.warning("%s: %s", doing, explanation.details)
        self.failed.emit(f"{doing}: {explanation.headline}")

    # ---- opening and closing ------------------------------------------------------

    async def open(self) -> int:
        """Open the database, mark replies cut off by a previous crash, list conversations,
        and start the daily backups.

        A damaged database is moved aside (see `notice`). Returns how many replies were
        marked interrupted.
        """
        try:
            await self.writes.write(self.store.open)
            interrupted = await self.writes.write(self.store.mark_interrupted)
            await self.writes.write(self.store.purge_deleted)
        except (StoreError, OSError) as exc:
            self._fail("Conversations could not be opened", exc)
            self._standing = f"{explain(exc).headline} Conversations of this session are not saved."
            self._set_notice(self._standing)
            return 0
        moved = self.store.moved_aside
        if moved is not None:
            self._standing = (
                f"Your conversation database was damaged, so it was set aside as "
                f"{moved.name} in {moved.parent} (nothing was deleted) and a new one was "
                "started. File > Restore from backup… can bring back a recent copy."
            )
            self._set_notice(self._standing)
        await self.refresh()  # the list first: the backup can wait a moment
        if self._backups is None and not self._closing:
            self._backups = asyncio.ensure_future(self._backup_daily())
        return interrupted

    async def aclose(self) -> None:
        """Stop the backups, give queued writes a last chance, close the database."""
        self._closing = True
        if self._backups is not None:
            self._backups.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._backups
        was_locked = self.writes.waiting_for_lock
        if await self.writes.close():
            why = (
                "the conversation database is in use by another program"
                if was_locked
                else "the conversation database did not answer in time"
            )
            self.failed.emit(f"The last changes could not be saved before quitting: {why}.")
        await self.store.aclose()

    # ---- the sidebar --------------------------------------------------------------

    async def refresh(self, search: str | None = None) -> None:
        if search is not None:
            self.search = search
        try:
            self.summaries = await self.store.list_conversations(self.search)
        except (StoreError, OSError) as exc:
            self._fail("Could not list conversations", exc)
            return
        self.listChanged.emit(self.summaries)

    async def load(self, conv_id: int) -> Conversation | None:
        try:
            return await self.store.get_conversation(conv_id)
        except (NotFoundError, StoreError, OSError) as exc:
            self._fail("Could not open the conversation", exc)
            return None

    async def rename(self, conv_id: int, title: str) -> None:
        await self.writes.write(lambda: self.store.rename(conv_id, title))
        await self.refresh()
        await self.markdown.write(conv_id)

    @property
    def mirror_folder(self) -> Path | None:
        """Continuous export: every conversation also as Markdown here (None: off)."""
        return self.markdown.folder

    @mirror_folder.setter
    def mirror_folder(self, folder: Path | None) -> None:
        self.markdown.folder = folder

    def use_mirror_folder(self, text: str) -> Coroutine[Any, Any, int]:
        """Set the continuous export's folder now ("" turns it off); the work returned
        writes every conversation there when the folder is a new one."""
        return self.markdown.use_folder(text)

    async def delete(self, conv_id: int) -> None:
        await self.writes.write(lambda: self.store.delete_conversation(conv_id))
        await self.refresh()

    async def undo_delete(self, conv_id: int) -> None:
        await self.writes.write(lambda: self.store.undo_delete(conv_id))
        await self.refresh()

    async def save_settings(self, conversation: Conversation) -> None:
        if conversation.id is not None:
            conv_id = conversation.id
            await self.writes.write(
                lambda: self.store.update_settings(conv_id, conversation.settings)
            )

    async def export(self, conv_id: int, fmt: str, path: Path) -> None:
        """Write a conversation to a Markdown or JSON file (off the Qt thread). A JSON
        export of a conversation that has branches holds them too, so an import keeps
        their links."""
        if fmt == "json":
            family = await self.store.family(conv_id)
            if len(family) > 1:
                data = await self.store.export_bundle(family)
            else:
                data = await self.store.export_json(conv_id)
            text = json.dumps(data, indent=2, ensure_ascii=False)
        else:
            text = await self.store.export_markdown(conv_id)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")

    async def import_file(self, path: Path) -> ImportResult:
        """Read a JSON export back in as new conversations (a parent and its branches
        keep their link); the result's notes say what was left out.

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
        result = await self.writes.write(lambda: self.store.import_bundle(data))
        await self.refresh()
        for conversation in result.conversations:
            if conversation.id is not None and not await self.markdown.write(conversation.id):
                break
        for note in result.notes:
            log.info("import of %s: %s", path.name, note)
        return result

    # ---- backups ------------------------------------------------------------------

    async def _backup_daily(self) -> None:
        """Today's backup soon after start-up, then a check every hour (runs until quit)."""
        while not self._closing:
            try:
                made = await self.store.daily_backup()
                if made is not None:
                    log.info("conversation backup written to %s", made)
            except (StoreError, OSError) as exc:
                log.warning("the daily conversation backup failed: %s", explain(exc).details)
            await asyncio.sleep(BACKUP_CHECK_SECONDS)  # a timer, not a synchronisation

    async def list_backups(self) -> list[BackupInfo]:
        """The backups, newest first, with their dates and conversation counts."""
        return await self.store.list_backups()

    async def restore(self, backup: Path) -> Path:
        """Replace every conversation with those of `backup` (after the queued writes);
        the current database is kept as a backup first, whose path is returned.

        Raises:
            ValueError: `backup` is not a readable backup (nothing was changed).
            StoreError: the database could not be replaced.
        """
        done: asyncio.Future[Path] = asyncio.get_running_loop().create_future()

        async def work() -> None:
            try:
                done.set_result(await self.writes.write(lambda: self.store.restore(backup)))
            except BaseException as exc:  # handed to the caller, not lost in the queue
                done.set_exception(exc)

        await self.writes.in_order(work)
        safety = await done
        self._standing = ""
        self._set_notice("")
        await self.refresh()
        return safety

    # ---- saving a turn as it streams ----------------------------------------------

    def persist(self, turn: ChatTurn) -> Coroutine[Any, Any, None]:
        """Save the turn's new messages now, the reply while it grows, and its end.

        Takes its place among the conversation's writes when called (not when awaited).
        """
        return self.writes.in_order(lambda: self._persist(turn))

    def truncate(self, conversation: Conversation, message: Message) -> Coroutine[Any, Any, None]:
        """Forget `message` and everything after it (edit and resend, regenerate), after
        every write asked for before (so `message` has its id by then)."""

        async def work() -> None:
            if conversation.id is not None and message.id is not None:
                conv_id, message_id = conversation.id, message.id
                with contextlib.suppress(NotFoundError):  # already gone: as wanted
                    await self.writes.write(
                        lambda: self.store.delete_messages_from(conv_id, message_id)
                    )

        return self.writes.in_order(work)

    def save_new(self, conversation: Conversation) -> Coroutine[Any, Any, None]:
        """Store a conversation made outside a turn, with its messages (a branch, a chat
        that starts from a summary), so it is listed at once, linked to its parent."""

        async def work() -> None:
            if conversation.id is not None:
                return
            try:
                created = await self.writes.write(
                    lambda: self.store.create_conversation(
                        conversation.settings, conversation.title, conversation.parent_id
                    )
                )
                conv_id = created.id
                assert conv_id is not None
                conversation.id = conv_id
                for message in list(conversation.messages):
                    if message.id is None:
                        await self.writes.write(
                            functools.partial(self.store.add_message, conv_id, message)
                        )
                await self.refresh()
                await self.markdown.write(conv_id)
            except DatabaseLockedError:
                raise
            except (StoreError, OSError) as exc:
                self._fail("The new conversation could not be saved", exc)

        return self.writes.in_order(work)

    def save_message(
        self, conversation: Conversation, message: Message
    ) -> Coroutine[Any, Any, None]:
        """Write a message's text, state and reply versions as they are now (e.g. after the
        user flipped to another version of a reply), in order with the other writes."""

        async def work() -> None:
            if message.id is None:
                return
            message_id = message.id
            await self.writes.write(lambda: save_whole(self.store, message_id, message))

        return self.writes.in_order(work)

    async def _persist(self, turn: ChatTurn) -> None:
        conv = turn.conversation
        try:
            if conv.id is None:
                created = await self.writes.write(
                    lambda: self.store.create_conversation(
                        conv.settings, conv.title, conv.parent_id
                    )
                )
                conv.id = created.id
            conv_id = conv.id
            assert conv_id is not None
            for message in list(conv.messages):
                if message.id is None:
                    await self.writes.write(
                        functools.partial(self.store.add_message, conv_id, message)
                    )
            await self.refresh()
            await self._follow(turn)
        except NotFoundError as exc:  # the conversation was deleted and purged meanwhile
            log.info("not saving a reply of a conversation that is gone (%s)", exc)
        except DatabaseLockedError:
            raise  # only at quit (the queue waits otherwise): the queue reports it once
        except (StoreError, OSError) as exc:
            self._fail("The conversation could not be saved", exc)

    async def _follow(self, turn: ChatTurn) -> None:
        """Save the reply while it grows and when it ends, then mirror its conversation."""
        if turn.reply.id is None:
            return
        self.saves += await follow_reply(self.writes, self.store, turn, SAVE_INTERVAL_SECONDS)
        await self.refresh()
        if turn.conversation.id is not None:
            await self.markdown.write(turn.conversation.id)
