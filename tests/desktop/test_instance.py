"""One launcher per user, with real processes: a second launch hands over and exits."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from launcher.core.instance import Activation, SingleInstance, socket_name
from tests.desktop.processes import launcher_env, run_launcher, running_launcher, wait_for
from tests.ollama_server import OllamaTestServer


def polled(server: OllamaTestServer) -> int:
    return len(server.requests_to("/api/version"))


def test_a_second_launch_hands_over_and_exits_0_within_5_s(
    tmp_path: Path, ollama_server: OllamaTestServer
) -> None:
    second_server = OllamaTestServer()
    second_server.start()
    try:
        env = launcher_env(tmp_path, OLLAMA_HOST=f"127.0.0.1:{ollama_server.port}")
        with running_launcher([], env, tmp_path / "first.log") as first:
            wait_for(lambda: polled(ollama_server) > 0, 20, "the first launcher never polled")
            started = time.monotonic()
            second = run_launcher(["--host", f"http://127.0.0.1:{second_server.port}"], env)
            elapsed = time.monotonic() - started
            assert second.returncode == 0, second.stdout + second.stderr
            assert elapsed < 5, f"the second launch took {elapsed:.1f} s"
            assert "already running" in second.stdout
            # The first one keeps running, and now watches the host the second asked for.
            wait_for(lambda: polled(second_server) > 0, 10, "the first never switched host")
            assert first.poll() is None
            log = (tmp_path / "first.log").read_text()
            assert "Traceback" not in log
            # Quiet by default: no line per status poll.
            assert "HTTP Request" not in log and "/api/version" not in log
    finally:
        second_server.stop()


def test_without_a_running_launcher_each_config_folder_is_its_own_instance(
    tmp_path: Path, ollama_server: OllamaTestServer
) -> None:
    """The socket's name includes the config folder: two isolated homes do not meet."""
    host = f"127.0.0.1:{ollama_server.port}"
    a = launcher_env(tmp_path / "a", OLLAMA_HOST=host)
    b = launcher_env(tmp_path / "b", OLLAMA_HOST=host)
    with running_launcher([], a, tmp_path / "a.log") as first:
        with running_launcher([], b, tmp_path / "b.log") as other:
            wait_for(lambda: polled(ollama_server) >= 4, 20, "both should poll")
            assert first.poll() is None and other.poll() is None


def test_a_stale_socket_from_a_killed_launcher_is_taken_over(
    tmp_path: Path, ollama_server: OllamaTestServer
) -> None:
    env = launcher_env(tmp_path, OLLAMA_HOST=f"127.0.0.1:{ollama_server.port}")
    with running_launcher([], env, tmp_path / "dead.log") as dead:
        wait_for(lambda: polled(ollama_server) > 0, 20, "the launcher never polled")
        os.kill(dead.pid, signal.SIGKILL)  # leaves its socket file behind
        dead.wait(10)
    sockets = list(tmp_path.glob("ollama-launcher-*"))
    assert sockets, "expected the killed launcher's socket to be left behind"
    with running_launcher([], env, tmp_path / "next.log") as successor:
        before = polled(ollama_server)
        wait_for(lambda: polled(ollama_server) > before, 20, "the next launcher never polled")
        assert successor.poll() is None, (tmp_path / "next.log").read_text()
        third = run_launcher([], env)
        assert third.returncode == 0, third.stdout + third.stderr
        assert successor.poll() is None


def test_the_lock_decides_at_once_and_goes_with_close(tmp_path: Path, qapp: Any) -> None:
    name = socket_name(tmp_path / "config", runtime_dir=str(tmp_path))
    first, second = SingleInstance(name), SingleInstance(name)
    try:
        assert first.claim()
        assert not first.listening  # the socket opens after the first paint
        assert not second.claim()  # no socket yet: the lock alone says "running"
        first.open_mailbox()
        assert first.listening
        first.close()
        assert second.claim()
    finally:
        first.close()
        second.close()


def test_a_launcher_holding_the_lock_that_never_answers_is_named_and_not_doubled(
    tmp_path: Path, qapp: Any
) -> None:
    # As a launcher stuck before its socket opened: the lock is held, nobody listens.
    holder = SingleInstance(socket_name(tmp_path / "config", runtime_dir=str(tmp_path)))
    assert holder.claim()
    try:
        second = run_launcher([], launcher_env(tmp_path))
    finally:
        holder.close()
    assert second.returncode == 1, second.stdout + second.stderr
    assert "seems to be running already but does not answer" in second.stderr


def test_activation_messages_round_trip_and_reject_garbage() -> None:
    assert Activation.decode(Activation("http://h:1").encode().strip()) == Activation("http://h:1")
    assert Activation.decode(Activation().encode().strip()) == Activation(None)
    for junk in (b"", b"\xff\xfe", b"[]", b'{"action": "delete"}', b"not json"):
        assert Activation.decode(junk) is None


def test_two_launches_at_once_leave_exactly_one_running(
    tmp_path: Path, ollama_server: OllamaTestServer
) -> None:
    env = launcher_env(tmp_path, OLLAMA_HOST=f"127.0.0.1:{ollama_server.port}")
    with (
        running_launcher([], env, tmp_path / "a.log") as a,
        running_launcher([], env, tmp_path / "b.log") as b,
    ):
        wait_for(lambda: a.poll() is not None or b.poll() is not None, 20, "neither gave way")
        ended, kept = (a, b) if a.poll() is not None else (b, a)
        assert ended.returncode == 0
        wait_for(lambda: polled(ollama_server) > 0, 20, "the one left never polled")
        assert kept.poll() is None
