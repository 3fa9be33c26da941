"""Files in the next message: Attach file…, drops and pastes, chips, and what is sent.

Files are read in a worker thread (`core/attachments.py`) as they are attached, so a
chip means the text is ready; Send puts each file's delimited block before the typed
text; editing a message with files gives back its text in the box and its files as
chips. Images go to the model's images when it can see them, and are refused (saying
why) when it cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from launcher.core.attachments import (
    Attachment,
    AttachmentError,
    compose,
    load_attachment,
    size_warning,
    split_message,
)
from launcher.core.context import DEFAULT_CONTEXT, ContextUse
from launcher.core.conversation import Message
from launcher.ui.chat_view import ChatPanel
from launcher.ui.file_chips import FileChips
from launcher.ui.file_drop import FileDrop

FILE_FILTER = (
    "Text, code, data and PDF files (*.txt *.md *.markdown *.csv *.tsv *.json *.jsonl *.pdf "
    "*.py *.js *.ts *.html *.css *.xml *.yaml *.yml *.toml *.ini *.c *.h *.cpp *.java *.go "
    "*.rs *.rb *.sh *.sql *.log);;All files (*)"
)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"})

Spawn = Callable[[Coroutine[Any, Any, None]], object]


class FileAttacher(QObject):
    """The chat panel's attached files.

    Attributes:
        context: the conversation's current ContextUse (for the size warning).
    """

    def __init__(
        self, chat: ChatPanel, chips: FileChips, spawn: Spawn, dialog_parent: QWidget
    ) -> None:
        super().__init__(chat)
        self.chat = chat
        self.chips = chips
        self._spawn = spawn
        self.dialog_parent = dialog_parent
        self.dialog: QFileDialog | None = None
        self.context: Callable[[], ContextUse | None] = lambda: None
        self.drop = FileDrop(self)
        self.drop.watch(chat.message)
        self.drop.watch(chat.conversation)
        self.drop.watch(chat)  # anywhere else on the chat page
        self.drop.filesDropped.connect(self.attach)
        chat.compose = self.compose
        chat.sent.connect(self._on_sent)
        chat.editingChanged.connect(self._on_editing)

    def _message(self, index: int) -> Message | None:
        messages = self.chat.controller.conversation.messages
        return messages[index] if 0 <= index < len(messages) else None

    def choose(self) -> None:
        """Pick files with a non-blocking dialog (the event loop keeps running)."""
        dialog = QFileDialog(self.dialog_parent, "Attach files", str(Path.home()), FILE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.attach)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def attach(self, paths: list[str]) -> None:
        """Images go to the model's images (when it can see); other files are read as text."""
        images = [p for p in paths if Path(p).suffix.lower() in IMAGE_SUFFIXES]
        files = [p for p in paths if p not in images]
        problems: list[str] = []
        if images:
            if self.chat.attach_button.isEnabled():
                self.chat.attach_files(images)
            else:
                names = ", ".join(Path(p).name for p in images)
                problems.append(
                    f"{names}: this model cannot see images — choose a model with vision, "
                    "or attach text files."
                )
        if files:
            self._spawn(self._read(files, problems))
        else:
            self.warn(problems)

    async def _read(self, paths: list[str], problems: list[str]) -> None:
        for path in paths:
            try:
                attachment = await load_attachment(path)
            except AttachmentError as exc:
                problems.append(str(exc))
                continue
            self.chips.add(attachment)
        self.warn(problems)

    def warn(self, problems: list[str] | None = None) -> None:
        notes = list(problems or [])
        if self.chips.attachments:
            use = self.context()
            limit = use.limit if use is not None else DEFAULT_CONTEXT
            used = (use.used or 0) if use is not None else 0
            text = self.chat.message.toPlainText()
            warning = size_warning(self.chips.attachments, text, limit, used)
            if warning:
                notes.append(warning)
        self.chips.set_warning(" ".join(notes))

    def compose(self, text: str) -> str:
        """The message to send: the attached files' blocks, then the text."""
        if not self.chips.attachments:
            return text
        return compose(text, self.chips.attachments)

    def _on_sent(self) -> None:
        self.chips.clear()

    def _on_editing(self, index: int) -> None:
        """Editing a message with files: its text in the box, its files back as chips."""
        self.chips.clear()
        message = self._message(index)
        if message is None:
            return
        text, files = split_message(message.content)
        if files:
            self.chat.message.setPlainText(text)
            for file in files:
                self.chips.add(Attachment(file.name, file.kind, file.text))
