"""Process-tree checks and waits for the fault tests (outside the event loop)."""

from __future__ import annotations

from pathlib import Path

import psutil

from tests.ui.conftest import read_events
from tests.waiting import wait_for as wait_for  # the one sync poll, re-exported


def alive(pid: int) -> bool:
    """The process runs (a zombie does not count)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def runner_pids(events: Path) -> list[int]:
    return [e["pid"] for e in read_events(events) if e["event"] == "runner_started"]


def server_pids(port: int) -> list[int]:
    """Fake `ollama serve` processes for this port (never two, never one left over)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
        try:
            cmd = proc.info["cmdline"] or []
            env = proc.info["environ"] or {}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        ours = cmd[-1:] == ["serve"] and env.get("OLLAMA_HOST", "").endswith(f":{port}")
        if ours and alive(proc.info["pid"]):
            found.append(proc.info["pid"])
    return found


def chat_once(port: int, model: str = "llama3.2") -> None:
    """One short chat straight to the server (loads the model: its runner starts)."""
    import httpx

    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    httpx.post(f"http://127.0.0.1:{port}/api/chat", json=body, timeout=10).raise_for_status()
