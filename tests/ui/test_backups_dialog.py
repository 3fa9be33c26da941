"""History that cannot be lost: a backup soon after start-up, and Restore from backup… ."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from launcher.core.backups import BackupInfo, backup_name, count_conversations, existing
from launcher.ui.backups_dialog import describe, open_restore_dialog
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ui.helpers import control, ready, reply_finished, transcript, type_and_send
from tests.waiting import wait_until


def titles(window: MainWindow) -> list[str]:
    items = window.sidebar.list
    return [items.item(row).text() for row in range(items.count())]


async def test_a_backup_is_made_at_start_up_and_can_be_restored(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], isolated_env: Path
) -> None:
    folder = isolated_env / "data" / "backups"
    window = await ready(make_window)
    await wait_until(lambda: bool(existing(folder)), 60)
    daily = next(iter(existing(folder)))
    assert count_conversations(daily) == 0  # taken before any chat
    external.reply = ReplySpec(text="kept in the backup")
    type_and_send(window, "first chat")
    await reply_finished(window)
    await window.launcher.history.store.backup()  # today's again: replaces the first
    type_and_send(window, "second message")
    await reply_finished(window)
    window.launcher.chat.new_conversation()
    external.reply = ReplySpec(text="only in the current database")
    type_and_send(window, "later chat")
    await reply_finished(window)
    await wait_until(lambda: titles(window) == ["later chat", "first chat"], 5)

    dialog = open_restore_dialog(window, window.launcher)
    backups = control(dialog, "Backups")
    await wait_until(lambda: backups.count() == 1, 5)  # one daily backup per day
    assert "1 conversation (daily)" in backups.item(0).text()
    control(dialog, "Restore").click()
    box = dialog.confirmation
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.Yes).click()
    await wait_until(lambda: titles(window) == ["first chat"], 10)
    await wait_until(lambda: "kept in the backup" in transcript(window), 5)
    assert "second message" not in transcript(window)
    status = control(dialog, "Backup status")
    await wait_until(lambda: "kept as" in status.text(), 5)
    safety = [p for p in existing(folder) if p.name.endswith("-restore.sqlite3")]
    assert len(safety) == 1 and count_conversations(safety[0]) == 2  # nothing lost
    await wait_until(lambda: backups.count() == 2, 5)
    rows = [backups.item(i).text() for i in range(2)]
    assert any("2 conversations (before a restore)" in row for row in rows)
    dialog.close()


async def test_cancel_changes_nothing(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], isolated_env: Path
) -> None:
    window = await ready(make_window)
    folder = isolated_env / "data" / "backups"
    await wait_until(lambda: bool(existing(folder)), 60)
    type_and_send(window, "stay")
    await reply_finished(window)
    dialog = open_restore_dialog(window, window.launcher)
    await wait_until(lambda: control(dialog, "Backups").count() == 1, 5)
    control(dialog, "Restore").click()
    assert dialog.confirmation is not None
    dialog.confirmation.button(QMessageBox.StandardButton.Cancel).click()
    assert dialog.confirmation is None
    assert titles(window) == ["stay"]
    assert len(existing(folder)) == 1
    dialog.close()


def test_each_backup_says_when_how_many_and_why(tmp_path: Path) -> None:
    from datetime import datetime

    when = datetime(2026, 12, 1, 14, 5)
    path = tmp_path / backup_name(when.timestamp(), "v1")
    assert describe(BackupInfo(path, when, "v1", 3)) == (
        "Tue 01 Dec 2026, 14:05 — 3 conversations (before an upgrade from version 1)"
    )
    assert "cannot be read" in describe(BackupInfo(path, when, "", None))
