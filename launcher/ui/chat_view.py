"""The chat panel: model picker, the conversation, the message box, Send and Stop.

The view never talks to the network: it asks the ChatController to send or
stop, and paints what a ChatTurn accumulated on a 40 ms timer, appending at the
end of the document. A server sending thousands of chunks a second therefore
costs at most 25 small paints a second.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.core.chat import ChatController, ChatTurn
from launcher.core.conversation import Conversation, Message
from launcher.ollama import ModelInfo
from launcher.ui.markdown import MarkdownStream, SafeTextBrowser, render_markdown

PAINT_INTERVAL_MS = 40
THINKING_SCHEME = "thinking"


def stats_text(message: Message) -> str:
    """'62.5 tokens/s · first token 120 ms' from a reply's stats."""
    parts = []
    tps = message.stats.get("tokens_per_second")
    if tps:
        parts.append(f"{tps:.1f} tokens/s")
    ttft = message.stats.get("ttft_ms")
    if ttft is not None:
        parts.append(f"first token {ttft:.0f} ms")
    return " · ".join(parts)


class ConversationView(SafeTextBrowser):
    """The transcript: one document, messages appended at its end.

    Its plain text is the transcript ("You", the user's text, "Assistant
    (model)", the reply, and a line that says how the reply ended).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversation")
        self.setMinimumHeight(200)

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def scroll_to_bottom(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _cursor_at_end(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def append_line(
        self,
        text: str,
        *,
        bold: bool = False,
        colour: str = "",
        italic: bool = False,
        href: str = "",
    ) -> None:
        """A paragraph of plain (never interpreted) text at the end of the document."""
        cursor = self._cursor_at_end()
        if not self.document().isEmpty():
            cursor.insertBlock()
        fmt = QTextCharFormat()
        if bold:
            fmt.setFontWeight(700)
        if italic:
            fmt.setFontItalic(True)
        if colour:
            fmt.setForeground(QColor(colour))
        if href:
            fmt.setAnchor(True)
            fmt.setAnchorHref(href)
            fmt.setFontUnderline(True)
        cursor.insertText(text, fmt)

    def append_user(self, message: Message) -> None:
        self.append_line("You", bold=True, colour="#1565c0")
        cursor = self._cursor_at_end()
        cursor.insertBlock()
        cursor.insertText(message.content, QTextCharFormat())

    def begin_reply(self, model: str) -> MarkdownStream:
        self.append_line(
            f"Assistant ({model})" if model else "Assistant", bold=True, colour="#2e7d32"
        )
        return MarkdownStream(self)

    def end_reply(self, message: Message, index: int) -> None:
        """The line under a reply: how it ended, its speed, and its thinking link."""
        if message.thinking:
            words = len(message.thinking.split())
            self.append_line(
                f"Thought for {words} words (show)",
                italic=True,
                colour="#6a1b9a",
                href=f"{THINKING_SCHEME}:{index}",
            )
        if message.state == "error":
            self.append_line(f"⚠ {message.note}", colour="#c62828")
        elif message.state in ("stopped", "interrupted"):
            note = message.note or ("Stopped." if message.state == "stopped" else "Interrupted.")
            self.append_line(f"■ {note}", italic=True, colour="#6d4c41")
        elif message.note:
            self.append_line(message.note, italic=True, colour="#6d4c41")
        stats = stats_text(message)
        if stats and message.state == "complete":
            self.append_line(stats, italic=True, colour="#757575")

    def show_conversation(self, conversation: Conversation) -> None:
        """Render a whole conversation (history) through the same paths as live replies."""
        self.clear()
        for index, message in enumerate(conversation.messages):
            if message.role == "user":
                self.append_user(message)
            elif message.role == "assistant":
                self.append_line(
                    f"Assistant ({conversation.settings.model})", bold=True, colour="#2e7d32"
                )
                render_markdown(self, message.content)
                self.end_reply(message, index)


class ChatPanel(QWidget):
    """Model picker, transcript, thinking panel, message box, Send and Stop generating."""

    def __init__(self, controller: ChatController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model_combo = QComboBox(self)
        self.model_combo.setAccessibleName("Model")
        self.model_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.model_combo.setPlaceholderText("No models installed")
        self.conversation = ConversationView(self)
        self.thinking_toggle = QToolButton(self)
        self.thinking_toggle.setText("Show thinking")
        self.thinking_toggle.setAccessibleName("Show thinking")
        self.thinking_toggle.setCheckable(True)
        self.thinking_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.thinking_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.thinking = QPlainTextEdit(self)
        self.thinking.setAccessibleName("Thinking")
        self.thinking.setReadOnly(True)
        self.thinking.setVisible(False)
        self.thinking.setMaximumHeight(140)
        self.message = QPlainTextEdit(self)
        self.message.setAccessibleName("Message")
        self.message.setPlaceholderText("Type a message. Ctrl+Enter sends.")
        self.message.setTabChangesFocus(True)
        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send the message (Ctrl+Enter)")
        self.stop_button = QPushButton("Stop generating", self)
        self.stop_button.setAccessibleName("Stop generating")
        self.stop_button.setToolTip("Stop the reply now (Esc)")
        self.stop_button.setEnabled(False)
        self.stats = QLabel(self)
        self.stats.setAccessibleName("Reply statistics")

        top = QHBoxLayout()
        model_label = QLabel("&Model:", self)
        model_label.setBuddy(self.model_combo)
        top.addWidget(model_label)
        top.addWidget(self.model_combo, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stats, 1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.thinking_toggle)
        lower_layout.addWidget(self.thinking)
        lower_layout.addWidget(self.message, 1)
        lower_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.conversation)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        # Ctrl+Enter and Esc are handled where the user types (an event filter works
        # whether or not the window manager made the window active); Esc also works
        # anywhere in the panel through a shortcut.
        self.message.installEventFilter(self)
        stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        stop_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        stop_shortcut.activated.connect(self.stop)
        self.setTabOrder(self.model_combo, self.message)
        self.setTabOrder(self.message, self.send_button)
        self.setTabOrder(self.send_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.thinking_toggle)
        self.setTabOrder(self.thinking_toggle, self.conversation)

        self._timer = QTimer(self)
        self._timer.setInterval(PAINT_INTERVAL_MS)
        self._timer.timeout.connect(self._paint)
        self._turn: ChatTurn | None = None
        self._stream: MarkdownStream | None = None
        self._follow = True
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.thinking_toggle.toggled.connect(self._show_thinking)
        self.conversation.anchorClicked.connect(self._on_anchor)
        controller.turnFinished.connect(self._on_turn_finished)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+Enter sends, Esc stops, in the message box."""
        if watched is self.message and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                event.modifiers() & Qt.KeyboardModifier.ControlModifier
            ):
                self.send()
                return True
            if key == Qt.Key.Key_Escape and self._turn is not None:
                self.stop()
                return True
        return super().eventFilter(watched, event)

    # ---- models ---------------------------------------------------------

    def set_models(self, models: list[ModelInfo]) -> None:
        """Fill the picker, keeping the current choice when it is still installed."""
        current = self.model_combo.currentText() or self.controller.conversation.settings.model
        self.model_combo.clear()
        self.model_combo.addItems([m.name for m in models])
        index = self.model_combo.findText(current)
        if index < 0 and models:
            index = 0  # with a placeholder set, Qt leaves nothing selected
        self.model_combo.setCurrentIndex(index)

    # ---- sending and stopping -------------------------------------------

    def send(self) -> None:
        text = self.message.toPlainText()
        if not text.strip() or self._turn is not None:
            return
        model = self.model_combo.currentText()
        if not model:
            self.stats.setText("Choose a model first (pull one in the Models tab).")
            return
        turn = self.controller.send(text, model)
        if turn is None:
            return
        self.message.clear()
        self.conversation.append_user(self.controller.conversation.messages[-2])
        self._stream = self.conversation.begin_reply(model)
        self._turn = turn
        self._follow = True
        self.thinking.clear()
        self._update_thinking_toggle()
        self.stats.setText("Waiting for the model…")
        self._set_busy(True)
        self._timer.start()
        self.conversation.scroll_to_bottom()

    def stop(self) -> None:
        """Stop the reply now: the connection closes as the turn's task unwinds, the
        partial reply stays, and the next message can be sent at once."""
        turn = self._turn
        if turn is None:
            return
        turn.stop()
        self._finalize(turn)

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    # ---- painting -------------------------------------------------------

    def _paint(self) -> None:
        turn, stream = self._turn, self._stream
        if turn is None or stream is None:
            return
        thinking, content = turn.take_new_text()
        follow = self.conversation.at_bottom()
        if thinking:
            cursor = QTextCursor(self.thinking.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(thinking)
            self._update_thinking_toggle()
        if content:
            stream.append(content)
            stream.render()
            if follow:
                self.conversation.scroll_to_bottom()
        if turn.ttft_ms is not None and (thinking or content):
            self.stats.setText(f"Generating… first token after {turn.ttft_ms:.0f} ms")

    def _on_turn_finished(self, turn: object) -> None:
        if isinstance(turn, ChatTurn) and turn is self._turn:
            self._finalize(turn)

    def _finalize(self, turn: ChatTurn) -> None:
        """Paint what is left, close the reply with its end line, and free the UI."""
        self._paint()
        self._timer.stop()
        follow = self.conversation.at_bottom()
        if self._stream is not None:
            self._stream.finish()
        reply = turn.reply
        index = len(self.controller.conversation.messages) - 1
        self.conversation.end_reply(reply, index)
        if follow:
            self.conversation.scroll_to_bottom()
        if reply.state == "complete":
            self.stats.setText(stats_text(reply))
        elif reply.state == "error":
            self.stats.setText("The reply failed; see the conversation.")
        else:
            self.stats.setText(reply.note or "Stopped.")
        self._turn = None
        self._stream = None
        self._set_busy(False)

    # ---- thinking -------------------------------------------------------

    def _update_thinking_toggle(self) -> None:
        words = len(self.thinking.toPlainText().split())
        label = "Hide thinking" if self.thinking_toggle.isChecked() else "Show thinking"
        self.thinking_toggle.setText(f"{label} ({words} words)" if words else label)

    def _show_thinking(self, shown: bool) -> None:
        self.thinking.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.thinking_toggle.setArrowType(arrow)
        self._update_thinking_toggle()

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() != THINKING_SCHEME:
            return
        try:
            message = self.controller.conversation.messages[int(url.path())]
        except (ValueError, IndexError):
            return
        self.thinking.setPlainText(message.thinking)
        self.thinking_toggle.setChecked(True)
        self._update_thinking_toggle()

    def show_conversation(self, conversation: Conversation) -> None:
        self.conversation.show_conversation(conversation)
        self.thinking.clear()
        self._update_thinking_toggle()
