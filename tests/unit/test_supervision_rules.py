"""The pure rules of supervision, with plain values: ownership, restarts, status, environment."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from launcher.core import ownership
from launcher.core.childenv import child_environment
from launcher.core.ownership import ProcessFacts, ServerRecord, Verdict, judge
from launcher.core.restarts import next_restart
from launcher.core.server import ServerExit
from launcher.core.status import Probe, ProbeKind, ServerState, Situation, decide

RECORD = ServerRecord(pid=4242, start_time=1_700_000_000.25, port=11434, cmdline=("ollama",))


def test_no_record_means_nothing_is_ours() -> None:
    assert judge(None, ProcessFacts(4242, 1_700_000_000.25)) is Verdict.NOTHING


def test_same_pid_and_start_time_is_ours() -> None:
    assert judge(RECORD, ProcessFacts(4242, 1_700_000_000.25)) is Verdict.OURS


def test_a_reused_pid_is_never_ours() -> None:
    assert judge(RECORD, ProcessFacts(4242, 1_700_000_100.0)) is Verdict.GONE


def test_a_process_that_is_gone_is_forgotten() -> None:
    assert judge(RECORD, ProcessFacts(4242, None)) is Verdict.GONE
    assert judge(RECORD, None) is Verdict.GONE


def test_record_round_trip_and_a_damaged_record_is_nothing(tmp_path: Path) -> None:
    ownership.save_record(RECORD, tmp_path)
    assert ownership.load_record(tmp_path) == RECORD
    (tmp_path / ownership.RECORD_NAME).write_text('{"pid": "4242", "start_time": 1}')
    assert ownership.load_record(tmp_path) is None
    (tmp_path / ownership.RECORD_NAME).write_text("{not json")
    assert ownership.load_record(tmp_path) is None
    ownership.clear_record(tmp_path)
    assert ownership.load_record(tmp_path) is None


def test_facts_of_a_real_process_match_only_that_process(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = ownership.record_for(child.pid, 11434, tmp_path / "log")
        assert record is not None
        assert judge(record, ownership.process_facts(child.pid)) is Verdict.OURS
        # Our own process has another start time: a record naming our pid with the
        # child's start time (a reused pid) is not ours.
        mine = ownership.process_facts(os.getpid())
        assert judge(ServerRecord(os.getpid(), record.start_time, 1), mine) is Verdict.GONE
    finally:
        child.kill()
        child.wait()
    assert judge(record, ownership.process_facts(child.pid)) is Verdict.GONE


CRASH = ServerExit(code=2, log_tail=("panic: boom",))


def test_restart_backoff_is_1_2_4_seconds_then_stays_down() -> None:
    assert next_restart(CRASH, [], 1000.0) == 1.0
    assert next_restart(CRASH, [999.0], 1000.0) == 2.0
    assert next_restart(CRASH, [998.0, 999.0], 1000.0) == 4.0
    assert next_restart(CRASH, [997.0, 998.0, 999.0], 1000.0) is None


def test_restarts_older_than_five_minutes_do_not_count() -> None:
    assert next_restart(CRASH, [600.0, 650.0, 699.0], 1000.0) == 1.0


def test_a_requested_stop_or_a_start_up_failure_is_not_restarted() -> None:
    assert next_restart(ServerExit(code=0, requested=True), [], 1.0) is None
    stopped_by_someone = ServerExit(code=0)  # SIGTERM from a terminal: a clean exit
    assert not stopped_by_someone.crashed
    assert next_restart(stopped_by_someone, [], 1.0) is None
    startup = ServerExit(code=1, during_startup=True, log_tail=("Error: listen tcp: bind",))
    assert next_restart(startup, [], 1.0) is None


def test_status_while_a_restart_is_pending() -> None:
    situation = Situation("http://127.0.0.1:11434", True, "ollama", last_exit=CRASH)
    refused = Probe(ProbeKind.REFUSED)
    pending = decide(refused, Situation(**{**situation.__dict__, "restart_attempt": 2}))
    assert pending.state is ServerState.RESTARTING
    assert pending.description == "Restarting after a crash (exit code 2)\u2026"
    assert "Restart 2 of 3" in pending.tooltip and "panic: boom" in pending.tooltip
    assert decide(refused, situation).state is ServerState.CRASHED
    killed = ServerExit(code=None, signal=9)
    assert (
        "signal 9"
        in decide(
            refused, Situation(**{**situation.__dict__, "restart_attempt": 1, "last_exit": killed})
        ).description
    )


def test_status_of_an_adopted_server_says_it_was_left_running() -> None:
    situation = Situation("http://127.0.0.1:11434", True, "ollama", child_running=True)
    ollama = Probe(ProbeKind.OLLAMA, "0.12.3", 2.0)
    adopted = decide(ollama, Situation(**{**situation.__dict__, "adopted": True}))
    assert adopted.state is ServerState.RUNNING and not adopted.external
    assert "left running when the launcher last ended" in adopted.description
    assert "left running" not in decide(ollama, situation).description


def test_child_environment_applies_tuning_proxy_and_noprune() -> None:
    env = child_environment(
        "127.0.0.1:11500",
        tuning={"OLLAMA_CONTEXT_LENGTH": "8192", "OLLAMA_HOST": "0.0.0.0:1"},
        https_proxy="http://proxy.example:3128",
        noprune=True,
        base={"PATH": "/bin"},
    )
    assert env["OLLAMA_CONTEXT_LENGTH"] == "8192"
    assert env["HTTPS_PROXY"] == "http://proxy.example:3128"
    assert env["OLLAMA_NOPRUNE"] == "1"
    assert env["OLLAMA_HOST"] == "127.0.0.1:11500"  # tuning cannot move the address
    assert env["PATH"] == "/bin"
    plain = child_environment("127.0.0.1:11500", base={})
    assert "OLLAMA_NOPRUNE" not in plain and "HTTPS_PROXY" not in plain


def test_child_listens_on_the_network_only_when_explicitly_allowed() -> None:
    assert child_environment("0.0.0.0:11434", base={})["OLLAMA_HOST"] == "127.0.0.1:11434"
    truthy_string: object = "false"
    env = child_environment("0.0.0.0:11434", allow_network=truthy_string, base={})  # type: ignore[arg-type]
    assert env["OLLAMA_HOST"] == "127.0.0.1:11434"
    allowed = child_environment("0.0.0.0:11434", allow_network=True, base={})
    assert allowed["OLLAMA_HOST"] == "0.0.0.0:11434"
    assert child_environment("localhost:9", base={})["OLLAMA_HOST"] == "localhost:9"


def test_leftover_group_is_killed_but_never_a_group_whose_pid_was_reused() -> None:
    import psutil

    from launcher.core.processes import kill_leftover_group
    from tests.faults.helpers import wait_for

    code = (
        "import subprocess, sys; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(p.pid, flush=True)"
    )
    # A "server" that leaves a "runner" in its group, then exits.
    leader = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    assert leader.stdout is not None
    runner = psutil.Process(int(leader.stdout.readline()))
    start = ownership.process_facts(leader.pid).start_time
    leader.wait()
    # Another group leader, standing in for a process that was given a reused pid.
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    try:
        kill_leftover_group(other.pid, start)  # its start time is not our leader's
        assert other.poll() is None and runner.is_running()
        kill_leftover_group(leader.pid, start)  # our leader is gone: its group goes too
        wait_for(lambda: ownership.process_facts(runner.pid).start_time is None, 5)
    finally:
        other.kill()
        other.wait()
        with contextlib.suppress(psutil.NoSuchProcess):
            runner.kill()
