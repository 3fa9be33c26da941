"""Fault injection against the real window and real `ollama serve` processes (issue 7).

Each test asserts what the user sees, what is kept, that the app is usable
afterwards, and that no server or runner process is left behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from launcher.config import LocalServerSettings, Settings, save_settings
from launcher.core.store import Store
from launcher.ui.main_window import MainWindow
from tests.faults.helpers import alive, runner_pids, server_pids
from tests.ollama_server import ForeignServer
from tests.ui.helpers import control, reply_finished, status_of, transcript, type_and_send
from tests.waiting import wait_until

SLOW_REPLY = {"reply": {"text": " ".join(f"w{i}" for i in range(400)), "chunk_interval": 0.05}}


async def running(window: MainWindow, timeout: float = 20) -> int:
    """Wait until our server answers; its pid."""
    try:
        await wait_until(lambda: status_of(window).startswith("Running"), timeout)
    except AssertionError as exc:
        log = "\n".join(window.launcher.log.tail(15))
        raise AssertionError(f"not running: {status_of(window)!r}; log:\n{log}") from exc
    pid = window.launcher.supervisor.pid
    assert pid is not None
    return pid


async def start_and_wait(window: MainWindow) -> int:
    button = control(window, "Start server")
    await wait_until(button.isEnabled, 10)
    button.click()
    return await running(window)


async def no_process_left(fake: dict[str, Any], timeout: float = 5) -> None:
    await wait_until(lambda: not server_pids(fake["port"]), timeout, "a server is left")
    await wait_until(
        lambda: not any(alive(pid) for pid in runner_pids(fake["events"])),
        timeout,
        "a runner is left",
    )


async def quit_leaves_nothing_running(window: MainWindow) -> None:
    """Quit as the user does; then no task of ours is left in the loop."""
    await window.shutdown()
    current = asyncio.current_task()

    def leftover() -> list[str]:
        names = [
            getattr(t.get_coro(), "__qualname__", repr(t))
            for t in asyncio.all_tasks()
            if t is not current and not t.done()
        ]
        return [n for n in names if n != "wait_for"]  # the test runner's own wrapper

    try:
        await wait_until(lambda: not leftover(), 5)
    except AssertionError as exc:
        raise AssertionError(f"tasks left running: {leftover()}") from exc


def saved_reply() -> Any:
    store = Store(Store.default_path())
    try:
        summary = store.list_conversations()[0]
        return store.get_conversation(summary.id).messages[-1]
    finally:
        store.close()


# 1. server SIGKILLed mid-reply --------------------------------------------------------


async def test_server_killed_mid_reply_keeps_the_partial_reply_and_comes_back(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(SLOW_REPLY, ready_delay="0.1")
    window = make_window()
    first = await start_and_wait(window)
    await wait_until(lambda: window.chat.model_combo.count() > 0, 5)
    type_and_send(window, "tell me a long story")
    await wait_until(lambda: "w5" in transcript(window), 10)
    await wait_until(lambda: len(runner_pids(fake["events"])) == 1, 5)
    runner = runner_pids(fake["events"])[0]
    os.kill(first, signal.SIGKILL)  # the server only: its runner lives on

    await reply_finished(window)
    text = transcript(window)
    assert "w0 w1 w2 w3 w4 w5" in text  # the partial reply stays on screen
    assert "closed unexpectedly" in text  # says what happened
    reply = saved_reply()
    assert reply.role == "assistant" and reply.content.startswith("w0 w1 w2 w3 w4 w5")
    await wait_until(lambda: not alive(runner), 2, "the runner outlived its server")
    await wait_until(lambda: status_of(window).startswith("Restarting"), 5)
    assert "signal 9" in status_of(window)

    second = await running(window, 15)  # restarted by itself
    assert second != first
    assert server_pids(fake["port"]) == [second]
    assert window.chat.send_button.isEnabled()
    type_and_send(window, "again")
    await wait_until(lambda: transcript(window).count("w0 w1") >= 2, 10)
    control(window, "Stop generating").click()
    await reply_finished(window)
    await quit_leaves_nothing_running(window)
    await no_process_left(fake)


# 3. server crashes with a runner alive ------------------------------------------------


async def test_crash_with_a_runner_restarts_with_backoff_then_stays_crashed(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(ready_delay="0.1")
    window = make_window()
    monitor = window.launcher.monitor
    attempts: list[int] = []
    crashed: list[Any] = []
    monitor.restarting.connect(lambda n, _exit: attempts.append(n))
    monitor.crashed.connect(crashed.append)
    pid = await start_and_wait(window)
    for attempt in range(1, 5):
        await asyncio.to_thread(chat_and_wait_runner, fake, attempt)
        runner = runner_pids(fake["events"])[-1]
        os.kill(pid, signal.SIGKILL)
        await wait_until(lambda r=runner: not alive(r), 2, "runner left behind")  # type: ignore[misc]
        if attempt < 4:
            await wait_until(lambda: status_of(window).startswith("Restarting"), 2)
            assert "after a crash (signal 9)" in status_of(window)
            pid = await running(window, 15)
    await wait_until(lambda: status_of(window).startswith("Crashed"), 5)
    assert attempts == [1, 2, 3] and len(crashed) == 1
    assert "killed by signal 9" in status_of(window)
    assert "Last log lines" in control(window, "Server status").toolTip()
    await no_process_left(fake)
    # Start server works after.
    await start_and_wait(window)
    assert len(server_pids(fake["port"])) == 1
    await quit_leaves_nothing_running(window)
    await no_process_left(fake)


def chat_and_wait_runner(fake: dict[str, Any], count: int) -> None:
    from tests.faults.helpers import chat_once, wait_for

    chat_once(fake["port"])
    wait_for(lambda: len(runner_pids(fake["events"])) >= count, 5)


# 8. a foreign HTTP service on the port ------------------------------------------------


async def test_foreign_service_on_the_port_is_named_and_never_touched(
    fake_ollama: Callable[..., dict[str, Any]],
    make_window: Callable[[], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = fake_ollama(auto_start=True)
    with ForeignServer() as foreign:
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{foreign.port}")
        window = make_window()
        await wait_until(lambda: status_of(window).startswith("Port in use"), 5)
        assert "not Ollama" in status_of(window)
        assert "another port" in control(window, "Server status").toolTip()
        assert not control(window, "Start server").isEnabled()
        assert not control(window, "Stop server").isEnabled()
        assert not window.launcher.monitor.auto_started  # something answers: no auto-start
        assert not server_pids(foreign.port)
    # The port is free again: Start works.
    await wait_until(lambda: status_of(window).startswith("Stopped"), 10)
    await start_and_wait(window)
    await window.launcher.monitor.stop_server()
    await no_process_left({**fake, "port": foreign.port})


# 9. port taken when starting ----------------------------------------------------------


async def test_port_taken_at_start_is_explained_and_not_retried(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(auto_start=True)
    # Another program has just taken the port (bound, not yet listening): the probe is
    # refused, so the launcher starts its server, whose bind then fails.
    holder = socket.socket()
    holder.bind(("127.0.0.1", fake["port"]))
    try:
        window = make_window()
        restarts: list[int] = []
        window.launcher.monitor.restarting.connect(lambda n, _e: restarts.append(n))
        await wait_until(lambda: status_of(window).startswith("Crashed"), 15)
        assert window.launcher.monitor.auto_started
        assert "address already in use" in status_of(window)
        assert "during start-up" in status_of(window)
        assert restarts == []  # a start-up failure is not retried blindly
        tip = control(window, "Server status").toolTip()
        assert "Another program already uses 127.0.0.1:" in tip and "Settings" in tip
    finally:
        holder.close()
    await no_process_left(fake)
    await start_and_wait(window)  # the port is free: Start works
    await window.launcher.monitor.stop_server()
    await no_process_left(fake)


# 10. ollama missing, not executable, or exiting at once -------------------------------


async def test_missing_ollama_is_not_installed(
    fake_ollama: Callable[..., dict[str, Any]],
    make_window: Callable[[], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = fake_ollama(auto_start=True)
    monkeypatch.setenv(
        "PATH",
        os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if "ollama_server" not in p
        ),
    )
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Not installed"), 5)
    assert "ollama.com/download" in status_of(window)
    assert not control(window, "Start server").isEnabled()
    assert not server_pids(fake["port"])


async def test_ollama_not_executable_is_not_run(
    fake_ollama: Callable[..., dict[str, Any]],
    make_window: Callable[[], MainWindow],
    tmp_path: Path,
) -> None:
    fake = fake_ollama(auto_start=True)
    binary = tmp_path / "bin" / "ollama"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(stat.S_IRUSR | stat.S_IWUSR)  # not executable
    save_settings(Settings(local=LocalServerSettings(binary=str(binary))))
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Not installed"), 5)
    assert status_of(window) == f"Not installed - {binary} cannot be run"
    assert "not executable" in control(window, "Server status").toolTip()
    assert not control(window, "Start server").isEnabled()
    assert not server_pids(fake["port"])


async def test_ollama_exiting_at_once_says_why_and_is_not_retried(
    fake_ollama: Callable[..., dict[str, Any]],
    make_window: Callable[[], MainWindow],
    tmp_path: Path,
) -> None:
    fake = fake_ollama()
    binary = tmp_path / "bin" / "ollama"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\necho 'Error: unknown flag: --bogus' >&2\nexit 1\n")
    binary.chmod(0o755)
    save_settings(Settings(local=LocalServerSettings(binary=str(binary))))
    window = make_window()
    restarts: list[int] = []
    window.launcher.monitor.restarting.connect(lambda n, _e: restarts.append(n))
    await wait_until(lambda: status_of(window).startswith("Crashed"), 10)
    assert "exited with code 1 during start-up: unknown flag: --bogus" in status_of(window)
    assert restarts == []
    assert control(window, "Start server").isEnabled()
    assert not server_pids(fake["port"])


# 11. Start/Stop clicked 20 times quickly ----------------------------------------------


async def test_start_stop_twenty_times_never_two_servers_and_none_left(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(ready_delay="0.05")
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    start, stop = control(window, "Start server"), control(window, "Stop server")
    spawned: list[int] = []
    window.launcher.supervisor.started.connect(lambda: spawned.append(1))
    most = 0

    def count() -> bool:
        nonlocal most
        most = max(most, len(server_pids(fake["port"])))
        return True

    def settled() -> bool:  # the clicks were handled, and Start or Stop is offered again
        idle = len(window.launcher.tasks) == 0
        steady = status_of(window).startswith(("Running", "Stopped"))
        return bool(count() and idle and steady and (start.isEnabled() or stop.isEnabled()))

    for i in range(20):
        start.click()
        if i % 2:  # every other Stop lands while the server is still starting
            await wait_until(stop.isEnabled, 10)
        stop.click()  # the others land before it even spawned: ignored, not queued
        count()
        await wait_until(settled, 15)
    if stop.isEnabled():
        stop.click()
    await wait_until(lambda: status_of(window).startswith("Stopped") and count(), 15)
    assert most <= 1, "two servers ran at once"
    assert len(spawned) >= 10  # the clicks really started (and stopped) servers
    await no_process_left(fake)
    await start_and_wait(window)  # still usable
    await quit_leaves_nothing_running(window)
    await no_process_left(fake)


async def test_server_stopped_from_outside_is_stopped_not_crashed(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(ready_delay="0.1")
    window = make_window()
    pid = await start_and_wait(window)
    restarts: list[int] = []
    window.launcher.monitor.restarting.connect(lambda n, _e: restarts.append(n))
    os.kill(pid, signal.SIGTERM)  # `kill` from a terminal: Ollama exits 0
    await wait_until(lambda: status_of(window).startswith("Stopped"), 10)
    assert restarts == []
    await no_process_left(fake)
    await start_and_wait(window)


async def test_stop_during_restarting_cancels_the_restart(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake = fake_ollama(ready_delay="0.1")
    window = make_window()
    spawned: list[int] = []
    window.launcher.supervisor.started.connect(lambda: spawned.append(1))
    pid = await start_and_wait(window)
    os.kill(pid, signal.SIGKILL)
    await wait_until(lambda: status_of(window).startswith("Restarting"), 5)
    stop = control(window, "Stop server")
    await wait_until(stop.isEnabled, 2)
    stop.click()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 5)
    polls = window.launcher.monitor.polls
    await wait_until(lambda: window.launcher.monitor.polls >= polls + 2, 10)  # > 1 s backoff
    assert status_of(window).startswith("Stopped") and spawned == [1]
    await no_process_left(fake)
