"""The fake `ollama serve` as a process: its log lines (a contract the diagnostics parse)
and its runner children (the process tree the supervisor must handle)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.conftest import FAKE_BIN_DIR, free_port
from tests.waiting import wait_for

GPU = {
    "name": "NVIDIA GeForce GT 1030",
    "library": "cuda",
    "id": "GPU-452cac9f",
    "total": 4187593113,
    "available": "3.9 GiB",
    "variant": "v12",
    "compute": "6.1",
    "driver": "12.7",
}


class Fake:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path, events: Path) -> None:
        self.proc, self.port, self.log, self.events = proc, port, log, events
        self.url = f"http://127.0.0.1:{port}"

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def runner_pids(self) -> list[int]:
        if not self.events.exists():
            return []
        events = [json.loads(line) for line in self.events.read_text().splitlines()]
        return [e["pid"] for e in events if e["event"] == "runner_started"]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def start_fake(tmp_path: Path) -> Iterator[Any]:
    started: list[Fake] = []

    def start(config: dict[str, Any] | None = None, **env: str) -> Fake:
        port = free_port()
        log, events = tmp_path / f"serve-{port}.log", tmp_path / f"events-{port}.jsonl"
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_OLLAMA")}
        child_env.update(OLLAMA_HOST=f"127.0.0.1:{port}", FAKE_OLLAMA_EVENTS=str(events))
        child_env["FAKE_OLLAMA_READY_DELAY"] = "0.05"
        if config is not None:
            (tmp_path / "config.json").write_text(json.dumps(config))
            child_env["FAKE_OLLAMA_CONFIG"] = str(tmp_path / "config.json")
        child_env.update(env)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, str(FAKE_BIN_DIR / "ollama"), "serve"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=child_env,
                start_new_session=True,
            )
        fake = Fake(proc, port, log, events)
        started.append(fake)
        wait_for(lambda: any("inference compute" in line for line in fake.lines()))
        return fake

    yield start
    for fake in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(fake.proc.pid, signal.SIGKILL)
        fake.proc.wait()


def test_log_lines_follow_ollamas_formats(start_fake: Any) -> None:
    fake = start_fake(
        {"gpus": [GPU]},
        OLLAMA_CONTEXT_LENGTH="8192",
        OLLAMA_FLASH_ATTENTION="1",
        OLLAMA_KV_CACHE_TYPE="q8_0",
        OLLAMA_NOPRUNE="1",
        HTTPS_PROXY="http://proxy.example:3128",
    )
    lines = fake.lines()
    config = next(line for line in lines if 'msg="server config"' in line)
    env = re.search(r'env="map\[(.*)\]"$', config)
    assert env is not None
    assert re.match(r"^time=\S+ level=INFO source=routes\.go:\d+ msg=\"server config\"", config)
    pairs = dict(re.findall(r"(\w+):(\[[^\]]*\]|\S*)", env.group(1)))
    assert pairs["OLLAMA_CONTEXT_LENGTH"] == "8192"
    assert pairs["OLLAMA_FLASH_ATTENTION"] == "true"
    assert pairs["OLLAMA_KV_CACHE_TYPE"] == "q8_0"
    assert pairs["OLLAMA_NOPRUNE"] == "true"
    assert pairs["OLLAMA_KEEP_ALIVE"] == "5m0s"
    assert pairs["OLLAMA_HOST"] == f"http://127.0.0.1:{fake.port}"
    assert pairs["HTTPS_PROXY"] == "http://proxy.example:3128"
    assert pairs["OLLAMA_ORIGINS"].startswith("[http://localhost ")
    assert "(version 0.12.3)" in next(line for line in lines if "Listening on" in line)
    gpu = next(line for line in lines if 'msg="inference compute"' in line)
    assert gpu.endswith(
        'msg="inference compute" id=GPU-452cac9f library=cuda variant=v12 compute=6.1 '
        'driver=12.7 name="NVIDIA GeForce GT 1030" total="3.9 GiB" available="3.9 GiB"'
    )


def test_without_gpus_it_says_so_and_logs_the_cpu(start_fake: Any) -> None:
    fake = start_fake(None, CUDA_VISIBLE_DEVICES="")
    text = "\n".join(fake.lines())
    assert 'msg="no compatible GPUs were discovered"' in text
    assert re.search(r'msg="inference compute" id=cpu library=cpu .*name=cpu .*total="', text)
    assert "OLLAMA_CONTEXT_LENGTH:4096" in text


def test_a_prompt_longer_than_the_context_is_logged_as_truncated(start_fake: Any) -> None:
    fake = start_fake(None, OLLAMA_CONTEXT_LENGTH="16")
    body = {"model": "llama3.2", "stream": False}
    body["messages"] = [{"role": "user", "content": "x" * 200}]
    httpx.post(f"{fake.url}/api/chat", json=body, timeout=10).raise_for_status()
    body["options"] = {"num_ctx": 1000}
    httpx.post(f"{fake.url}/api/chat", json=body, timeout=10).raise_for_status()
    warnings = [line for line in fake.lines() if "truncating input prompt" in line]
    assert len(warnings) == 1  # the second request had room
    assert re.search(r"level=WARN .* limit=16 prompt=50 keep=4 new=16$", warnings[0])


def test_runner_per_model_ends_at_unload_and_at_keep_alive_expiry(start_fake: Any) -> None:
    fake = start_fake(None, OLLAMA_KEEP_ALIVE="1s")
    chat = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
    httpx.post(f"{fake.url}/api/chat", json={**chat, "stream": False}, timeout=10)
    wait_for(lambda: len(fake.runner_pids()) == 1)
    runner = fake.runner_pids()[0]
    assert os.getpgid(runner) == os.getpgid(fake.proc.pid)  # the server's group
    wait_for(lambda: 'msg="starting go runner"' in "\n".join(fake.lines()))  # its output
    wait_for(lambda: not alive(runner), 5)  # keep-alive of 1 s ran out
    httpx.post(f"{fake.url}/api/chat", json={**chat, "stream": False, "keep_alive": "1h"})
    wait_for(lambda: len(fake.runner_pids()) == 2)
    second = fake.runner_pids()[1]
    assert alive(second)
    httpx.post(f"{fake.url}/api/chat", json={"model": "llama3.2", "keep_alive": 0}, timeout=10)
    wait_for(lambda: not alive(second), 5)


def test_sigterm_stops_runners_but_a_crash_leaves_them(start_fake: Any) -> None:
    chat = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    fake = start_fake(None)
    httpx.post(f"{fake.url}/api/chat", json=chat, timeout=10)
    wait_for(lambda: len(fake.runner_pids()) == 1)
    fake.proc.send_signal(signal.SIGTERM)
    assert fake.proc.wait(10) == 0
    wait_for(lambda: not alive(fake.runner_pids()[0]), 5)

    crashing = start_fake(None, FAKE_OLLAMA_CRASH_AFTER="1.0")
    httpx.post(f"{crashing.url}/api/chat", json=chat, timeout=10)
    wait_for(lambda: len(crashing.runner_pids()) == 1)
    assert crashing.proc.wait(10) == 2
    assert alive(crashing.runner_pids()[0])  # left behind, as a real crash leaves it
