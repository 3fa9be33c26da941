"""Continuous export: every conversation also written as a Markdown file in a folder the user
picked (for notes apps and sync tools), rewritten whenever it changes.

One file per conversation, named after its title and id (``Bread recipes-12.md``);
a renamed conversation's old file is replaced, a deleted conversation's file is
left alone (the folder is the user's). Files are written with the app's one
atomic write (`config.write_atomic`) off the Qt thread, so a sync tool never
picks up half a file. `check_folder` says, in words for a person, why a folder
cannot be used before the user's choice is saved.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Final

from launcher.config import write_atomic

_UNSAFE: Final = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def file_name(title: str, conv_id: int) -> str:
    """A file name that works on every platform: the title, cleaned and cut, and the id."""
    clean = _UNSAFE.sub(" ", title).strip().strip(".") or "Untitled conversation"
    clean = " ".join(clean.split())[:80].rstrip()
    return f"{clean}-{conv_id}.md"


def write(folder: Path, title: str, conv_id: int, markdown: str) -> Path:
    """Write (or rewrite) one conversation's file; other files of the same id go (blocking)."""
    folder = folder.expanduser()  # "~/Notes" typed in the settings file
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name(title, conv_id)
    for old in folder.glob(f"*-{conv_id}.md"):
        if old != target and old.name.endswith(f"-{conv_id}.md"):
            with contextlib.suppress(OSError):
                old.unlink()
    write_atomic(target, markdown)
    return target


def check_folder(text: str) -> str:
    """Why `text` cannot be the export folder ("" when it can): it must be the full path of
    an existing folder the launcher can write in. Blocking (it tries a write): run it in a
    worker thread."""
    path = Path(text).expanduser()
    if not path.is_absolute():
        return f"“{text}” is not a full path: pick the folder with Choose…, or type its full path."
    if path.exists() and not path.is_dir():
        return f"“{path}” is a file, not a folder: choose a folder."
    if not path.is_dir():
        return f"There is no folder “{path}”: choose an existing folder (or make it first)."
    try:
        fd, probe = tempfile.mkstemp(prefix=".launcher-check-", suffix=".tmp", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if isinstance(exc, PermissionError):
            why = "it is not allowed to"
        else:
            why = (exc.strerror or "the system refused").lower()
        return f"The launcher cannot write files in “{path}” ({why}): choose another folder."
    return ""
