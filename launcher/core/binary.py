"""Find the `ollama` binary the way a user expects: their setting, PATH, then install places."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path


def usual_locations(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where the official installers put `ollama` on each platform."""
    environ = os.environ if environ is None else environ
    if sys.platform == "win32":
        local = environ.get("LOCALAPPDATA", "")
        return [Path(local) / "Programs" / "Ollama" / "ollama.exe"] if local else []
    return [
        Path("/usr/local/bin/ollama"),
        Path("/usr/bin/ollama"),
        Path("/opt/homebrew/bin/ollama"),
        Path("/Applications/Ollama.app/Contents/Resources/ollama"),
    ]


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_ollama(configured: str = "", environ: Mapping[str, str] | None = None) -> Path | None:
    """The first runnable `ollama`: the configured path, then PATH, then the usual places.

    A configured path that does not exist is not silently replaced by another
    binary: the user asked for that one, so None is returned and the UI says so.
    """
    environ = os.environ if environ is None else environ
    if configured:
        path = Path(configured).expanduser()
        return path if _executable(path) else None
    found = shutil.which("ollama", path=environ.get("PATH"))
    if found:
        return Path(found)
    return next((p for p in usual_locations(environ) if _executable(p)), None)


DOWNLOAD_URL = "https://ollama.com/download"
