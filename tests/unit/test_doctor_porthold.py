"""Who holds the port: real processes holding a real port, looked up in the process table."""

from __future__ import annotations

import getpass
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from launcher.core.porthold import PortReport, answers_as_ollama, describe, find_holder
from tests.conftest import FAKE_BIN_DIR, free_port
from tests.ollama_server.foreign import foreign_process, stop_process


@pytest.fixture
def foreign() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A web server that is not Ollama, in its own process, holding a free port."""
    port = free_port()
    with foreign_process(port) as proc:
        yield proc, port


@pytest.fixture
def other_ollama(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another Ollama (the fake binary's `ollama serve`) started by someone else."""
    port = free_port()
    env = {**os.environ, "OLLAMA_HOST": f"127.0.0.1:{port}", "FAKE_OLLAMA_READY_DELAY": "0"}
    proc = subprocess.Popen(
        [str(FAKE_BIN_DIR / "ollama"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:  # its own log says when it listens
            if "inference compute" in line:
                break
        yield proc, port
    finally:
        stop_process(proc)


async def test_a_foreign_process_is_named_with_pid_program_and_user(
    foreign: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = foreign
    holder = find_holder(port)
    assert holder is not None
    assert holder.pid == proc.pid
    assert holder.exe == psutil.Process(proc.pid).exe()
    assert holder.user == getpass.getuser()
    assert "tests.ollama_server.foreign" in " ".join(holder.cmdline)
    version = await answers_as_ollama(f"http://127.0.0.1:{port}")
    assert version == ""
    text = describe(PortReport(port, holder, version))
    assert f"pid {proc.pid}" in text and "not Ollama" in text and "Settings" in text
    assert proc.poll() is None  # looked at, never touched


async def test_another_ollama_is_recognised_and_never_stopped(
    other_ollama: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = other_ollama
    holder = find_holder(port)
    assert holder is not None and holder.pid == proc.pid
    version = await answers_as_ollama(f"http://127.0.0.1:{port}")
    assert version == "0.12.3"
    text = describe(PortReport(port, holder, version), platform="linux")
    assert "It is Ollama 0.12.3" in text
    assert "use it as it is" in text and "systemctl stop ollama" in text
    assert "never stops" in text
    assert "quit the Ollama app from the menu bar" in describe(
        PortReport(port, holder, version), platform="darwin"
    )
    assert proc.poll() is None


def test_a_free_port_has_no_holder() -> None:
    assert find_holder(free_port()) is None
