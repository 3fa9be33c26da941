"""The server status indicator: a coloured dot, words (elided), a warning sign when the host
carries a risk the user chose (certificate checks off), the whole text as tooltip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from launcher.core.status import ServerState, ServerStatus

COLOURS = {
    ServerState.CHECKING: "#9e9e9e",
    ServerState.RUNNING: "#2e7d32",
    ServerState.STARTING: "#f9a825",
    ServerState.STOPPING: "#f9a825",
    ServerState.STOPPED: "#757575",
    ServerState.NOT_INSTALLED: "#8d6e63",
    ServerState.PORT_IN_USE: "#c62828",
    ServerState.CRASHED: "#c62828",
    ServerState.UNREACHABLE: "#c62828",
}
#: The warning sign's colour: readable on light and dark backgrounds.
WARNING_COLOUR = "#ef6c00"


class ElidedLabel(QLabel):
    """A one-line label that never asks for more width than it gets: long text ends in "…".

    A plain QLabel's minimum width is its whole text, so a long message would
    make the window grow by itself. `text()` stays the full text.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def elided(self) -> str:
        """The text as painted at the current width."""
        return self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, max(self.contentsRect().width(), 0)
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        flags = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        painter.drawText(rect, flags, self.elided())
        painter.end()


class StatusIndicator(QWidget):
    """Shows a ServerStatus. Its accessible description is the full status line,
    so screen readers and scripts read exactly what a sighted user sees."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Server status")
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._dot = QLabel("●", self)
        self._dot.setAccessibleName("Server status colour")
        self._text = ElidedLabel(self)
        self.warning = QLabel("\u26a0", self)  # shown while the status carries a warning
        self.warning.setAccessibleName("Server status warning")
        self.warning.setStyleSheet(f"color: {WARNING_COLOUR}; font-size: 16px;")
        self.warning.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self._dot)
        layout.addWidget(self.warning)
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
        self.warning.setVisible(bool(status.warning))
        self.warning.setToolTip(status.warning)
        self.warning.setAccessibleDescription(status.warning)

    def text(self) -> str:
        return self._text.text()

    def shown_text(self) -> str:
        """What fits on screen (the full text is in the tooltip)."""
        return self._text.elided()
