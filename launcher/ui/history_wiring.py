"""Connects the conversations sidebar and the chat panel to the history and the chat.

Kept out of the main window so the window stays a layout, and this glue (which
runs async store calls for the widgets) stays in one readable place.
"""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from launcher.core.conversation import Conversation, ConversationSummary
from launcher.core.launcher import Launcher
from launcher.core.status import ServerState, ServerStatus
from launcher.ui.chat_view import ChatPanel
from launcher.ui.chatplus_wiring import ChatPlusWiring
from launcher.ui.sidebar import ConversationsSidebar


class HistoryWiring:
    """Glue between ConversationsSidebar/ChatPanel (widgets) and Launcher (logic)."""

    def __init__(
        self,
        launcher: Launcher,
        sidebar: ConversationsSidebar,
        chat: ChatPanel,
        status: QStatusBar,
        dialog_parent: QWidget,
    ) -> None:
        self.launcher = launcher
        self.sidebar = sidebar
        self.chat = chat
        self.status = status
        self.parent = dialog_parent
        self.dialog: QFileDialog | None = None
        history = launcher.history
        history.listChanged.connect(self._on_list)
        history.failed.connect(lambda message: status.showMessage(message, 10_000))
        launcher.chat.conversationChanged.connect(self._on_conversation)
        sidebar.activated.connect(lambda conv_id: self._spawn(launcher.open_conversation(conv_id)))
        sidebar.newChatRequested.connect(self.new_chat)
        sidebar.searchChanged.connect(lambda text: self._spawn(history.refresh(text)))
        sidebar.renameRequested.connect(
            lambda conv_id, title: self._spawn(history.rename(conv_id, title))
        )
        sidebar.deleteRequested.connect(self._delete)
        sidebar.undoRequested.connect(lambda conv_id: self._spawn(history.undo_delete(conv_id)))
        sidebar.exportRequested.connect(self._ask_export)
        sidebar.importRequested.connect(self._ask_import)
        chat.settingsEdited.connect(launcher.save_conversation_settings)
        chat.modelChosen.connect(self._look_up_capabilities)
        chat.set_enter_sends(lambda: launcher.settings.enter_sends)
        chat.pullRequested.connect(self._pull)
        launcher.monitor.statusChanged.connect(self._on_status)
        launcher.catalog.staleChanged.connect(chat.set_stale)
        self.chatplus = ChatPlusWiring(launcher, chat, dialog_parent)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.launcher.tasks.spawn(coro)

    def _on_list(self, summaries: list[ConversationSummary]) -> None:
        self.sidebar.set_conversations(summaries)
        self.sidebar.select(self.launcher.chat.conversation.id)

    def _on_conversation(self, conversation: Conversation) -> None:
        self.sidebar.select(conversation.id)

    def new_chat(self) -> None:
        self.launcher.chat.new_conversation()
        self.chat.message.setFocus()

    def _delete(self, conv_id: int) -> None:
        if self.launcher.chat.conversation.id == conv_id:
            self.launcher.chat.new_conversation()
        self._spawn(self.launcher.history.delete(conv_id))
        self.status.showMessage("Conversation deleted. Undo delete brings it back.", 10_000)

    def _pull(self, name: str) -> None:
        self.launcher.downloads.pull(name)
        self.status.showMessage(f"Downloading {name}… (see the Models page)", 10_000)

    def _on_status(self, status: ServerStatus) -> None:
        self.chat.set_server_running(status.state is ServerState.RUNNING, status.state.value)

    def _look_up_capabilities(self, model: str) -> None:
        async def look_up() -> None:
            capabilities = await self.launcher.catalog.capabilities(model)
            self.chat.set_capabilities(model, capabilities)

        self._spawn(look_up())

    # ---- files (non-blocking dialogs: the event loop keeps running) -------

    def _ask_export(self, conv_id: int, fmt: str) -> None:
        suffix = "json" if fmt == "json" else "md"
        dialog = QFileDialog(self.parent, "Export conversation")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(suffix)
        dialog.setNameFilter("JSON (*.json)" if fmt == "json" else "Markdown (*.md)")
        dialog.selectFile(f"conversation-{conv_id}.{suffix}")
        dialog.fileSelected.connect(lambda path: self.export(conv_id, fmt, Path(path)))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def export(self, conv_id: int, fmt: str, path: Path) -> None:
        async def run() -> None:
            try:
                await self.launcher.history.export(conv_id, fmt, path)
            except OSError as exc:
                self.status.showMessage(f"Export failed: {exc.strerror or exc}", 10_000)
                return
            self.status.showMessage(f"Exported to {path}", 10_000)

        self._spawn(run())

    def _ask_import(self) -> None:
        dialog = QFileDialog(self.parent, "Import conversation")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Conversation exports (*.json)")
        dialog.fileSelected.connect(lambda path: self.import_file(Path(path)))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def import_file(self, path: Path) -> None:
        async def run() -> None:
            try:
                result = await self.launcher.history.import_file(path)
            except (OSError, ValueError) as exc:
                self.status.showMessage(f"Import failed: {exc}", 15_000)
                return
            conversation = result.conversations[0]
            if conversation.id is not None:
                await self.launcher.open_conversation(conversation.id)
            # history12: what was left out (an unknown switch, a branch link) is said.
            self.status.showMessage(" ".join([f"Imported {path.name}.", *result.notes]), 15_000)

        self._spawn(run())
