"""The "Show thinking" toggle: opens a reply's thinking inside its own message.

It acts on the reply being written (live, while the model still thinks) or else on
the last reply; a click on the "Thought for 12 s — show" link in the transcript does
the same for any reply.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QToolButton, QWidget

from launcher.core.chat import ChatController
from launcher.ui.conversation_view import ConversationView
from launcher.ui.reply_painter import ReplyPainter


class ThinkingToggle(QToolButton):
    """Args:
    view / painter / controller: the chat panel's parts it reads.
    rerender: shows the conversation again where the reader is.
    """

    def __init__(
        self,
        parent: QWidget,
        view: ConversationView,
        painter: ReplyPainter,
        controller: ChatController,
        rerender: Callable[[], None],
    ) -> None:
        super().__init__(parent)
        self._view = view
        self._painter = painter
        self._controller = controller
        self._rerender = rerender
        self.setText("Show thinking")
        self.setAccessibleName("Show thinking")
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setShortcut(QKeySequence("Ctrl+T"))
        self.setToolTip("Show or hide the model's thinking (Ctrl+T)")
        self.hide()
        self.clicked.connect(self.toggle_target)
        view.thinkingToggled.connect(self.apply)

    def target(self) -> int | None:
        """The reply whose thinking this opens: the one being written, else the last."""
        turn = self._painter.turn
        if turn is not None:
            return self._painter.index if turn.thinking else None
        messages = self._controller.conversation.messages
        if messages and messages[-1].role == "assistant" and messages[-1].thinking:
            return len(messages) - 1
        return None

    def sync(self) -> None:
        index = self.target()
        shown = index is not None and index in self._view.expanded_thinking
        self.setVisible(index is not None)
        self.setChecked(shown)
        self.setText("Hide thinking" if shown else "Show thinking")

    def toggle_target(self) -> None:
        index = self.target()
        if index is not None:
            self._view.expanded_thinking ^= {index}
            self.apply()

    def apply(self) -> None:
        """A thinking block opened or closed: live under a reply still thinking, else by
        showing the conversation again."""
        turn = self._painter.turn
        if turn is not None and self._view.open_stream is None:
            self._view.show_thinking(self._painter.index, turn.thinking, seconds=None, live=True)
        elif turn is None:
            self._rerender()
        self.sync()
