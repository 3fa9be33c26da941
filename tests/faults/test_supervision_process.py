"""Fault injection on the launcher process itself (issue 7, cases 13 and 14).

A real `python -m launcher` with the fake `ollama` on PATH (its auto-start brings
the server up), killed or signalled as an operating system would.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest

from launcher.config import RemoteHost, Settings, save_settings
from launcher.core import ownership
from launcher.ui.main_window import MainWindow
from tests.faults.conftest import LauncherProcess
from tests.faults.helpers import alive, chat_once, runner_pids, server_pids, wait_for
from tests.ui.helpers import control, status_of
from tests.waiting import wait_until


def owning_a_server_with_a_runner(launched: LauncherProcess) -> ownership.ServerRecord:
    """Wait until the launcher's auto-started server answers and has a runner; its record."""
    wait_for(lambda: launched.record() is not None, 60, "the launcher never started a server")
    record = launched.record()
    assert record is not None
    wait_for(lambda: server_pids(launched.port) == [record.pid], 30)
    deadline = time.monotonic() + 30
    while True:  # the server answers once its "GPU discovery" is done
        try:
            chat_once(launched.port)
            break
        except Exception:
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.05)
    wait_for(lambda: len(runner_pids(launched.events)) == 1, 10)
    return record


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_signal_to_the_launcher_stops_it_and_its_server_within_10_s(
    launcher_process: Callable[..., LauncherProcess], signum: int
) -> None:
    launched = launcher_process()
    record = owning_a_server_with_a_runner(launched)
    runner = runner_pids(launched.events)[0]
    sent = time.monotonic()
    launched.proc.send_signal(signum)
    code = launched.proc.wait(timeout=10)
    took = time.monotonic() - sent
    assert code == 0, launched.output()
    assert not alive(record.pid) and not alive(runner)
    assert not server_pids(launched.port)
    assert launched.record() is None  # nothing left to adopt
    print(f"{signal.Signals(signum).name}: launcher and server gone in {took:.2f} s")


def test_second_signal_forces_the_exit_and_still_kills_the_servers_group(
    launcher_process: Callable[..., LauncherProcess],
) -> None:
    launched = launcher_process(FAKE_OLLAMA_HANG_ON_STOP="1")  # ignores SIGTERM, in effect
    record = owning_a_server_with_a_runner(launched)
    runner = runner_pids(launched.events)[0]
    launched.proc.send_signal(signal.SIGTERM)
    log = ownership.state_dir() / ownership.LOG_NAME
    wait_for(lambda: "received SIGTERM, shutting down" in log.read_text(), 10)
    assert launched.proc.poll() is None  # still waiting for the hung server
    launched.proc.send_signal(signal.SIGTERM)
    code = launched.proc.wait(timeout=5)
    assert code == 128 + signal.SIGTERM
    wait_for(lambda: not alive(record.pid) and not alive(runner), 2, "server group left behind")


def test_a_hung_server_cannot_hold_the_shutdown_past_10_s(
    launcher_process: Callable[..., LauncherProcess],
) -> None:
    launched = launcher_process(FAKE_OLLAMA_HANG_ON_STOP="1")
    record = owning_a_server_with_a_runner(launched)
    launched.proc.send_signal(signal.SIGHUP)
    launched.proc.wait(timeout=10.5)
    wait_for(lambda: not alive(record.pid), 2)
    assert not server_pids(launched.port)


async def test_launcher_killed_then_started_again_adopts_and_stops_its_server(
    launcher_process: Callable[..., LauncherProcess],
    make_window: Callable[[], MainWindow],
) -> None:
    launched = launcher_process()
    record = owning_a_server_with_a_runner(launched)
    runner = runner_pids(launched.events)[0]
    launched.proc.kill()  # SIGKILL: no chance to clean up
    launched.proc.wait(timeout=10)
    assert alive(record.pid) and alive(runner)  # the server outlives us (its log is a file)

    window = make_window()  # the next start, same state folder
    await wait_until(lambda: status_of(window).startswith("Running"), 15)
    assert "left running when the launcher last ended" in status_of(window)
    assert "Stop server stops it" in control(window, "Server status").toolTip()
    assert window.launcher.supervisor.adopted
    assert not control(window, "Start server").isEnabled()
    stop = control(window, "Stop server")
    await wait_until(stop.isEnabled, 5)
    stop.click()
    await wait_until(lambda: status_of(window).startswith("Stopped"), 15)
    await wait_until(lambda: not alive(record.pid) and not alive(runner), 5)
    assert ownership.load_record() is None


async def test_quitting_stops_an_adopted_server_unless_asked_to_keep_it(
    launcher_process: Callable[..., LauncherProcess],
    make_window: Callable[[], MainWindow],
) -> None:
    launched = launcher_process()
    record = owning_a_server_with_a_runner(launched)
    launched.proc.kill()
    launched.proc.wait(timeout=10)
    window = make_window()
    await wait_until(lambda: window.launcher.supervisor.adopted, 15)
    await window.shutdown()  # quit, keep-running off (the default)
    await wait_until(lambda: not alive(record.pid), 5)
    assert not server_pids(launched.port) and ownership.load_record() is None


async def test_a_reused_pid_or_someone_elses_server_is_never_touched(
    launcher_process: Callable[..., LauncherProcess],
    make_window: Callable[[], MainWindow],
) -> None:
    launched = launcher_process()
    record = owning_a_server_with_a_runner(launched)
    launched.proc.kill()
    launched.proc.wait(timeout=10)
    # The record now names the same pid with another start time: as if the pid had
    # been reused by another program. That process must not be touched.
    ownership.save_record(
        ownership.ServerRecord(record.pid, record.start_time - 60, record.port, record.cmdline)
    )
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 15)
    assert "external" in status_of(window)
    assert not window.launcher.supervisor.adopted
    assert not control(window, "Stop server").isEnabled()
    await window.shutdown()
    assert alive(record.pid)  # quitting left it alone
    assert ownership.load_record() is None  # the stale record is forgotten
    os.killpg(record.pid, signal.SIGKILL)


def test_a_hung_keyring_cannot_hold_the_shutdown(
    launcher_process: Callable[..., LauncherProcess],
) -> None:
    settings = Settings(remotes=[RemoteHost("gpu", "GPU box", "127.0.0.1:9")])
    save_settings(settings)  # a remote host: its key is read from the keyring at start
    launched = launcher_process(PYTHON_KEYRING_BACKEND="tests.faults.hung_keyring.HungKeyring")
    record = owning_a_server_with_a_runner(launched)
    sent = time.monotonic()
    launched.proc.send_signal(signal.SIGTERM)
    code = launched.proc.wait(timeout=10)
    print(f"hung keyring: shutdown took {time.monotonic() - sent:.2f} s")
    assert code == 0
    assert not alive(record.pid) and not server_pids(launched.port)
