"""The small action bar shown on the message under the pointer (or chosen with Alt+Up/Down).

Copy, Edit (your messages), Regenerate and Continue (the last reply), and the
reply's versions `‹ 2/3 ›`: only the actions that apply to that message, so there
is no row of mostly disabled buttons. Every button has an accessible name and
is reachable with Tab once the bar is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from launcher.core.conversation import Message

#: (action, label, accessible name)
_BUTTONS = (
    ("copy", "Copy", "Copy message"),
    ("edit", "Edit", "Edit message"),
    ("regenerate", "Regenerate", "Regenerate this reply"),
    ("continue", "Continue", "Continue this reply"),
    ("previous", "‹", "Show previous version"),
    ("next", "›", "Show next version"),
)


class MessageActions(QFrame):
    """Signals:
    triggered(str, int): (action, message index); action is one of copy, edit,
        regenerate, continue, previous, next.
    """

    triggered = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Message actions")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.setSpacing(0)
        self.index = -1
        self.buttons: dict[str, QToolButton] = {}
        self.version = QLabel(self)
        self.version.setAccessibleName("Version of this reply")
        for action, label, name in _BUTTONS:
            button = QToolButton(self)
            button.setText(label)
            button.setAccessibleName(name)
            button.setToolTip(name)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, a=action: self.triggered.emit(a, self.index))
            self.buttons[action] = button
            if action == "next":
                layout.addWidget(self.version)
            layout.addWidget(button)
        self.hide()

    def focus_first(self) -> None:
        """Keyboard users land on the first action (Tab goes on through the others)."""
        for button in self.buttons.values():
            if button.isVisible() and button.isEnabled():
                button.setFocus()
                return

    def show_for(
        self,
        index: int,
        role: str,
        message: Message | None,
        *,
        last: bool,
        top: int,
        right: int,
    ) -> None:
        """Show the actions that apply to message `index`, at the top right of it."""
        self.index = index
        assistant = role == "assistant"
        can_continue = message is not None and message.state in ("stopped", "interrupted") and last
        versions = message is not None and assistant and message.version_count > 1
        self.buttons["edit"].setVisible(role == "user")
        self.buttons["regenerate"].setVisible(assistant and last)
        self.buttons["continue"].setVisible(assistant and can_continue)
        for key in ("previous", "next"):
            self.buttons[key].setVisible(versions)
        self.version.setVisible(versions)
        if versions and message is not None:
            self.version.setText(f"{message.version_index + 1}/{message.version_count}")
            self.buttons["previous"].setEnabled(message.version_index > 0)
            self.buttons["next"].setEnabled(message.version_index < message.version_count - 1)
        self.adjustSize()
        self.move(max(0, right - self.width()), max(0, top))
        self.show()
        self.raise_()
