"""The main window: host switcher, status, Start/Stop, and the Chat, Models and Log tabs.

It holds no protocol or process logic: it observes the Launcher and sends it
commands. Closing it quits the app in order: streams and downloads are
cancelled, a server we started is stopped, connections are closed.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from launcher.config import HostProfile
from launcher.core.launcher import Launcher
from launcher.core.status import ServerStatus
from launcher.ui.chat_view import ChatPanel
from launcher.ui.history_wiring import HistoryWiring
from launcher.ui.log_view import LogView
from launcher.ui.models_view import ModelsPanel
from launcher.ui.settings_dialog import SettingsDialog
from launcher.ui.sidebar import ConversationsSidebar
from launcher.ui.status import StatusIndicator
from launcher.ui.tray import LauncherTray


class MainWindow(QMainWindow):
    """The launcher window.

    Signals:
        shutdownFinished(): the orderly shutdown after a close request is done.
    """

    shutdownFinished = Signal()

    def __init__(self, launcher: Launcher, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.launcher = launcher
        # Qt owns the launcher from now on, so it is destroyed with the window on
        # the GUI thread, never by Python's cycle collector on some other thread.
        launcher.setParent(self)
        self.setWindowTitle("Ollama Launcher")
        self.resize(980, 720)
        self._shutdown_task: asyncio.Task[None] | None = None
        self._shutdown_done = False
        self._quit_requested = False

        self.host_combo = QComboBox(self)
        self.host_combo.setAccessibleName("Host")
        self.host_combo.setToolTip("Which Ollama to use")
        self.status_indicator = StatusIndicator(self)
        self.start_button = QPushButton("Start server", self)
        self.start_button.setAccessibleName("Start server")
        self.start_button.setToolTip("Run `ollama serve` on this computer (Ctrl+Shift+S)")
        self.stop_server_button = QPushButton("Stop server", self)
        self.stop_server_button.setAccessibleName("Stop server")
        self.stop_server_button.setToolTip("Stop the server the launcher started")
        self.settings_button = QPushButton("Settings…", self)
        self.settings_button.setAccessibleName("Settings")
        self.settings_button.setToolTip("Hosts, the local server and the runaway guard (Ctrl+,)")
        self.settings_dialog: SettingsDialog | None = None
        self._settings_opening = False

        self.chat = ChatPanel(launcher.chat, self)
        self.sidebar = ConversationsSidebar(self)
        chat_page = QSplitter(Qt.Orientation.Horizontal, self)
        chat_page.addWidget(self.sidebar)
        chat_page.addWidget(self.chat)
        chat_page.setStretchFactor(0, 1)
        chat_page.setStretchFactor(1, 4)
        chat_page.setSizes([230, 750])
        self.models = ModelsPanel(
            launcher.downloads, launcher.catalog, launcher.tasks, self, inspector=launcher.inspector
        )
        self.log_view = LogView(launcher.log, self)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Sections")
        self.tabs.addTab(chat_page, "&Chat")
        self.tabs.addTab(self.models, "M&odels")
        self.tabs.addTab(self.log_view, "Server &log")

        bar = QHBoxLayout()
        host_label = QLabel("&Host:", self)
        host_label.setBuddy(self.host_combo)
        bar.addWidget(host_label)
        bar.addWidget(self.host_combo)
        bar.addWidget(self.settings_button)
        bar.addWidget(self.status_indicator, 1)
        bar.addWidget(self.start_button)
        bar.addWidget(self.stop_server_button)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addLayout(bar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.setStatusBar(QStatusBar(self))
        self.download_label = QLabel(self)
        self.download_label.setAccessibleName("Download summary")
        self.download_bar = QProgressBar(self)
        self.download_bar.setAccessibleName("Download summary progress")
        self.download_bar.setRange(0, 1000)
        self.download_bar.setMaximumWidth(160)
        self.download_bar.setTextVisible(False)
        self.download_label.hide()
        self.download_bar.hide()
        self.statusBar().addPermanentWidget(self.download_label)
        self.statusBar().addPermanentWidget(self.download_bar)
        self.models.summaryChanged.connect(self._on_download_summary)
        self.history_wiring = HistoryWiring(
            launcher, self.sidebar, self.chat, self.statusBar(), self
        )

        self.setTabOrder(self.host_combo, self.settings_button)
        self.setTabOrder(self.settings_button, self.status_indicator)
        self.setTabOrder(self.status_indicator, self.start_button)
        self.setTabOrder(self.start_button, self.stop_server_button)
        self.setTabOrder(self.stop_server_button, self.tabs)
        self._shortcut("Ctrl+Shift+S", self.start_server)
        self._shortcut("Ctrl+Shift+X", self.stop_server)
        self._shortcut("Ctrl+Q", self.quit)
        self._shortcut("Ctrl+,", self.open_settings)
        self._shortcut("Ctrl+N", lambda: self.history_wiring.new_chat())
        for index in range(3):
            self._shortcut(f"Ctrl+{index + 1}", lambda i=index: self.tabs.setCurrentIndex(i))

        self._fill_hosts()
        self.host_combo.activated.connect(self._host_activated)
        self.settings_button.clicked.connect(self.open_settings)
        launcher.profilesChanged.connect(lambda _profiles: self._fill_hosts())
        self.start_button.clicked.connect(self.start_server)
        self.stop_server_button.clicked.connect(self.stop_server)
        monitor = launcher.monitor
        monitor.statusChanged.connect(self._on_status)
        monitor.startFailed.connect(self._on_start_failed)
        launcher.supervisor.started.connect(self._update_buttons)
        launcher.supervisor.exited.connect(self._update_buttons)
        launcher.catalog.modelsChanged.connect(self.chat.set_models)
        launcher.hostChanged.connect(self._on_host_changed)
        self._on_status(monitor.status)
        self.tray = LauncherTray(self)

    def _shortcut(self, keys: str, slot: object) -> None:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)

    # ---- hosts ----------------------------------------------------------

    def _fill_hosts(self) -> None:
        self.host_combo.clear()
        for profile in self.launcher.profiles:
            self.host_combo.addItem(profile.name, profile.id)
        index = self.host_combo.findData(self.launcher.profile.id)
        self.host_combo.setCurrentIndex(max(index, 0))

    def _host_activated(self, index: int) -> None:
        host_id = self.host_combo.itemData(index)
        if isinstance(host_id, str):
            self.launcher.switch_host(host_id)

    def _on_host_changed(self, profile: HostProfile) -> None:
        index = self.host_combo.findData(profile.id)
        if index >= 0:
            self.host_combo.setCurrentIndex(index)
        self.chat.set_models([])
        self._update_buttons()

    # ---- settings -------------------------------------------------------

    def open_settings(self) -> None:
        """Open the settings dialog (window-modal, opened, never exec'd).

        The API keys and whether the keyring persists them are read first, in
        a worker thread: the keyring may block on D-Bus.
        """
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        if not self._settings_opening:
            self._settings_opening = True
            self.launcher.tasks.spawn(self._open_settings())

    async def _open_settings(self) -> None:
        try:
            available, keys = await self.launcher.read_keys()
        finally:
            self._settings_opening = False
        dialog = SettingsDialog(self.launcher, keys, available, self)
        dialog.applied.connect(self._on_settings_applied)
        dialog.finished.connect(self._on_settings_closed)
        self.settings_dialog = dialog
        dialog.open()

    def _on_settings_applied(self, session_only: list[str]) -> None:
        if session_only:
            self.statusBar().showMessage(
                "Settings saved. No system keyring: the API key of "
                + ", ".join(session_only)
                + " is kept for this session only."
            )
        else:
            self.statusBar().showMessage("Settings saved.", 5000)

    def _on_settings_closed(self) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    # ---- server ---------------------------------------------------------

    def start_server(self) -> None:
        if self.launcher.monitor.can_start:
            self.launcher.tasks.spawn(self.launcher.monitor.start_server())
            self._update_buttons()

    def stop_server(self) -> None:
        if self.launcher.monitor.can_stop:
            self.launcher.tasks.spawn(self.launcher.monitor.stop_server())
            self._update_buttons()

    def _on_status(self, status: ServerStatus) -> None:
        self.status_indicator.set_status(status)
        self._update_buttons()

    def _on_download_summary(self, text: str, per_mille: int) -> None:
        """Keep a running download visible from every tab."""
        active = per_mille >= 0
        self.download_label.setText(text)
        self.download_label.setVisible(active)
        self.download_bar.setVisible(active)
        if active:
            self.download_bar.setValue(per_mille)

    def _on_start_failed(self, message: str) -> None:
        self.statusBar().showMessage(message)

    def _update_buttons(self, *_: object) -> None:
        monitor = self.launcher.monitor
        self.start_button.setEnabled(monitor.can_start)
        self.stop_server_button.setEnabled(monitor.can_stop)
        status = monitor.status
        if status.external and monitor.profile.managed:
            self.stop_server_button.setToolTip(
                "This server was not started by the launcher, so it will not be stopped here."
            )
        else:
            self.stop_server_button.setToolTip("Stop the server the launcher started")
        self.start_button.setVisible(monitor.profile.managed)
        self.stop_server_button.setVisible(monitor.profile.managed)

    # ---- quitting -------------------------------------------------------

    async def shutdown(self) -> None:
        """Cancel streams and downloads, stop our server, close connections (idempotent)."""
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.ensure_future(self.launcher.shutdown())
        await asyncio.shield(self._shutdown_task)
        if not self._shutdown_done:
            self._shutdown_done = True
            self.shutdownFinished.emit()

    def quit(self) -> None:
        """Quit for real, even when the launcher is kept in the tray."""
        self._quit_requested = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Close only after the orderly shutdown: the first close starts it, then closes
        again. With "keep in tray" on and a tray to live in, closing only hides."""
        if self._shutdown_done:
            event.accept()
            return
        if not self._quit_requested and self.tray.hide_window():
            event.ignore()
            return
        event.ignore()
        if self._shutdown_task is None:
            self.statusBar().showMessage("Shutting down…")
            self.setEnabled(False)
            task = asyncio.ensure_future(self.shutdown())
            task.add_done_callback(lambda _t: self.close())
