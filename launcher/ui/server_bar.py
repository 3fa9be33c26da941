"""The bar above the pages: Host switcher, Settings, the server status, Start and Stop."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from launcher.config import HostProfile
from launcher.ui.status import StatusIndicator

STOP_TIP = "Stop the server the launcher started"
EXTERNAL_TIP = "This server was not started by the launcher, so it will not be stopped here."


class ServerBar(QWidget):
    """The controls; the window wires them to the Launcher.

    Signals:
        hostChosen(str): the user picked this host id.
    """

    hostChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host_combo = QComboBox(self)
        self.host_combo.setAccessibleName("Host")
        self.host_combo.setToolTip("Which Ollama to use")
        self.status_indicator = StatusIndicator(self)
        self.start_button = QPushButton("Start server", self)
        self.start_button.setAccessibleName("Start server")
        self.start_button.setToolTip("Run `ollama serve` on this computer (Ctrl+Shift+S)")
        self.stop_server_button = QPushButton("Stop server", self)
        self.stop_server_button.setAccessibleName("Stop server")
        self.stop_server_button.setToolTip(STOP_TIP)
        self.settings_button = QPushButton("Settings…", self)
        self.settings_button.setAccessibleName("Settings")
        self.settings_button.setToolTip("Hosts, the local server and the runaway guard (Ctrl+,)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        host_label = QLabel("&Host:", self)
        host_label.setBuddy(self.host_combo)
        layout.addWidget(host_label)
        layout.addWidget(self.host_combo)
        layout.addWidget(self.settings_button)
        layout.addWidget(self.status_indicator, 1)
        layout.addWidget(self.start_button)
        layout.addWidget(self.stop_server_button)
        self.host_combo.activated.connect(self._activated)

    def fill_hosts(self, profiles: Sequence[HostProfile], current: str) -> None:
        self.host_combo.clear()
        for profile in profiles:
            self.host_combo.addItem(profile.name, profile.id)
        self.select_host(current)

    def select_host(self, host_id: str) -> None:
        index = self.host_combo.findData(host_id)
        self.host_combo.setCurrentIndex(max(index, 0))

    def _activated(self, index: int) -> None:
        host_id = self.host_combo.itemData(index)
        if isinstance(host_id, str):
            self.hostChosen.emit(host_id)

    def update_buttons(
        self, *, can_start: bool, can_stop: bool, managed: bool, external: bool
    ) -> None:
        """Start/Stop only for a host we may run a server for, enabled when they can act."""
        self.start_button.setEnabled(can_start)
        self.stop_server_button.setEnabled(can_stop)
        self.stop_server_button.setToolTip(EXTERNAL_TIP if external and managed else STOP_TIP)
        self.start_button.setVisible(managed)
        self.stop_server_button.setVisible(managed)
