"""Continuous export: every conversation also written as a Markdown file in a folder the user
picked (for notes apps and sync tools), rewritten whenever it changes.

One file per conversation, named after its title and id (``Bread recipes-12.md``);
a renamed conversation's old file is replaced, a deleted conversation's file is
left alone (the folder is the user's). Files are written atomically off the Qt
thread, so a sync tool never picks up half a file.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Final

_UNSAFE: Final = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def file_name(title: str, conv_id: int) -> str:
    """A file name that works on every platform: the title, cleaned and cut, and the id."""
    clean = _UNSAFE.sub(" ", title).strip().strip(".") or "Untitled conversation"
    clean = " ".join(clean.split())[:80].rstrip()
    return f"{clean}-{conv_id}.md"


def write(folder: Path, title: str, conv_id: int, markdown: str) -> Path:
    """Write (or rewrite) one conversation's file; other files of the same id go (blocking)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name(title, conv_id)
    for old in folder.glob(f"*-{conv_id}.md"):
        if old != target and old.name.endswith(f"-{conv_id}.md"):
            with contextlib.suppress(OSError):
                old.unlink()
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(markdown)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
