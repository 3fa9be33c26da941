"""The tray icon: the server's status at a glance, a menu to reach the launcher, notifications.

It lives as long as the window and is how a launcher kept running without
its window is reached: Open, Start server, Stop server, a line per running
download, Quit. It also shows the notifications `launcher.core.notify`
decides on (downloads, server crashes, long replies nobody was watching).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from launcher.config import config_dir
from launcher.core import notify
from launcher.core.pulljob import PullJob
from launcher.core.pullprogress import JobState
from launcher.core.status import ServerState, ServerStatus
from launcher.ui import desktop_notify
from launcher.ui.app_icon import app_icon as app_icon  # its home before the first paint
from launcher.ui.shell import bring_to_front as bring_to_front
from launcher.ui.status import COLOURS

if TYPE_CHECKING:
    from launcher.core.chat import ChatTurn
    from launcher.ui.main_window import MainWindow

log = logging.getLogger(__name__)

NOTICE_MARKER = "tray-notice-shown"  # in the config folder: the one-time "still running" notice
MESSAGE_MS = 8000
ICON_SIZE = 64
MODELS_TAB = 1
HEADLESS = ("offscreen", "minimal")  # no person to notify (tests, --self-test)


def status_icon(base: QIcon, colour: str) -> QIcon:
    """The app icon with a status dot in its lower right corner."""
    pixmap = QPixmap(ICON_SIZE, ICON_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if not base.isNull():
        painter.drawPixmap(0, 0, base.pixmap(ICON_SIZE, ICON_SIZE))
    radius = ICON_SIZE * 0.2
    centre = QPointF(ICON_SIZE - radius - 2, ICON_SIZE - radius - 2)
    painter.setPen(QPen(QColor("#ffffff"), 3))
    painter.setBrush(QColor(colour))
    painter.drawEllipse(centre, radius, radius)
    painter.end()
    return QIcon(pixmap)


def download_line(job: PullJob) -> str:
    """One menu line for a running or queued download."""
    if job.state is JobState.QUEUED:
        return f"{job.model}: queued"
    total = job.progress.total
    percent = f"{job.progress.overall * 100:.0f}%" if total else "starting"
    return f"{job.model}: {percent}"


class LauncherTray(QObject):
    """The tray icon of a main window.

    Args:
        window: the main window; its launcher is observed, its commands used.

    Signals:
        notified(object): a notify.Notice was shown (or would have been, where
            the desktop has no tray); for the log and for tests.

    Attributes:
        icon: the QSystemTrayIcon (shown only where a tray exists).
        menu: its context menu.
        colour: the colour of the status dot now.
        long_reply_seconds: replies shorter than this end without a notice.
        desktop_notifications: where there is no tray, hand notices to the
            desktop's notification service (off on headless platforms).
    """

    notified = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        launcher = window.launcher
        self.launcher = launcher
        self.long_reply_seconds = notify.LONG_REPLY_SECONDS
        # Without a tray, the desktop's notification service; never where nobody looks.
        self.desktop_notifications = QGuiApplication.platformName() not in HEADLESS
        self.colour = COLOURS[ServerState.CHECKING]
        self._icons: dict[str, QIcon] = {}
        self._base_icon = window.windowIcon()
        if self._base_icon.isNull():
            self._base_icon = app_icon()
        self._reply_started: dict[int, float] = {}
        self._download_actions: dict[PullJob, QAction] = {}

        self.icon = QSystemTrayIcon(self)
        self.menu = QMenu(window)
        self.menu.setAccessibleName("Tray menu")
        self.open_action = self.menu.addAction("&Open Ollama Launcher", self.open_window)
        self.menu.addSeparator()
        self.start_action = self.menu.addAction("&Start server", window.start_server)
        self.stop_action = self.menu.addAction("S&top server", window.stop_server)
        self.menu.addSeparator()  # download lines go between this and the next separator
        self._downloads_end = self.menu.addSeparator()
        self.quit_action = self.menu.addAction("&Quit", window.quit)
        self._downloads_end.setVisible(False)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.icon.messageClicked.connect(self.open_window)

        monitor = launcher.monitor
        monitor.statusChanged.connect(self._on_status)
        launcher.hostChanged.connect(lambda _profile: self._on_status(monitor.status))
        launcher.supervisor.started.connect(lambda: self._on_status(monitor.status))
        if hasattr(monitor, "crashed"):
            monitor.crashed.connect(self._on_crashed)
        else:
            launcher.supervisor.exited.connect(self._on_exited)
        if hasattr(monitor, "restarting"):
            monitor.restarting.connect(self._on_restarting)
        launcher.downloads.jobAdded.connect(self._on_job_added)
        launcher.downloads.jobFinished.connect(self._on_job_finished)
        launcher.downloads.jobRemoved.connect(self._on_job_removed)
        launcher.chat.turnStarted.connect(self._on_turn_started)
        launcher.chat.turnFinished.connect(self._on_turn_finished)
        self._on_status(monitor.status)
        if self.available:
            self.icon.show()

    @property
    def available(self) -> bool:
        """Whether this desktop has a system tray to put the icon in."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    # ---- window ---------------------------------------------------------

    def open_window(self) -> None:
        bring_to_front(self.window)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_window()

    def hide_window(self) -> bool:
        """Keep running in the tray instead of quitting, if the user wants that and a
        tray exists; True when the window was hidden. The first time, say so."""
        if not self.launcher.settings.keep_in_tray or not self.available:
            return False
        self.icon.show()
        self.window.hide()
        marker = config_dir() / NOTICE_MARKER
        if not marker.exists():
            self.show_notice(
                notify.Notice(
                    "general",
                    "Ollama Launcher is still running",
                    "It keeps running here in the tray. Quit from this icon's menu or with "
                    "Ctrl+Q; turn this off in Settings.",
                )
            )
            with contextlib.suppress(OSError):
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
        return True

    # ---- status ---------------------------------------------------------

    def _on_status(self, status: ServerStatus) -> None:
        monitor = self.launcher.monitor
        self.colour = COLOURS.get(status.state, COLOURS[ServerState.CHECKING])
        icon = self._icons.get(self.colour)
        if icon is None:
            icon = self._icons[self.colour] = status_icon(self._base_icon, self.colour)
        self.icon.setIcon(icon)
        self.icon.setToolTip(f"Ollama Launcher\n{status.description}")
        managed = monitor.profile.managed
        self.start_action.setVisible(managed)
        self.stop_action.setVisible(managed)
        self.start_action.setEnabled(monitor.can_start)
        self.stop_action.setEnabled(monitor.can_stop)

    # ---- downloads ------------------------------------------------------

    def _on_job_added(self, job: PullJob) -> None:
        """Every job gets a line, shown while it is queued or running (a paused job that
        is resumed comes back)."""
        action = QAction(download_line(job), self.menu)
        action.triggered.connect(self._show_downloads)
        self.menu.insertAction(self._downloads_end, action)
        self._download_actions[job] = action
        job.changed.connect(lambda: self._update_line(job))
        self._update_line(job)

    def _update_line(self, job: PullJob) -> None:
        """Follow the job's progress; the text changes at most once per percent."""
        action = self._download_actions.get(job)
        if action is not None:
            text = download_line(job)
            if text != action.text():
                action.setText(text)
            action.setVisible(job.active)
        self._downloads_end.setVisible(bool(self.download_lines))

    def _on_job_removed(self, job: PullJob) -> None:
        action = self._download_actions.pop(job, None)
        if action is not None:
            self.menu.removeAction(action)
            action.deleteLater()
        self._downloads_end.setVisible(bool(self.download_lines))

    def _show_downloads(self) -> None:
        self.window.tabs.setCurrentIndex(MODELS_TAB)
        self.open_window()

    def _on_job_finished(self, job: PullJob) -> None:
        self._update_line(job)
        self.show_notice(notify.download_finished(job.model, job.state.name, job.error))

    @property
    def download_lines(self) -> list[str]:
        """The menu's lines for queued and running downloads, top to bottom."""
        return [a.text() for a in self._download_actions.values() if a.isVisible()]

    # ---- server ---------------------------------------------------------

    def _on_exited(self, exit: object) -> None:
        if getattr(exit, "requested", True):
            return  # we asked it to stop
        self._on_crashed(exit)

    def _on_crashed(self, exit: object) -> None:
        code, sig = getattr(exit, "code", None), getattr(exit, "signal", None)
        self.show_notice(notify.server_crashed(code, sig))

    def _on_restarting(self, attempt: int, exit: object) -> None:
        code, sig = getattr(exit, "code", None), getattr(exit, "signal", None)
        self.show_notice(notify.server_restarting(attempt, code, sig))

    # ---- replies --------------------------------------------------------

    def _on_turn_started(self, turn: ChatTurn) -> None:
        self._reply_started[id(turn)] = time.monotonic()

    def _on_turn_finished(self, turn: ChatTurn) -> None:
        started = self._reply_started.pop(id(turn), None)
        if started is None:
            return
        active = self.window.isVisible() and self.window.isActiveWindow()
        model = turn.conversation.settings.model
        notice = notify.reply_finished(
            model, turn.reply.state, time.monotonic() - started, active, self.long_reply_seconds
        )
        self.show_notice(notice)

    # ---- notifications --------------------------------------------------

    def show_notice(self, notice: notify.Notice | None) -> None:
        """Show a notification, unless the user turned its kind off."""
        if notice is None or not notify.allowed(notice, self.launcher.settings.notifications):
            return
        log.info("notification: %s: %s", notice.title, notice.body)
        if self.available and self.icon.isVisible():
            kind = (
                QSystemTrayIcon.MessageIcon.Warning
                if notice.warning
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.icon.showMessage(notice.title, notice.body, kind, MESSAGE_MS)
        elif self.desktop_notifications:
            # No tray (GNOME, for one): the desktop's notification service still shows it.
            desktop_notify.send(notice.title, notice.body, notice.warning)
        self.notified.emit(notice)
