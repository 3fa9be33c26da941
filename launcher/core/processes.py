"""Ending processes of ours: a whole process group (POSIX) or a process tree (Windows).

Ollama's runners share its process group on Linux and macOS; on Windows they
are its children. Either way, ending "the server" must end them too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys


def signal_group(pgid: int, sig: int) -> None:
    """Signal a whole process group; a group that is gone is fine."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group (POSIX; nothing to do where groups do not exist)."""
    if sys.platform != "win32":
        signal_group(pgid, signal.SIGKILL)


def kill_leftover_group(pgid: int, leader_start: float | None) -> None:
    """SIGKILL what is left of the group of a leader (pid == pgid) that has ended.

    While any member lives, the system does not give its pgid to a new process; once
    the group is empty it may. So when a live process now holds that pid and it is
    not our leader (another start time), the group is not ours: it is left alone.
    """
    if sys.platform == "win32":
        return
    from launcher.core.ownership import START_TIME_TOLERANCE, process_facts

    holder = process_facts(pgid).start_time  # None: free, or our leader's zombie
    if holder is not None and (
        leader_start is None or abs(holder - leader_start) > START_TIME_TOLERANCE
    ):
        return  # that pid now belongs to another process
    signal_group(pgid, signal.SIGKILL)


def terminate_group(pgid: int) -> None:
    """SIGTERM a whole process group: the polite request to stop (POSIX)."""
    if sys.platform != "win32":
        signal_group(pgid, signal.SIGTERM)


def kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (where there are no process groups)."""
    import psutil

    try:
        root = psutil.Process(pid)
        family = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for proc in family:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.kill()
