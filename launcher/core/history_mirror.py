"""Keeps the continuous Markdown export in step with the store: one conversation, or all of them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from launcher.core import mirror
from launcher.core.store import NotFoundError, StoreError
from launcher.core.store_async import AsyncStore

log = logging.getLogger(__name__)


class HistoryMirror:
    """Every conversation also as a Markdown file in `folder` (`core/mirror.py` writes it).

    A failure is told through `fail` and never raised: the conversation itself is saved.

    Args:
        store: where the conversations are read from.
        fail: told what could not be done and why (the history says it to the user).
        closing: whether the app is quitting (a folder being filled stops then).
    """

    def __init__(
        self,
        store: AsyncStore,
        fail: Callable[[str, BaseException], None],
        closing: Callable[[], bool],
    ) -> None:
        self._store = store
        self._fail = fail
        self._closing = closing
        #: The folder written to (None: the continuous export is off).
        self.folder: Path | None = None

    async def write(self, conv_id: int) -> bool:
        """Rewrite the conversation's Markdown file in `folder` (when one is set).
        False when it could not be written (told once through `fail`)."""
        folder = self.folder
        if folder is None:
            return True
        try:
            conv = await self._store.get_conversation(conv_id)
            text = await self._store.export_markdown(conv_id)
            await asyncio.to_thread(mirror.write, folder, conv.title, conv_id, text)
        except NotFoundError:
            return True
        except (StoreError, OSError) as exc:
            self._fail(f"The Markdown copy in {folder} could not be written", exc)
            return False
        return True

    def use_folder(self, text: str) -> Coroutine[Any, Any, int]:
        """Set the folder now ("" turns the export off); the work returned writes every
        conversation there when the folder is a new one."""
        folder = Path(text) if text else None
        changed, self.folder = folder != self.folder, folder
        return self.write_all() if changed else _nothing()

    async def write_all(self) -> int:
        """Write every conversation into `folder` (just chosen): how many were written.
        Stops early when the folder changes again meanwhile."""
        folder = self.folder
        if folder is None:
            return 0
        try:
            summaries = await self._store.list_conversations("")
        except (StoreError, OSError) as exc:
            self._fail("Conversations could not be listed for the Markdown copies", exc)
            return 0
        written = 0
        for summary in summaries:
            if self.folder != folder or self._closing():
                break
            if not await self.write(summary.id):
                break  # told once: the folder fails for the others too
            written += 1
        log.info("%d conversations written as Markdown to %s", written, folder)
        return written


async def _nothing() -> int:
    return 0
