"""Which events deserve a notification, and the words: the pure rules."""

from __future__ import annotations

import signal

from launcher.core import notify


def test_downloads() -> None:
    done = notify.download_finished("qwen3:8b", "DONE")
    assert done is not None and (done.kind, done.title) == ("downloads", "Download finished")
    failed = notify.download_finished("qwen3:8b", "FAILED", "the disk is full")
    assert failed is not None and failed.warning
    assert "the disk is full" in failed.body and "qwen3:8b" in failed.body
    assert notify.download_finished("qwen3:8b", "CANCELLED") is None


def test_server_crash_and_restart_name_how_it_ended_in_words() -> None:
    crashed = notify.server_crashed(2)
    assert crashed.kind == "server" and "code 2" in crashed.body and "Server log" in crashed.body
    killed = notify.server_crashed(None, signal.SIGKILL)
    assert "SIGKILL" in killed.body
    restarting = notify.server_restarting(3, None, signal.SIGSEGV)
    assert "attempt 3" in restarting.body and "SIGSEGV" in restarting.body


def test_replies_only_when_long_and_unwatched() -> None:
    assert notify.reply_finished("m", "complete", 30, window_active=True) is None
    assert notify.reply_finished("m", "complete", 2, window_active=False) is None
    assert notify.reply_finished("m", "stopped", 30, window_active=False) is None
    ready = notify.reply_finished("m", "complete", 30, window_active=False)
    assert ready is not None and ready.title == "Reply ready"
    failed = notify.reply_finished("m", "error", 30, window_active=False)
    assert failed is not None and failed.warning


def test_each_kind_can_be_turned_off() -> None:
    notice = notify.server_crashed(1)
    assert notify.allowed(notice, {})
    assert notify.allowed(notice, {"server": True, "downloads": False})
    assert not notify.allowed(notice, {"server": False})
