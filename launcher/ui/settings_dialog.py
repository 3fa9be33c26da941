"""The settings dialog: general, local server, remote hosts (with API keys), runaway guard.

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
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from launcher.config import Settings
from launcher.core.explain import explain
from launcher.core.guard_settings import GuardSettings
from launcher.core.launcher import Launcher
from launcher.ollama import is_loopback_url, resolve_host
from launcher.ui.server_settings_page import ServerSettingsPage
from launcher.ui.settings_history import HistoryPage
from launcher.ui.settings_pages import (
    WARNING_STYLE,
    GeneralPage,
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
        self.resize(680, 580)
        self.general_page = GeneralPage(self)
        self.local_page = LocalServerPage(self)
        self.remote_page = RemoteHostsPage(keyring_available, self)
        self.guard_page = GuardPage(self)
        self.history_page = HistoryPage(self)
        self.server_page = ServerSettingsPage(launcher.settings, self)
        self.server_page.link(self.local_page.listen, self.local_page.models_dir)
        self.keep_in_tray = self.general_page.keep_in_tray
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Settings sections")
        self.tabs.addTab(self.local_page, "&Local server")
        self.tabs.addTab(self.server_page, "Ser&ver")
        self.tabs.addTab(self.remote_page, "&Remote hosts")
        self.tabs.addTab(self.guard_page, "Runaway &guard")
        self.tabs.addTab(self.general_page, "Ge&neral")
        self.tabs.addTab(self.history_page, "&History")
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
        self.general_page.load(settings)
        self.history_page.load(settings)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

    def apply(self) -> None:
        """Check the pages; if all is well, save and apply, then close."""
        settings = copy.deepcopy(self.launcher.settings)  # `selected` stays as it is now
        page: QWidget = self.local_page
        try:
            settings.local = self.local_page.result()
            page = self.server_page
            settings.local = self.server_page.result(settings.local)
            page = self.remote_page
            settings.remotes, keys = self.remote_page.result()
            page = self.guard_page
            settings.guard = dict(self.guard_page.result().to_dict())
            self.general_page.apply_to(settings)
            self.history_page.apply_to(settings)
        except ValueError as exc:
            self.tabs.setCurrentWidget(page)
            self._show_problem(str(exc))
            return
        self._show_problem("")
        self.buttons.setEnabled(False)
        self.launcher.tasks.spawn(self._save(settings, keys))

    async def _save(self, settings: Settings, keys: dict[str, str]) -> None:
        current = self.launcher.settings.markdown_folder
        problem = await self.history_page.check(settings, current)  # history12: off the Qt thread
        if problem:
            self.buttons.setEnabled(True)
            self.tabs.setCurrentWidget(self.history_page)
            self._show_problem(problem)
            return
        try:
            session_only = await self.launcher.update_settings(settings, keys)
        except OSError as exc:
            self.buttons.setEnabled(True)
            self._show_problem(f"The settings could not be saved. {explain(exc).headline}")
            self.problem.setToolTip(explain(exc).details)
            return
        self.applied.emit(session_only)
        self.accept()

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
