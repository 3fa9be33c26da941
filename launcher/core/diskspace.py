"""Will this download fit? The models folder of a host and the rule that refuses a pull.

Ollama fills the disk without a word and then fails half-way; we compare what
is left to download with the free space of the folder the server writes to and
refuse (or stop) a pull that would leave less than a reserve free. The rule is
pure; `free_bytes` is the one blocking call (run it in a worker thread).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from launcher.config import LocalServerSettings
from launcher.core.pullprogress import size_text

RESERVE_BYTES = 1_000_000_000  # 1 GB kept free: the system and Ollama's own files need room


def models_folder(local: LocalServerSettings, environ: Mapping[str, str] | None = None) -> Path:
    """Where the local server keeps models: the settings, then `OLLAMA_MODELS` from the
    tuning page, then Ollama's default `~/.ollama/models`."""
    configured = local.models_dir.strip() or local.tuning.get("OLLAMA_MODELS", "").strip()
    if configured:
        return Path(configured).expanduser()
    home = (environ or os.environ).get("HOME") or str(Path.home())
    return Path(home) / ".ollama" / "models"


def free_bytes(folder: Path) -> tuple[int, Path]:
    """Free bytes on the drive of `folder` (or its nearest existing parent), and that
    folder. Blocking: call it through `asyncio.to_thread`."""
    probe = folder
    while True:
        try:
            return shutil.disk_usage(probe).free, probe
        except FileNotFoundError:
            if probe.parent == probe:
                raise
            probe = probe.parent  # not created yet: Ollama makes it on the same drive


def space_problem(model: str, remaining: int, free: int, reserve: int, folder: Path) -> str | None:
    """A message for a person when `remaining` bytes would leave less than `reserve` free."""
    if free - remaining >= reserve:
        return None
    need = remaining + reserve - free
    if remaining:
        what = f"it needs {size_text(remaining)} more"
    else:
        what = "the disk is already nearly full"
    return (
        f"Not enough disk space for {model}: {what}, and only {size_text(free)} is free in "
        f"{folder} (the launcher keeps {size_text(reserve)} free). Free at least "
        f"{size_text(need)}, then pull it again — what was downloaded is kept."
    )
