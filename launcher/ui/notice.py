"""The notice above the pages that says what a server status means and offers its fix.

It renders `launcher.core.guidance.status_explanation()` and nothing else, so
the Chat and Models pages (which sit under it) never need advice of their own.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from launcher.core.explain import Explanation
from launcher.core.guidance import install_command


class ServerNotice(QFrame):
    """A framed box: the headline, the install command (with Copy) when there is one,
    the fix as a button, and the technical text behind a Details toggle.

    Signals:
        actionRequested(str): the action's label ("Start server", "Settings", …).
    """

    actionRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Server notice")
        self.setObjectName("ServerNotice")  # the theme's style sheet frames it
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        self.headline = QLabel(self)
        self.headline.setAccessibleName("Server notice text")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command = QLabel(self)
        self.command.setAccessibleName("Install command")
        self.command.setTextFormat(Qt.TextFormat.PlainText)
        self.command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_command = QPushButton("Copy command", self)
        self.copy_command.setAccessibleName("Copy install command")
        self.action = QPushButton(self)
        self.action.setAccessibleName("Server notice action")
        self.details_button = QPushButton("Details", self)
        self.details_button.setAccessibleName("Server notice details")
        self.details_button.setCheckable(True)
        self.details = QLabel(self)
        self.details.setAccessibleName("Server notice details text")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()

        # One row for the command and every button: the notice stays short in a small window.
        buttons = QHBoxLayout()
        buttons.addWidget(self.command, 1)
        buttons.addWidget(self.copy_command)
        buttons.addWidget(self.action)
        buttons.addWidget(self.details_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.headline)
        layout.addLayout(buttons)
        layout.addWidget(self.details)
        self.explanation: Explanation | None = None

        self.action.clicked.connect(lambda: self.actionRequested.emit(self.action.text()))
        self.details_button.toggled.connect(self.details.setVisible)
        self.copy_command.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.command.text())
        )
        self.hide()

    def set_explanation(self, explanation: Explanation | None, *, install: bool = False) -> None:
        """Show `explanation` (None hides the notice); `install` shows this OS's install
        command on a line of its own (ask `status_explanation(..., with_command=False)`)."""
        self.explanation = explanation
        if explanation is None:
            self.hide()
            return
        self.headline.setText(explanation.headline)
        command = install_command() if install else ""
        self.command.setText(command)  # empty, it still keeps the buttons to the right
        self.copy_command.setVisible(bool(command))
        self.action.setText(explanation.action)
        self.action.setVisible(bool(explanation.action))
        self.details.setText(explanation.details)
        self.details_button.setVisible(bool(explanation.details))
        if not explanation.details:
            self.details_button.setChecked(False)
        self.show()

    def text(self) -> str:
        """Everything the notice says, for tests and screen readers."""
        parts = [self.headline.text()]
        if self.command.text():
            parts.append(self.command.text())
        return "\n".join(parts)
