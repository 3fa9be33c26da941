"""The chat panel: model picker, options, the conversation, the message box, Send and Stop.

The view never talks to the network: it asks the ChatController to send, stop,
regenerate, continue or resend, and paints what a ChatTurn accumulated on a
40 ms timer, appending at the end of the document. A server sending thousands
of chunks a second therefore costs at most 25 small paints a second.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
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
from launcher.core.conversation import Conversation
from launcher.ollama import ModelInfo
from launcher.ui.conversation_view import THINKING_SCHEME, ConversationView, stats_text
from launcher.ui.markdown import MarkdownStream
from launcher.ui.options import ConversationOptions

PAINT_INTERVAL_MS = 40
#: While text is waiting to be rendered, paint more often, each paint spending at
#: most the budget: a burst is shown progressively instead of freezing the window.
BACKLOG_INTERVAL_MS = 25
RENDER_BUDGET_SECONDS = 0.018
RENDER_PIECE_CHARS = 1500
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp)"


class ChatPanel(QWidget):
    """Model picker, options, transcript, thinking panel, message box and actions.

    Signals:
        settingsEdited(): the conversation's model or options changed (to be saved).
        modelChosen(str): the picker now shows this model (to look up what it can do).
    """

    settingsEdited = Signal()
    modelChosen = Signal(str)

    def __init__(self, controller: ChatController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model_combo = QComboBox(self)
        self.model_combo.setAccessibleName("Model")
        self.model_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.model_combo.setPlaceholderText("No models installed")
        self.options = ConversationOptions(self)
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
        self.regenerate_button = self._tool("Regenerate", "Regenerate reply", "Ctrl+R")
        self.continue_button = self._tool("Continue", "Continue reply", "Ctrl+Shift+Return")
        self.copy_button = self._tool("Copy reply", "Copy last reply", "Ctrl+Shift+C")
        self.edit_button = self._tool("Edit last", "Edit last message", "Ctrl+E")
        self.attach_button = self._tool("Attach image…", "Attach image", "")
        self.attach_button.setEnabled(False)
        self.attach_button.setToolTip("Attach images (for models that can see)")
        self.attachments = QLabel(self)
        self.attachments.setAccessibleName("Attachments")
        self.editing_label = QLabel(self)
        self.editing_label.setAccessibleName("Editing")
        self.editing_label.setWordWrap(True)
        self.editing_label.hide()
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
        actions = QHBoxLayout()
        for button in (
            self.thinking_toggle,
            self.regenerate_button,
            self.continue_button,
            self.copy_button,
            self.edit_button,
            self.attach_button,
        ):
            actions.addWidget(button)
        actions.addWidget(self.attachments, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stats, 1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(actions)
        lower_layout.addWidget(self.thinking)
        lower_layout.addWidget(self.editing_label)
        lower_layout.addWidget(self.message, 1)
        lower_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.conversation)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.options)
        layout.addWidget(splitter, 1)

        # Ctrl+Enter and Esc are handled where the user types (an event filter works
        # whether or not the window manager made the window active); Esc also works
        # anywhere in the panel through a shortcut.
        self.message.installEventFilter(self)
        stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        stop_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        stop_shortcut.activated.connect(self._escape)
        self.setTabOrder(self.model_combo, self.message)
        self.setTabOrder(self.message, self.send_button)
        self.setTabOrder(self.send_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.conversation)

        self._timer = QTimer(self)
        self._timer.setInterval(PAINT_INTERVAL_MS)
        self._timer.timeout.connect(self._paint)
        self._turn: ChatTurn | None = None
        self._stream: MarkdownStream | None = None
        self._backlog = ""  # received, not yet rendered
        self._backlog_pos = 0
        self._turn_ended = False
        self._editing: int | None = None
        self._images: list[str] = []
        self._image_dialog: QFileDialog | None = None
        self._reading: asyncio.Future[None] | None = None
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.regenerate_button.clicked.connect(self.regenerate)
        self.continue_button.clicked.connect(self.continue_reply)
        self.copy_button.clicked.connect(self.copy_last_reply)
        self.edit_button.clicked.connect(self.edit_last)
        self.attach_button.clicked.connect(self.choose_images)
        self.thinking_toggle.toggled.connect(self._show_thinking)
        self.conversation.anchorClicked.connect(self._on_anchor)
        self.conversation.copyRequested.connect(self.copy_message)
        self.conversation.editRequested.connect(self.start_edit)
        self.options.edited.connect(self.settingsEdited.emit)
        self.model_combo.currentTextChanged.connect(self._on_model_changed)
        controller.turnFinished.connect(self._on_turn_finished)
        controller.conversationChanged.connect(self.show_conversation)
        self.options.load(controller.conversation.settings)
        self._update_actions()

    def _tool(self, text: str, name: str, keys: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setAccessibleName(name)
        if keys:
            button.setShortcut(QKeySequence(keys))
            button.setToolTip(f"{name} ({keys})")
        return button

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+Enter sends, Esc stops (or cancels an edit), in the message box."""
        if watched is self.message and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                event.modifiers() & Qt.KeyboardModifier.ControlModifier
            ):
                self.send()
                return True
            if key == Qt.Key.Key_Escape and (self._turn is not None or self._editing is not None):
                self._escape()
                return True
        return super().eventFilter(watched, event)

    def _escape(self) -> None:
        if self._turn is not None:
            self.stop()
        elif self._editing is not None:
            self.cancel_edit()

    # ---- models ---------------------------------------------------------

    def set_models(self, models: list[ModelInfo]) -> None:
        """Fill the picker, keeping the conversation's model when it is installed."""
        wanted = self.controller.conversation.settings.model or self.model_combo.currentText()
        self.model_combo.blockSignals(True)
        try:
            self.model_combo.clear()
            self.model_combo.addItems([m.name for m in models])
            index = self.model_combo.findText(wanted)
            if index < 0 and models:
                index = 0  # with a placeholder set, Qt leaves nothing selected
            self.model_combo.setCurrentIndex(index)
        finally:
            self.model_combo.blockSignals(False)
        if self.model_combo.currentText():
            self.modelChosen.emit(self.model_combo.currentText())

    def _on_model_changed(self, name: str) -> None:
        settings = self.controller.conversation.settings
        if name and name != settings.model:
            settings.model = name
            self.settingsEdited.emit()
        if name:
            self.modelChosen.emit(name)

    def set_capabilities(self, model: str, capabilities: tuple[str, ...]) -> None:
        """What the chosen model can do: images (vision), thinking."""
        if model != self.model_combo.currentText():
            return
        vision = "vision" in capabilities
        self.attach_button.setEnabled(vision)
        if not vision and self._images:
            self._images.clear()
            self._show_attachments()
        self.options.set_thinking_available("thinking" in capabilities)

    # ---- sending, stopping and the other turn actions --------------------

    def send(self) -> None:
        text = self.message.toPlainText()
        if not text.strip() or self.controller.busy or self._turn is not None:
            return
        model = self.model_combo.currentText()
        if not model:
            self.stats.setText("Choose a model first (pull one in the Models tab).")
            return
        if self._editing is not None:
            turn = self.controller.edit_and_resend(self._editing, text)
            rerender = True
        else:
            turn = self.controller.send(text, model, list(self._images))
            rerender = False
        if turn is None:
            return
        self.message.clear()
        self._images.clear()
        self._show_attachments()
        self.cancel_edit()
        self._start_view(turn, rerender=rerender)

    def regenerate(self) -> None:
        turn = self.controller.regenerate()
        if turn is not None:
            self._start_view(turn, rerender=True)

    def continue_reply(self) -> None:
        turn = self.controller.continue_reply()
        if turn is not None:
            self._start_view(turn, rerender=True)

    def stop(self) -> None:
        """Stop the reply now: the connection closes as the turn's task unwinds, the
        partial reply stays (all of it is shown at once), and the next message can be
        sent at once."""
        turn = self._turn
        if turn is None:
            return
        turn.stop()
        self._finalize(turn, flush=True)

    def _start_view(self, turn: ChatTurn, *, rerender: bool) -> None:
        """Show the conversation up to the new reply and start painting it."""
        conv = self.controller.conversation
        last = len(conv.messages) - 1
        if rerender:
            self.conversation.show_conversation(conv, upto=last)
        else:
            self.conversation.append_user(conv.messages[last - 1], last - 1)
        self._stream = self.conversation.begin_reply(conv.settings.model, last)
        if turn.continuation:
            self._stream.append(turn.reply.content)
            self._stream.render()
        self._turn = turn
        self._turn_ended = False
        self._backlog, self._backlog_pos = "", 0
        self.thinking.clear()
        self._update_thinking_toggle()
        self.stats.setText("Waiting for the model…")
        self._set_busy(True)
        self._timer.start()
        self.conversation.scroll_to_bottom()

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self._update_actions()

    def _update_actions(self) -> None:
        busy = self._turn is not None
        messages = self.controller.conversation.messages
        self.regenerate_button.setEnabled(not busy and self.controller.can_regenerate())
        self.continue_button.setEnabled(not busy and self.controller.can_continue())
        self.copy_button.setEnabled(any(m.role == "assistant" and m.content for m in messages))
        self.edit_button.setEnabled(not busy and any(m.role == "user" for m in messages))

    # ---- message actions -------------------------------------------------

    def copy_message(self, index: int) -> None:
        messages = self.controller.conversation.messages
        if 0 <= index < len(messages):
            QGuiApplication.clipboard().setText(messages[index].content)
            self.stats.setText("Copied.")

    def copy_last_reply(self) -> None:
        messages = self.controller.conversation.messages
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].role == "assistant" and messages[index].content:
                self.copy_message(index)
                return

    def edit_last(self) -> None:
        messages = self.controller.conversation.messages
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].role == "user":
                self.start_edit(index)
                return

    def start_edit(self, index: int) -> None:
        """Put a user message back in the box; Send replaces it and what followed."""
        messages = self.controller.conversation.messages
        if self._turn is not None or not (0 <= index < len(messages)):
            return
        self._editing = index
        self.message.setPlainText(messages[index].content)
        self.message.setFocus()
        later = len(messages) - index - 1
        self.editing_label.setText(
            f"Editing your message. Send replaces it and the {later} message(s) after it; "
            "Esc cancels."
        )
        self.editing_label.show()

    def cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.editing_label.hide()

    def choose_images(self) -> None:
        """Pick images with a non-blocking file dialog (the event loop keeps running)."""
        dialog = QFileDialog(self, "Attach images", str(Path.home()), IMAGE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.attach_files)
        dialog.finished.connect(dialog.deleteLater)
        self._image_dialog = dialog
        dialog.open()

    def attach_files(self, paths: list[str]) -> None:
        """Read and encode the images off the Qt thread (photos can be large)."""
        self._reading = asyncio.ensure_future(self._read_images(paths))

    async def _read_images(self, paths: list[str]) -> None:
        for path in paths:
            try:
                data = await asyncio.to_thread(Path(path).read_bytes)
            except OSError as exc:
                self.stats.setText(f"Could not read {Path(path).name}: {exc.strerror or exc}")
                continue
            self._images.append(base64.b64encode(data).decode("ascii"))
        self._show_attachments()

    def _show_attachments(self) -> None:
        count = len(self._images)
        self.attachments.setText(f"{count} image(s) attached" if count else "")

    # ---- painting -------------------------------------------------------

    def _paint(self, *, flush: bool = False) -> None:
        """Render what arrived, within a time budget unless `flush`; the rest waits."""
        turn, stream = self._turn, self._stream
        if turn is None or stream is None:
            return
        thinking, content = turn.take_new_text()
        if thinking:
            cursor = QTextCursor(self.thinking.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(thinking)
            self._update_thinking_toggle()
        if content:
            self._backlog = self._backlog[self._backlog_pos :] + content
            self._backlog_pos = 0
        if self._backlog_pos < len(self._backlog):
            follow = self.conversation.at_bottom()
            deadline = time.perf_counter() + RENDER_BUDGET_SECONDS
            while self._backlog_pos < len(self._backlog) and (
                flush or time.perf_counter() < deadline
            ):
                end = self._backlog_pos + RENDER_PIECE_CHARS
                stream.append(self._backlog[self._backlog_pos : end])
                self._backlog_pos = min(end, len(self._backlog))
                stream.render()
            if follow:
                self.conversation.scroll_to_bottom()
        waiting = self._backlog_pos < len(self._backlog)
        self._timer.setInterval(BACKLOG_INTERVAL_MS if waiting else PAINT_INTERVAL_MS)
        if turn.ttft_ms is not None and (thinking or content):
            self.stats.setText(f"Generating… first token after {turn.ttft_ms:.0f} ms")
        if self._turn_ended and not waiting and not flush:
            self._finalize(turn)

    def _on_turn_finished(self, turn: object) -> None:
        if isinstance(turn, ChatTurn) and turn is self._turn:
            # Show the end once the text that already arrived has been rendered.
            self._turn_ended = True
            self._paint()

    def _finalize(self, turn: ChatTurn, *, flush: bool = False) -> None:
        """Paint what is left, close the reply with its end line, and free the UI."""
        if flush:
            self._paint(flush=True)
        self._timer.stop()
        self._backlog, self._backlog_pos = "", 0
        follow = self.conversation.at_bottom()
        if self._stream is not None:
            self._stream.finish()
        reply = turn.reply
        index = next(i for i, m in enumerate(turn.conversation.messages) if m is reply)
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

    # ---- conversations --------------------------------------------------

    def show_conversation(self, conversation: Conversation) -> None:
        """Show another conversation (the controller already stopped any reply)."""
        if self._turn is not None:
            self._finalize(self._turn, flush=True)
        self.cancel_edit()
        self.conversation.show_conversation(conversation)
        self.options.load(conversation.settings)
        if conversation.settings.model:
            index = self.model_combo.findText(conversation.settings.model)
            if index >= 0:
                self.model_combo.setCurrentIndex(index)
        elif self.model_combo.currentText():
            conversation.settings.model = self.model_combo.currentText()
        self.thinking.clear()
        self._update_thinking_toggle()
        self._update_actions()
        self.stats.clear()
