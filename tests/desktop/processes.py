"""Running the real launcher as a child process, the way a user starts it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO
from tests.waiting import wait_for as wait_for  # the one sync poll, re-exported


def launcher_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a launcher child: this test's folders, offscreen, no real Ollama."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        OLLAMA_LAUNCHER_CONFIG_DIR=str(home / "config"),
        OLLAMA_LAUNCHER_DATA_DIR=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_RUNTIME_DIR=str(home),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_launcher(
    args: list[str], env: Mapping[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launcher", *args],
        cwd=REPO,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def running_launcher(
    args: list[str], env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A launcher running in the background; ended (SIGTERM, then SIGKILL) on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "launcher", *args],
            cwd=REPO,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
