"""Model files on their way to the server: a digest and a body, both streamed from disk.

A GGUF file is gigabytes: it is never read whole. Hashing and reading happen
in a worker thread one block at a time (the event loop, and the app's UI with
it, never waits on the disk), so memory stays constant whatever the size,
and a cancelled upload stops at the next block.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20  # bytes per read: large enough to amortise a thread hop
_DIGEST = re.compile(r"(?:sha256[:-])?([0-9a-fA-F]{64})")


@dataclass(slots=True, frozen=True)
class BlobProgress:
    """How far `push_blob` has got.

    Attributes:
        stage: "hashing", "uploading", or "present" (the server had it already).
        completed: bytes done in this stage.
        total: the file's size.
    """

    stage: str
    completed: int
    total: int


Progress = Callable[[BlobProgress], None]


def normal_digest(digest: str) -> str:
    """`sha256:<64 lower-case hex>` from that form, `sha256-<hex>` or bare hex.
    Raises ValueError for anything else (it goes into a URL path)."""
    match = _DIGEST.fullmatch(digest.strip())
    if match is None:
        raise ValueError(f"{digest!r} is not a sha256 digest (sha256:<64 hex digits>)")
    return "sha256:" + match.group(1).lower()


async def file_digest(path: Path, progress: Progress | None = None) -> str:
    """The file's `sha256:<hex>`, read block by block off the event loop."""
    size = await asyncio.to_thread(os.path.getsize, path)
    handle: BinaryIO = await asyncio.to_thread(open, path, "rb")
    try:
        sha = hashlib.sha256()
        done = 0
        while True:
            block = await asyncio.to_thread(_read_and_hash, handle, sha)
            if not block:
                break
            done += block
            if progress is not None:
                progress(BlobProgress("hashing", done, size))
        return "sha256:" + sha.hexdigest()
    finally:
        handle.close()  # read-only: nothing to flush, never blocks


def _read_and_hash(handle: BinaryIO, sha: hashlib._Hash) -> int:
    block = handle.read(BLOCK)
    if block:
        sha.update(block)  # in the worker thread too: hashing a MiB is real work
    return len(block)


async def file_body(
    path: Path, size: int, progress: Progress | None = None
) -> AsyncGenerator[bytes, None]:
    """The file's bytes for an upload body: one block in memory at a time.

    Stops with an OSError if the file shrinks while it is sent (the server
    would otherwise wait for bytes that never come).
    """
    handle: BinaryIO = await asyncio.to_thread(open, path, "rb")
    try:
        sent = 0
        while sent < size:
            block = await asyncio.to_thread(handle.read, min(BLOCK, size - sent))
            if not block:
                raise OSError(f"{path} changed while it was being uploaded")
            sent += len(block)
            yield block
            if progress is not None:
                progress(BlobProgress("uploading", sent, size))
    finally:
        handle.close()  # read-only: nothing to flush, never blocks


__all__ = ["BlobProgress", "file_body", "file_digest", "normal_digest"]
