"""The server status indicator: a coloured dot and words, details in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from launcher.core.status import ServerState, ServerStatus

COLOURS = {
    ServerState.CHECKING: "#9e9e9e",
    ServerState.RUNNING: "#2e7d32",
    ServerState.STARTING: "#f9a825",
    ServerState.STOPPING: "#f9a825",
    ServerState.STOPPED: "#757575",
    ServerState.NOT_INSTALLED: "#6d4c41",
    ServerState.PORT_IN_USE: "#c62828",
    ServerState.CRASHED: "#c62828",
    ServerState.UNREACHABLE: "#c62828",
}


class StatusIndicator(QWidget):
    """Shows a ServerStatus. Its accessible description is the full status line,
    so screen readers and scripts read exactly what a sighted user sees."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Server status")
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._dot = QLabel("●", self)
        self._dot.setAccessibleName("Server status colour")
        self._text = QLabel(self)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self._dot)
        layout.addWidget(self._text, 1)
        self.status: ServerStatus | None = None

    def set_status(self, status: ServerStatus) -> None:
        self.status = status
        colour = COLOURS.get(status.state, "#9e9e9e")
        self._dot.setStyleSheet(f"color: {colour}; font-size: 16px;")
        self._text.setText(status.description)
        self.setAccessibleDescription(status.description)
        tip = status.description + (f"\n\n{status.tooltip}" if status.tooltip else "")
        self.setToolTip(tip)
        self._text.setToolTip(tip)

    def text(self) -> str:
        return self._text.text()
