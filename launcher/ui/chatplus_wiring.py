"""Connects the chat extras (core/chatplus.py) to the chat panel: meter, switches, files, steps.

The Context label sits next to the model picker; the switches row (Attach file,
Web search, Web fetch, Calculator, Token probabilities), the file chips and the
cut-context notice sit above the message box. Files dropped or pasted onto the
message box or the transcript are read off the UI thread and go into the next
message as delimited blocks. The transcript asks this object (its `extras`
hook) what to write around each reply: tool steps before its text, token marks
on its words, the cut-context line after it. Branches and summary chats become
the current conversation, saved like any other.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QWidget

from launcher.core.context import ContextUse, Truncation
from launcher.core.conversation import Conversation, Message
from launcher.core.launcher import Launcher
from launcher.core.toolloop import ToolStep
from launcher.core.webtools import KEY_ID, find_key
from launcher.ollama import OllamaError
from launcher.ui.chat_switches import ChatSwitches
from launcher.ui.chat_view import ChatPanel
from launcher.ui.context_meter import ContextMeter
from launcher.ui.context_notice import ContextNotice
from launcher.ui.file_attach import FileAttacher
from launcher.ui.file_chips import FileChips
from launcher.ui.reply_extras import (
    CONTEXT_SCHEME,
    TokenMarks,
    parse_step,
    step_label,
    write_cut,
    write_steps,
)
from launcher.ui.transcript_document import TranscriptDocument

log = logging.getLogger(__name__)

#: The most token records marked in one showing of a conversation (the latest replies
#: first; the last reply always): about a quarter of a second of marking.
MAX_MARKED_TOKENS = 8000

NO_KEY = "Web search needs an ollama.com API key: set OLLAMA_API_KEY, or click “ollama.com key…”."


class ChatPlusWiring(QObject):
    """Glue between the ChatPanel (widgets) and ChatPlus (logic); the transcript's extras hook.

    Attributes:
        meter, switches, chips, notice: the widgets it added to the chat panel.
        expanded: the tool steps shown open, as (message index, step number).
    """

    def __init__(self, launcher: Launcher, chat: ChatPanel, dialog_parent: QWidget) -> None:
        super().__init__(chat)
        self.launcher = launcher
        self.chat = chat
        self.plus = launcher.chatplus
        self.dialog_parent = dialog_parent
        self.key_dialog: QInputDialog | None = None
        self._expanded: set[tuple[int, int]] = set()
        #: The conversation `expanded` and `marks` belong to: the transcript is rendered
        #: when the conversation changes, before this object hears of the change.
        self._shown: Conversation | None = None
        self._content_start: dict[int, int] = {}
        self.use: ContextUse | None = None
        self.meter = ContextMeter(chat)
        caption = QLabel("Context:", chat)
        caption.setToolTip("How full this conversation's context is (tokens)")
        chat.top_row.addWidget(caption)
        chat.top_row.addWidget(self.meter)
        self.notice = ContextNotice(chat)
        self.switches = ChatSwitches(chat)
        self.chips = FileChips(chat)
        for widget in (self.notice, self.switches, self.chips):
            chat.extras_rows.addWidget(widget)
        self.files = FileAttacher(chat, self.chips, launcher.tasks.spawn, dialog_parent)
        self.files.context = self._context
        self.marks = TokenMarks(chat.conversation)
        # After the transcript (the panel's own order ends there): the switches, in a row.
        order = [
            chat.conversation,
            self.switches.attach_file,
            self.switches.web_search,
            self.switches.web_fetch,
            self.switches.key_button,
            self.switches.calculator,
            self.switches.logprobs,
            self.switches.tint,
        ]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)
        chat.conversation.extras = self
        chat.conversation.anchorClicked.connect(self._on_link)
        chat.conversation.branchRequested.connect(self.branch)
        chat.modelChosen.connect(self._on_model)
        chat.painter.drained.connect(self._after_turn)
        self.switches.attach_file.clicked.connect(self.files.choose)
        self.switches.key_button.clicked.connect(self.ask_key)
        self.switches.web_search.toggled.connect(self._check_key)
        self.switches.web_fetch.toggled.connect(self._check_key)
        self.switches.edited.connect(chat.settingsEdited.emit)
        self.switches.tintToggled.connect(self._on_tint)
        self.notice.raiseRequested.connect(self.raise_context)
        self.notice.summaryRequested.connect(self.summary_chat)
        self.plus.contextChanged.connect(self._on_context)
        self.plus.truncated.connect(self._on_cut)
        self.plus.stepChanged.connect(self._on_step)
        launcher.chat.conversationChanged.connect(self._on_conversation)
        self._on_conversation(launcher.chat.conversation)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.launcher.tasks.spawn(coro)

    @property
    def conversation(self) -> Conversation:
        return self.launcher.chat.conversation

    # ---- the transcript's extras hook -----------------------------------------

    @property
    def expanded(self) -> set[tuple[int, int]]:
        """The tool steps shown open in the current conversation."""
        self._follow_conversation()
        return self._expanded

    def _follow_conversation(self) -> None:
        """A transcript showing another conversation: forget the open steps and the marks
        of the one before (its message indexes mean other messages now)."""
        if self._shown is not self.conversation:
            self._shown = self.conversation
            self._expanded = set()
            self.marks.clear()

    def _message(self, index: int) -> Message | None:
        messages = self.conversation.messages
        return messages[index] if 0 <= index < len(messages) else None

    def before_content(self, view: TranscriptDocument, index: int) -> None:
        """Tool steps go between the reply's header (and thinking) and its text."""
        self._follow_conversation()
        message = self._message(index)
        if message is not None and message.role == "assistant":
            steps = self.plus.steps_of(message)
            if steps:
                turn = self.launcher.chat.turn
                live = turn is not None and turn.reply is message and not turn.ended
                write_steps(view, index, steps, self.expanded, live=live)
        cursor = QTextCursor(view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self._content_start[index] = cursor.position()

    def after_content(self, view: TranscriptDocument, index: int, message: Message) -> None:
        """Token probabilities on the reply's words (the latest replies', within a budget)."""
        record = self.plus.record_of(message)
        start = self._content_start.get(index)
        if record is None or not len(record) or start is None or not self._marked(index):
            return
        cursor = QTextCursor(view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        tint = self.conversation.settings.features.tint
        self.marks.mark(index, start, cursor.position(), record, tint, view.document())

    def _marked(self, index: int) -> bool:
        """Whether message `index` is among the latest replies whose words, together, stay
        within MAX_MARKED_TOKENS: a reopened conversation with token probabilities on every
        reply would otherwise mark tens of thousands of words on the UI thread."""
        total = 0
        for at in range(len(self.conversation.messages) - 1, index - 1, -1):
            total += len(self.conversation.messages[at].tokens)
            if total > MAX_MARKED_TOKENS and at != len(self.conversation.messages) - 1:
                return False
        return True

    def after_reply(self, view: TranscriptDocument, index: int, message: Message) -> None:
        """The cut-context line under the reply whose request was cut."""
        cut = self.plus.cut_of(message)
        if cut is not None:
            write_cut(view, cut)

    def rerender(self) -> None:
        """Show the conversation again where the reader is (not while a reply streams)."""
        if self.launcher.chat.busy or self.chat._turn is not None:
            return
        view = self.chat.conversation
        bar = view.verticalScrollBar()
        position = bar.value()
        view.show_conversation(self.conversation)
        bar.setValue(position)

    def _on_tint(self, _on: bool) -> None:
        self.rerender()

    # ---- links in the transcript ----------------------------------------------

    def _on_link(self, url: QUrl) -> None:
        step = parse_step(url)
        if step is not None:
            self.expanded.symmetric_difference_update({step})
            self.rerender()
            return
        if url.scheme() != CONTEXT_SCHEME:
            return
        action, _, value = url.path().partition("/")
        if action == "raise" and value.isdigit():
            self.raise_context(int(value))
        elif action == "summary":
            self.summary_chat()

    # ---- context ---------------------------------------------------------------

    def _context(self) -> ContextUse | None:
        return self.use

    def _on_context(self, use: ContextUse) -> None:
        self.use = use
        self.meter.show_use(use)
        self.files.warn()

    def _on_cut(self, reply: Message, cut: Truncation) -> None:
        if any(m is reply for m in self.conversation.messages):
            self.notice.show_cut(cut)
            self.rerender()

    def raise_context(self, size: int) -> None:
        """Give this conversation a larger context; the next message uses it."""
        conversation = self.conversation
        self.plus.raise_context(conversation, size)
        self.chat.options.load(conversation.settings)
        self.chat.settingsEdited.emit()
        self.notice.hide()
        self._spawn(self._refresh(conversation))
        self.switches.tool_status.setText(
            f"The context is now {size:,} tokens for this conversation (from the next message)."
        )

    async def _refresh(self, conversation: Conversation) -> None:
        await self.plus.refresh(conversation)

    def summary_chat(self) -> None:
        """Ask the model for a summary and continue in a new chat that starts from it."""
        conversation = self.conversation
        if self.launcher.chat.busy or not conversation.messages:
            return
        self.notice.hide()
        self.switches.tool_status.setText("Writing a summary of this conversation…")

        async def run() -> None:
            try:
                fresh = await self.plus.summary_chat(conversation)
            except OllamaError as exc:
                explanation = self.plus.explain_failure(exc, conversation.settings.model)
                log.warning("summary failed: %s", explanation.details)
                self.switches.tool_status.setText("")
                self.chat.notice_bar.show_explanation(explanation, can_retry=False)
                return
            self.switches.tool_status.setText(
                "This chat starts from a summary of the earlier one; send a message to go on."
            )
            self.launcher.chat.new_conversation(fresh)
            await self.launcher.history.save_new(fresh)

        self._spawn(run())

    # ---- tools and token probabilities -----------------------------------------

    def _on_model(self, model: str) -> None:
        async def look_up() -> None:
            show = await self.plus.model_show(model)
            if model == self.chat.model_combo.currentText():
                self.switches.set_tools_available(show is None or "tools" in show.capabilities)
                # The context in use depends on the model (its maximum caps it).
                self.meter.show_use(self.plus.measure(self.conversation))

        self._spawn(look_up())

    def _on_step(self, reply: Message, step: ToolStep) -> None:
        self.switches.tool_status.setText(step_label(step, shown=False))

    def _after_turn(self, _turn: object) -> None:
        """The reply is shown whole: write it again with its steps and marks in place."""
        messages = self.conversation.messages
        reply = messages[-1] if messages else None
        self.switches.tool_status.setText("")
        if reply is not None and reply.tool_steps:
            self.rerender()

    def _check_key(self, on: bool) -> None:
        """Switching a web tool on without an ollama.com key says where to put one."""
        if not on:
            return

        async def check() -> None:
            key = await find_key(self.launcher.secrets, self.launcher.environ)
            if not key:
                self.switches.tool_status.setText(NO_KEY)

        self._spawn(check())

    def ask_key(self) -> None:
        """Ask for the ollama.com key (a non-blocking dialog) and keep it in the keyring."""
        dialog = QInputDialog(self.dialog_parent)
        dialog.setWindowTitle("ollama.com API key")
        dialog.setLabelText(
            "API key for Ollama's web search (create one at ollama.com, Settings > Keys).\n"
            "It is kept in the system keyring and sent to ollama.com only."
        )
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.textValueSelected.connect(self.store_key)
        dialog.finished.connect(dialog.deleteLater)
        self.key_dialog = dialog
        dialog.open()

    def store_key(self, key: str) -> None:
        async def store() -> None:
            kept = await asyncio.to_thread(self.launcher.secrets.set, KEY_ID, key.strip())
            if not key.strip():
                self.switches.tool_status.setText("The ollama.com key was removed.")
            elif kept:
                self.switches.tool_status.setText("The ollama.com key is in the system keyring.")
            else:
                self.switches.tool_status.setText(
                    "The ollama.com key is kept for this session only (no usable keyring)."
                )

        self._spawn(store())

    # ---- conversations ----------------------------------------------------------

    def _on_conversation(self, conversation: Conversation) -> None:
        self.switches.load(conversation.settings.features)
        self.notice.hide()
        self._follow_conversation()  # when nothing was rendered (an empty conversation)
        # What is known at once: the last reply's counts against the context in use
        # ("– / 4,096" before any reply); the model's maximum follows from /api/show.
        self.meter.show_use(self.plus.measure(conversation))

    def branch(self, index: int) -> None:
        """A new conversation with the history up to message `index`, linked to this one."""
        if self.launcher.chat.busy:
            self.switches.tool_status.setText(
                "Stop the reply (or wait for it) before branching from a message."
            )
            return
        parent = self.conversation
        if not 0 <= index < len(parent.messages):
            return
        branch = self.plus.branch(parent, index)
        self.launcher.chat.new_conversation(branch)
        self.launcher.saving.spawn(self.launcher.history.save_new(branch))
        self.switches.tool_status.setText(
            f"A branch of “{parent.title or 'the conversation'}”: what you send now goes here; "
            "the original is unchanged."
        )
        self.chat.message.setFocus()
