"""Edit and resend: which sent message is in the box; its edited text kept if the resend fails."""

from __future__ import annotations

from collections.abc import Callable

from launcher.core.chat import ChatController, ChatTurn
from launcher.ui.composer import Composer
from launcher.ui.format import counted


class MessageEditing:
    """The state of editing one user message, apart from the panel that shows it.

    Send replaces the message being edited and what followed it (the controller's
    `edit_and_resend`); when that attempt fails before its first word, `give_back`
    puts the edited text back in the box so nothing the user wrote is lost.

    Args:
        controller: whose conversation holds the messages.
        composer: the box the text goes into, and its "Editing…" label.
        changed: told the index being edited, or -1 when editing ended.
    """

    def __init__(
        self, controller: ChatController, composer: Composer, changed: Callable[[int], None]
    ) -> None:
        self._controller = controller
        self._composer = composer
        self._changed = changed
        self.index: int | None = None  # the message being edited
        self._resent: tuple[int, str] | None = None  # the edit being sent: (index, text)

    def start(self, index: int) -> None:
        """Put a user message back in the box; Send replaces it and what followed."""
        if not self._controller.can_edit(index):
            return
        messages = self._controller.conversation.messages
        self.index = index
        box = self._composer.message
        box.setPlainText(messages[index].content)
        box.setFocus()
        later = len(messages) - index - 1
        after = counted(
            self._composer, "the %n message after it", "the %n messages after it", later
        )
        label = self._composer.editing_label
        label.setText(
            f"Editing your message. Send replaces it and {after} once the new reply "
            "starts; Esc cancels."
        )
        label.show()
        self._changed(index)

    def start_last(self) -> None:
        """Edit the last message the user wrote."""
        messages = self._controller.conversation.messages
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].role == "user":
                self.start(index)
                return

    def cancel(self) -> None:
        """Leave editing; the edited text does not stay in the box."""
        if self.index is not None:
            self.index = None
            self._composer.editing_label.hide()
            self._composer.message.clear()
            self._changed(-1)

    def send(self, text: str, model: str, images: list[str]) -> ChatTurn | None:
        """Send `text`: in place of the message being edited when there is one (kept for
        `give_back` until the next send), else as a new message; None: nothing went out."""
        self._resent = None
        if self.index is None:
            return self._controller.send(text, model, images)
        self._resent = (self.index, text)
        return self._controller.edit_and_resend(self.index, text)

    def give_back(self) -> None:
        """An edit whose resend failed before its first word: the edited text is not lost."""
        if self._resent is not None:
            edited, text = self._resent
            self.start(edited)
            self._composer.message.setPlainText(text)
