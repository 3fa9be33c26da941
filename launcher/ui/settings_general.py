"""Settings > General: how the window behaves (Enter in the message box, the tray, login,
notifications)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QSystemTrayIcon, QVBoxLayout, QWidget

from launcher.config import Settings
from launcher.ui.settings_common import named


class GeneralPage(QWidget):
    """Window-wide choices; `apply_to()` writes them into a settings copy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enter_sends = QCheckBox("&Enter sends the message", self)
        named(
            self.enter_sends,
            "Enter sends the message",
            "On: Enter sends and Shift+Enter starts a new line. Off: the other way round.",
        )
        self.enter_note = QLabel(self)
        self.enter_note.setWordWrap(True)
        named(self.enter_note, "Enter key note")
        self.keep_in_tray = QCheckBox(
            "Keep the launcher in the system &tray when its window is closed", self
        )
        named(self.keep_in_tray, "Keep in tray")
        if not QSystemTrayIcon.isSystemTrayAvailable():
            self.keep_in_tray.setEnabled(False)
            self.keep_in_tray.setToolTip("This desktop has no system tray.")
        self.start_at_login = QCheckBox("Start Ollama Launcher (in the tray) when I log &in", self)
        named(self.start_at_login, "Start at login")
        self.notify_boxes = {
            kind: QCheckBox(text, self)
            for kind, text in (
                ("downloads", "Notify when a &download finishes or fails"),
                ("server", "Notify when the server c&rashes or is restarted"),
                ("replies", "Notify when a long &reply finishes in the background"),
            )
        }
        for kind, box in self.notify_boxes.items():
            named(box, f"Notify {kind}")
        layout = QVBoxLayout(self)
        layout.addWidget(self.enter_sends)
        layout.addWidget(self.enter_note)
        layout.addWidget(self.keep_in_tray)
        layout.addWidget(self.start_at_login)
        for box in self.notify_boxes.values():
            layout.addWidget(box)
        layout.addStretch(1)
        self.enter_sends.toggled.connect(self._update_note)

    def _update_note(self) -> None:
        if self.enter_sends.isChecked():
            self.enter_note.setText("Enter sends; Shift+Enter starts a new line.")
        else:
            self.enter_note.setText("Enter starts a new line; Ctrl+Enter sends.")

    def load(self, settings: Settings) -> None:
        self.enter_sends.setChecked(settings.enter_sends)
        self.keep_in_tray.setChecked(settings.keep_in_tray)
        self.start_at_login.setChecked(settings.start_at_login)
        for kind, box in self.notify_boxes.items():
            box.setChecked(settings.notifications.get(kind, True) is not False)
        self._update_note()

    def apply_to(self, settings: Settings) -> None:
        settings.enter_sends = self.enter_sends.isChecked()
        settings.keep_in_tray = self.keep_in_tray.isChecked()
        settings.start_at_login = self.start_at_login.isChecked()
        settings.notifications = {k: b.isChecked() for k, b in self.notify_boxes.items()}
