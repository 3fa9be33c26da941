"""The chat panel: model picker, options, the conversation, the composer, and the turn's life.

The view never talks to the network: it asks the ChatController to send, stop,
regenerate, continue, resend or show another version, and has one end-of-turn
path (`ChatController.turnEnded` -> paint what is left -> `_finalize`). Whether
a reply is running is the controller's to say (`ChatController.busy`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from launcher.core.chat import ChatController, ChatTurn
from launcher.core.conversation import Conversation
from launcher.core.status import ServerState
from launcher.ollama import ModelInfo
from launcher.ui.chat_actions import ChatActions
from launcher.ui.chat_empty import EmptyChat
from launcher.ui.chat_notice import NoticeBar
from launcher.ui.code_colours import COMMON_LANGUAGES, warm
from launcher.ui.composer import Composer
from launcher.ui.conversation_view import MAX_SHOWN_CHARS, ConversationView, stats_text
from launcher.ui.message_editing import MessageEditing
from launcher.ui.model_picker import ModelPicker
from launcher.ui.options import ConversationOptions
from launcher.ui.reply_painter import ReplyPainter
from launcher.ui.thinking_toggle import ThinkingToggle


class ChatPanel(QWidget):
    """Model picker, options, transcript, composer and actions.

    Signals:
        settingsEdited(): the conversation's model or options changed (to be saved).
        modelChosen(str): the picker now shows this model (to look up what it can do).
        pullRequested(str): the user asked to download a model (first run, no models).
        sent(): a message went out (the box was emptied).
        editingChanged(int): editing message N began (its text is in the box), or -1: ended.

    Attributes:
        compose: turns the box's text into the message to send (attached files go in
            there); None: the text as typed.
    """

    settingsEdited = Signal()
    modelChosen = Signal(str)
    pullRequested = Signal(str)
    sent = Signal()
    editingChanged = Signal(int)

    def __init__(self, controller: ChatController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._server_state = ""  # the status's leading word, for the new-chat page
        self.model_combo = ModelPicker(self)
        self.options = ConversationOptions(self)
        self.conversation = ConversationView(self)
        self.empty = EmptyChat(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.conversation)
        self.pages.addWidget(self.empty)
        self.turn_actions = ChatActions(self)
        self.regenerate_button = self.turn_actions.regenerate
        self.continue_button = self.turn_actions.continue_
        self.copy_button = self.turn_actions.copy
        self.edit_button = self.turn_actions.edit
        self.previous_version = self.turn_actions.previous_version
        self.version_label = self.turn_actions.version_label
        self.next_version = self.turn_actions.next_version
        self.attach_button = self.turn_actions.attach
        self.notice_bar = NoticeBar(self)
        self.notice = self.notice_bar.text
        self.retry_button = self.notice_bar.retry_button
        self.composer = Composer(self)
        self.composer.thumbnails = self.conversation.thumbnails
        self.message = self.composer.message
        self.send_button = self.composer.send_button
        self.stop_button = self.composer.stop_button
        self.stats = self.composer.stats
        self.attachments = self.composer.attachments
        self.editing_label = self.composer.editing_label

        top = QHBoxLayout()
        model_label = QLabel("&Model:", self)
        model_label.setBuddy(self.model_combo)
        top.addWidget(model_label)
        top.addWidget(self.model_combo, 1)
        actions = QHBoxLayout()
        self.turn_actions.add_to(actions)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.options)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.notice_bar)
        layout.addLayout(actions)
        #: Rows for the chat extras (ui/chatplus_wiring.py): the Context label goes in the
        #: top row; switches, file chips and the context notice above the composer.
        self.top_row = top
        self.extras_rows = QVBoxLayout()
        layout.addLayout(self.extras_rows)
        layout.addWidget(self.composer)

        stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        stop_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        stop_shortcut.activated.connect(self._escape)
        self.setTabOrder(self.model_combo, self.message)
        self.setTabOrder(self.message, self.send_button)
        self.setTabOrder(self.send_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.conversation)

        self.painter = ReplyPainter(self.conversation, self._on_progress, parent=self)
        self.thinking_toggle = ThinkingToggle(
            self, self.conversation, self.painter, controller, self._rerender
        )
        actions.insertWidget(0, self.thinking_toggle)
        self.painter.drained.connect(self._finalize)
        self._turn: ChatTurn | None = None
        self.editing = MessageEditing(controller, self.composer, self.editingChanged.emit)
        self.compose: Callable[[str], str] | None = None
        self.composer.sendRequested.connect(self.send)
        self.composer.escapePressed.connect(self._escape)
        self.composer.versionStep.connect(self.step_version)
        self.composer.messageStep.connect(self.conversation.step_actions)
        self.stop_button.clicked.connect(self.stop)
        self.regenerate_button.clicked.connect(self.regenerate)
        self.continue_button.clicked.connect(self.continue_reply)
        self.copy_button.clicked.connect(self.copy_last_reply)
        self.edit_button.clicked.connect(self.edit_last)
        self.previous_version.clicked.connect(lambda: self.step_version(-1))
        self.next_version.clicked.connect(lambda: self.step_version(1))
        self.attach_button.clicked.connect(self.choose_images)
        self.retry_button.clicked.connect(self.retry)
        self.conversation.copyRequested.connect(self.copy_message)
        self.conversation.editRequested.connect(self.start_edit)
        self.conversation.regenerateRequested.connect(lambda _index: self.regenerate())
        self.conversation.continueRequested.connect(lambda _index: self.continue_reply())
        self.conversation.versionRequested.connect(self.select_version)
        self.conversation.thumbnails.ready.connect(self._rerender)
        self.empty.promptChosen.connect(self._use_prompt)
        self.empty.pullRequested.connect(self.pullRequested.emit)
        self.options.edited.connect(self.settingsEdited.emit)
        self.model_combo.currentTextChanged.connect(self._on_model_changed)
        controller.turnEnded.connect(self._on_turn_ended)
        controller.conversationChanged.connect(self.show_conversation)
        self.options.load(controller.conversation.settings)
        warm(COMMON_LANGUAGES)  # code colours without a first-use stall
        self._update_actions()
        self._update_page()

    def set_enter_sends(self, enter_sends: Callable[[], bool]) -> None:
        """Where to read `Settings.enter_sends` (read at each key press)."""
        self.composer.enter_sends = enter_sends
        self.composer.update_hints()

    def _escape(self) -> None:
        if self.controller.busy:
            self.stop()
        else:
            self.editing.cancel()

    # ---- models ---------------------------------------------------------

    def set_models(self, models: list[ModelInfo]) -> None:
        """Fill the picker, keeping the conversation's model when it is installed (and the
        last known models while the server is not running)."""
        wanted = self.controller.conversation.settings.model or self.model_combo.currentText()
        if not self.model_combo.fill(models, wanted):
            return
        self._show_empty_state()
        if self.model_combo.currentText():
            self.modelChosen.emit(self.model_combo.currentText())

    def set_server_running(self, running: bool, state: str) -> None:
        self.model_combo.set_server_running(running, state)
        self._server_state = state
        self._show_empty_state()

    def _show_empty_state(self) -> None:
        """What a new chat offers: nothing but the pointer to the notice without Ollama;
        models to download for a running server with none; else example prompts."""
        if self._server_state == ServerState.NOT_INSTALLED.value:
            self.empty.set_not_installed()
            return
        running = self.model_combo.server_running
        self.empty.set_has_models(self.model_combo.count() > 0 or not running)

    def set_stale(self, stale: str) -> None:
        self.model_combo.set_stale(stale)

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
        if not vision and self.composer.images:
            self.composer.clear_images()
        self.options.set_thinking_available("thinking" in capabilities)

    # ---- sending, stopping and the other turn actions --------------------

    def _finish_painting(self) -> None:
        """A reply that has ended may still be painting its backlog: show the rest now."""
        if self._turn is not None and self._turn.ended:
            self.painter.end(flush=True)

    def send(self) -> None:
        text = self.message.toPlainText()
        if self.compose is not None:
            text = self.compose(text)
        if not text.strip() or self.controller.busy:
            return
        self._finish_painting()
        model = self.model_combo.currentText() or self.controller.conversation.settings.model
        if not model:
            self.stats.setText("Choose a model first (download one on the Models page).")
            return
        turn = self.editing.send(text, model, list(self.composer.images))
        if turn is None:
            return
        self.message.clear()
        self.composer.clear_images()
        self.editing.cancel()
        self._start_view(turn)
        self.sent.emit()

    def regenerate(self) -> None:
        self._finish_painting()
        turn = self.controller.regenerate()
        if turn is not None:
            self._start_view(turn)

    def continue_reply(self) -> None:
        self._finish_painting()
        turn = self.controller.continue_reply()
        if turn is not None:
            self._start_view(turn)

    def retry(self) -> None:
        """After a failure: write the last reply again (the user's message is kept)."""
        self.notice_bar.hide()
        self.regenerate()

    def stop(self) -> None:
        """Stop the reply now: the connection closes as the turn's task unwinds, the
        partial reply stays (all of it is shown at once), and the next message can be
        sent at once (the controller settles the turn; `_on_turn_ended` shows it)."""
        self.controller.stop()

    def select_version(self, message_index: int, version_index: int) -> None:
        self._finish_painting()
        if self.controller.select_version(message_index, version_index):
            self.conversation.show_conversation(self.controller.conversation)
            self._update_actions()

    def step_version(self, step: int) -> None:
        """Previous/next version of the last reply (Alt+Left / Alt+Right)."""
        messages = self.controller.conversation.messages
        if messages and messages[-1].role == "assistant":
            self.select_version(len(messages) - 1, messages[-1].version_index + step)

    def _start_view(self, turn: ChatTurn) -> None:
        """Show the conversation up to the new reply and start painting it."""
        conv = self.controller.conversation
        last = len(conv.messages) - 1
        self.notice_bar.hide()
        self._update_page()
        if turn.continuation or not self.conversation.shows_messages(last - 1):
            self.conversation.show_conversation(conv, upto=last)
        else:  # a plain send: the view shows everything before; append (no re-render)
            self.conversation.append_user(conv.messages[last - 1], last - 1)
        self.conversation.begin_reply(conv.settings.model, last)
        if turn.continuation:
            stream = self.conversation.content_stream()
            stream.append(turn.reply.content[:MAX_SHOWN_CHARS])
            stream.render()
        self._turn = turn
        self.stats.setText("Waiting for the model…")
        self._set_busy(True)
        self.painter.start(turn, last)
        self.conversation.scroll_to_bottom()

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self._update_actions()

    def _update_actions(self) -> None:
        self.turn_actions.update(self.controller)

    # ---- the one end-of-turn path ---------------------------------------

    def _on_turn_ended(self, turn: ChatTurn) -> None:
        if turn is not self._turn:
            return
        # Stopped on request: show all that arrived at once, so the next message can go.
        # Otherwise (complete, failed, stopped by the guard) the painter finishes its
        # backlog progressively, within its time budget, then `drained` finalizes.
        self.painter.end(flush=turn.stopped_by_request or not turn.produced_text)

    def _on_progress(self, turn: ChatTurn) -> None:
        if turn.thinking and self.thinking_toggle.isHidden():
            self.thinking_toggle.sync()
        if turn.ttft_ms is not None:
            text = f"Generating… first token after {turn.ttft_ms:.0f} ms"
        elif turn.preparing:
            text = "Starting Ollama… the message goes out once it answers."
        else:
            text = "Waiting for the model…"
        if self.stats.text() != text:
            self.stats.setText(text)

    def _finalize(self, turn: ChatTurn) -> None:
        """Close the reply with its end lines and free the UI."""
        self.painter.release()
        conv = turn.conversation
        reply = turn.reply
        index = next((i for i, m in enumerate(conv.messages) if m is reply), None)
        put_back = index is None or (not turn.produced_text and bool(reply.content))
        follow = self.conversation.at_bottom()
        if put_back or self.conversation.open_stream is None:
            # The attempt produced nothing: what it replaced is shown again.
            self.conversation.show_conversation(conv)
        else:
            self.conversation.end_reply(reply, index if index is not None else 0)
        if follow:
            self.conversation.scroll_to_bottom()
        explanation = turn.explanation
        if reply.state == "complete":
            self.stats.setText(stats_text(reply))
        elif explanation is not None:
            self.stats.setText("The reply failed; see the conversation.")
        else:
            self.stats.setText(reply.note or "Stopped.")
        if explanation is not None and (put_back or explanation.action):
            self.notice_bar.show_explanation(
                explanation, can_retry=self.controller.can_regenerate()
            )
        if put_back and index is None:
            self.editing.give_back()
        self._turn = None
        self.thinking_toggle.sync()
        self._set_busy(False)

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
        self.editing.start_last()

    def start_edit(self, index: int) -> None:
        """Put a user message back in the box; Send replaces it and what followed."""
        self.editing.start(index)

    def cancel_edit(self) -> None:
        """Leave editing; the edited text does not stay in the box."""
        self.editing.cancel()

    def choose_images(self) -> None:
        self.composer.choose_images()

    def attach_files(self, paths: list[str]) -> None:
        self.composer.attach_files(paths)

    # ---- conversations --------------------------------------------------

    def _rerender(self) -> None:
        """Show the conversation again where the reader is (a thinking block opened/closed)."""
        if self._turn is not None:
            return
        bar = self.conversation.verticalScrollBar()
        position = bar.value()
        self.conversation.show_conversation(self.controller.conversation)
        bar.setValue(position)

    def _update_page(self) -> None:
        empty = not self.controller.conversation.messages and self._turn is None
        self.pages.setCurrentWidget(self.empty if empty else self.conversation)

    def _use_prompt(self, text: str) -> None:
        self.message.setPlainText(text)
        self.message.setFocus()

    def show_conversation(self, conversation: Conversation) -> None:
        """Show another conversation (the controller already stopped any reply)."""
        if self._turn is not None:
            self.painter.end(flush=True)
        self.editing.cancel()
        self.notice_bar.hide()
        self.conversation.expanded_thinking.clear()
        self._update_page()  # first: showing the page costs no layout of an empty document
        self.conversation.show_conversation(conversation)
        self.options.load(conversation.settings)
        if conversation.settings.model:
            index = self.model_combo.findText(conversation.settings.model)
            if index >= 0:
                self.model_combo.setCurrentIndex(index)
        elif self.model_combo.currentText():
            conversation.settings.model = self.model_combo.currentText()
        self.thinking_toggle.sync()
        self._update_actions()
        self.stats.clear()
