"""The download queue on disk, so pending and interrupted pulls survive a restart.

A small JSON file in the data folder, written atomically (temporary file, then
rename) in a worker thread: the UI thread never waits on the disk. Writes are
serialised and the newest snapshot wins; a broken file reads as an empty queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher.config import write_atomic

log = logging.getLogger(__name__)

QUEUE_FILE = "downloads.json"


@dataclass(frozen=True)
class SavedPull:
    """A pull to offer again: which model, on which host, and whether it was an update."""

    model: str
    host_id: str
    update: bool = False


def encode(pulls: list[SavedPull]) -> str:
    items = [{"model": p.model, "host": p.host_id, "update": p.update} for p in pulls]
    return json.dumps({"version": 1, "pulls": items}, indent=1)


def decode(text: str) -> list[SavedPull]:
    """The saved pulls; entries that are not well formed are skipped."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return []
    items = data.get("pulls") if isinstance(data, dict) else None
    pulls: list[SavedPull] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        model, host = item.get("model"), item.get("host")
        if isinstance(model, str) and model.strip() and isinstance(host, str):
            pulls.append(SavedPull(model.strip(), host, item.get("update") is True))
    return pulls


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


class QueueFile:
    """Reads and writes the saved queue off the UI thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._latest: list[SavedPull] | None = None

    async def load(self) -> list[SavedPull]:
        try:
            text = await asyncio.to_thread(_read, self.path)
        except OSError as exc:
            log.warning("could not read the saved downloads (%s)", exc)
            return []
        return decode(text) if text else []

    async def save(self, pulls: list[SavedPull]) -> None:
        """Write `pulls` (or a newer snapshot given meanwhile); never raises OSError."""
        self._latest = list(pulls)
        async with self._lock:
            latest, self._latest = self._latest, None
            if latest is None:
                return  # a later call already wrote a newer snapshot
            try:
                await asyncio.to_thread(write_atomic, self.path, encode(latest))
            except OSError as exc:
                log.warning("could not save the download queue (%s)", exc)
