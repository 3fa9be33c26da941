"""The row of actions on the conversation's last turn, with their keyboard shortcuts.

Regenerate (Ctrl+R), Continue (Ctrl+Shift+Enter), Copy reply (Ctrl+Shift+C),
Edit last (Ctrl+E), the last reply's versions `‹ 2/3 ›` (Alt+Left/Right) and
Attach image. Their state is asked of the ChatController each time (it owns
"busy"); the same actions for any message are on the hover bar.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from launcher.core.chat import ChatController


def _tool(parent: QWidget, text: str, name: str, keys: str) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    button.setAccessibleName(name)
    button.setAutoRaise(True)
    if keys:
        button.setShortcut(QKeySequence(keys))
        button.setToolTip(f"{name} ({keys})")
    return button


class ChatActions:
    """The buttons (not a widget: they go into the chat panel's actions row)."""

    def __init__(self, parent: QWidget) -> None:
        self.regenerate = _tool(parent, "Regenerate", "Regenerate reply", "Ctrl+R")
        self.continue_ = _tool(parent, "Continue", "Continue reply", "Ctrl+Shift+Return")
        self.copy = _tool(parent, "Copy reply", "Copy last reply", "Ctrl+Shift+C")
        self.edit = _tool(parent, "Edit last", "Edit last message", "Ctrl+E")
        self.previous_version = _tool(parent, "‹", "Previous version", "Alt+Left")
        self.version_label = QLabel(parent)
        self.version_label.setAccessibleName("Reply version")
        self.next_version = _tool(parent, "›", "Next version", "Alt+Right")
        self.attach = _tool(parent, "Attach image…", "Attach image", "")
        self.attach.setEnabled(False)
        self.attach.setToolTip("Attach images (for models that can see)")

    def add_to(self, row: QHBoxLayout) -> None:
        for widget in (
            self.regenerate,
            self.continue_,
            self.copy,
            self.edit,
            self.previous_version,
            self.version_label,
            self.next_version,
            self.attach,
        ):
            row.addWidget(widget)

    def update(self, controller: ChatController) -> None:
        """Enable what can be done now; show the versions only when there are some."""
        messages = controller.conversation.messages
        self.regenerate.setEnabled(controller.can_regenerate())
        self.continue_.setEnabled(controller.can_continue())
        self.copy.setEnabled(any(m.role == "assistant" and m.content for m in messages))
        self.edit.setEnabled(not controller.busy and any(m.role == "user" for m in messages))
        for button in (self.regenerate, self.continue_, self.copy, self.edit):
            button.setVisible(button.isEnabled())  # no row of disabled buttons
        last = messages[-1] if messages else None
        versions = last is not None and last.role == "assistant" and last.version_count > 1
        for widget in (self.previous_version, self.version_label, self.next_version):
            widget.setVisible(versions)
        if last is not None and versions:
            self.version_label.setText(f"{last.version_index + 1}/{last.version_count}")
            self.previous_version.setEnabled(not controller.busy and last.version_index > 0)
            self.next_version.setEnabled(
                not controller.busy and last.version_index < last.version_count - 1
            )
