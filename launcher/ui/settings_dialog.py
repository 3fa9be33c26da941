"""The settings dialog: local server, remote hosts (with API keys), runaway guard.

Opened with `open()` (window-modal, the event loop keeps running). OK checks
every page, then hands the new settings and the changed keys to
`Launcher.update_settings`, which stores keys off the Qt thread and saves the
file atomically; the dialog closes once that is done, or shows why it could
not be.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from launcher.config import Settings
from launcher.core.guard import GuardSettings
from launcher.core.launcher import Launcher
from launcher.ollama import is_loopback_url, resolve_host
from launcher.ui.settings_pages import (
    WARNING_STYLE,
    GuardPage,
    LocalServerPage,
    RemoteHostsPage,
)


class SettingsDialog(QDialog):
    """Edits a copy of the launcher's settings; OK applies them.

    Args:
        launcher: whose settings are edited and applied.
        keys: the current API key of each remote host (host id -> key), read
            beforehand off the Qt thread.
        keyring_available: whether keys persist across sessions.

    Signals:
        applied(list): the settings were saved; the argument lists the names
            of hosts whose API key is kept for this session only.
    """

    applied = Signal(list)

    def __init__(
        self,
        launcher: Launcher,
        keys: Mapping[str, str],
        keyring_available: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.launcher = launcher
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings dialog")
        self.resize(640, 560)
        self.local_page = LocalServerPage(self)
        self.remote_page = RemoteHostsPage(keyring_available, self)
        self.guard_page = GuardPage(self)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Settings sections")
        self.tabs.addTab(self.local_page, "&Local server")
        self.tabs.addTab(self.remote_page, "&Remote hosts")
        self.tabs.addTab(self.guard_page, "Runaway &guard")
        self.keep_in_tray = QCheckBox(
            "Keep the launcher in the system &tray when its window is closed", self
        )
        self.keep_in_tray.setAccessibleName("Keep in tray")
        if not QSystemTrayIcon.isSystemTrayAvailable():
            self.keep_in_tray.setEnabled(False)
            self.keep_in_tray.setToolTip("This desktop has no system tray.")
        self.start_at_login = QCheckBox("Start Ollama Launcher (in the tray) when I log &in", self)
        self.start_at_login.setAccessibleName("Start at login")
        self.notify_boxes = {
            kind: QCheckBox(text, self)
            for kind, text in (
                ("downloads", "Notify: &downloads"),
                ("server", "Notify: server c&rashes"),
                ("replies", "Notify: long &replies"),
            )
        }
        for kind, box in self.notify_boxes.items():
            box.setAccessibleName(f"Notify {kind}")
        self.problem = QLabel(self)
        self.problem.setAccessibleName("Settings problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(WARNING_STYLE)
        self.problem.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setAccessibleName("OK")
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.keep_in_tray)
        layout.addWidget(self.start_at_login)
        notify_row = QHBoxLayout()
        for box in self.notify_boxes.values():
            notify_row.addWidget(box)
        layout.addLayout(notify_row)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.tabs, self.local_page.listen)

        settings = launcher.settings
        self.local_page.load(settings.local)
        env_host = (launcher.environ.get("OLLAMA_HOST") or "").strip()
        if env_host and is_loopback_url(resolve_host(env_host)):
            self.local_page.show_override(env_host)
        self.remote_page.load(settings.remotes, keys)
        self.guard_page.load(GuardSettings.from_dict(settings.guard))
        self.keep_in_tray.setChecked(settings.keep_in_tray)
        self.start_at_login.setChecked(settings.start_at_login)
        for kind, box in self.notify_boxes.items():
            box.setChecked(settings.notifications.get(kind, True) is not False)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

    def apply(self) -> None:
        """Check the pages; if all is well, save and apply, then close."""
        settings = copy.deepcopy(self.launcher.settings)  # `selected` stays as it is now
        page: QWidget = self.local_page
        try:
            settings.local = self.local_page.result()
            page = self.remote_page
            settings.remotes, keys = self.remote_page.result()
            page = self.guard_page
            settings.guard = dict(self.guard_page.result().to_dict())
            settings.keep_in_tray = self.keep_in_tray.isChecked()
            settings.start_at_login = self.start_at_login.isChecked()
            settings.notifications = {k: b.isChecked() for k, b in self.notify_boxes.items()}
        except ValueError as exc:
            self.tabs.setCurrentWidget(page)
            self._show_problem(str(exc))
            return
        self._show_problem("")
        self.buttons.setEnabled(False)
        self.launcher.tasks.spawn(self._save(settings, keys))

    async def _save(self, settings: Settings, keys: dict[str, str]) -> None:
        try:
            session_only = await self.launcher.update_settings(settings, keys)
        except OSError as exc:
            self.buttons.setEnabled(True)
            self._show_problem(f"The settings could not be saved: {exc.strerror or exc}")
            return
        self.applied.emit(session_only)
        self.accept()

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
