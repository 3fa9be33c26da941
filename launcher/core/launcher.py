"""The launcher's logic in one object: hosts, clients, server, chat, models, downloads.

The window only observes this object and sends it commands; everything here
works (and is tested) without a widget.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from launcher.config import (
    ENV_ID,
    HostProfile,
    Settings,
    data_dir,
    host_profiles,
    initial_host,
    save_settings_async,
)
from launcher.core import host_keys
from launcher.core.binary import find_ollama
from launcher.core.chat import ChatController, ChatTurn
from launcher.core.chatplus import ChatPlus
from launcher.core.conversation import Conversation, Message
from launcher.core.diskspace import models_folder
from launcher.core.downloads import DownloadManager
from launcher.core.guard_settings import GuardSettings
from launcher.core.history import ConversationHistory
from launcher.core.host_clients import HostClients
from launcher.core.inspector import ModelInspector
from launcher.core.logbuffer import LogBuffer
from launcher.core.models import ModelCatalog
from launcher.core.monitor import ServerMonitor
from launcher.core.pullqueue import QUEUE_FILE
from launcher.core.readiness import ensure_running
from launcher.core.server import ServerSupervisor
from launcher.core.status import ServerState, ServerStatus
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import OllamaClient
from launcher.secrets import SecretStore, in_thread

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 9.0  # the orderly shutdown always ends within this (signals allow 10 s)
_UNAVAILABLE = (
    ServerState.STOPPED,
    ServerState.CRASHED,
    ServerState.UNREACHABLE,
    ServerState.NOT_INSTALLED,
    ServerState.PORT_IN_USE,
)


class Launcher(QObject):
    """Owns every long-lived piece and their wiring.

    Args:
        settings: the user's settings (see launcher.config).
        environ: the environment to read OLLAMA_HOST and OLLAMA_API_KEY from
            (default os.environ).
        secrets: where remote hosts' API keys live (default: the system
            keyring, or this session's memory when there is none).

    Signals:
        hostChanged(object): the selected HostProfile changed.
        profilesChanged(list): the list of HostProfiles changed (settings applied).
    """

    hostChanged = Signal(object)
    profilesChanged = Signal(list)

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        parent: QObject | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.secrets = secrets if secrets is not None else SecretStore()
        self.profiles = host_profiles(settings, environ)
        self.profile = initial_host(settings, environ)
        self.log = LogBuffer()
        for problem in settings.problems:  # a settings field that was ignored: say so once
            self.log.append(f"[launcher] {problem}")
        self.tasks = BackgroundTasks()
        self.clients = HostClients(self.api_key_for)
        self._refreshes: set[asyncio.Task[Any]] = set()
        self._closing = False  # set at shutdown: nothing may start polling again
        client = self.client_for(self.profile)
        self.supervisor = ServerSupervisor(self.log, parent=self)
        self.monitor = ServerMonitor(
            client, self.profile, self.supervisor, settings.local, self.find_binary, parent=self
        )
        self.catalog = ModelCatalog(client, parent=self, host_id=self.profile.id)
        self.chat = ChatController(client, self.guard_settings, parent=self)
        self.downloads = DownloadManager(
            client,
            parent=self,
            host_id=self.profile.id,
            folder_for=self._models_folder,
            client_for_host=self._client_for_host,
            stall_seconds=lambda: self.settings.download_stall_seconds,
            queue_file=data_dir() / QUEUE_FILE,
        )
        self.inspector = ModelInspector(client, parent=self)
        self.history = ConversationHistory(parent=self)
        self.history.mirror_folder = (
            Path(settings.markdown_folder) if settings.markdown_folder else None
        )
        self.saving = BackgroundTasks()  # turn saves: let them finish at quit, never cancel
        self._was_running = False
        self.monitor.statusChanged.connect(self._on_status)
        self.downloads.modelsChanged.connect(self.refresh_models)
        self.chat.turnStarted.connect(self._on_turn_started)
        self.chat.messagesRemoved.connect(self._on_messages_removed)
        # chatux: a send starts the stopped local server first; another version shown is saved.
        self.chat.prepare = lambda: ensure_running(self.monitor)
        self.chat.messageChanged.connect(self._on_message_changed)
        # chatplus: the context meter, tools, token probabilities, branches.
        self.chatplus = ChatPlus(
            client, self.log, self.secrets, self.environ, self.profile.managed, self
        )
        self.chatplus.follow(self.chat, self.tasks.spawn)

    @property
    def closing(self) -> bool:
        """The orderly shutdown began: start no new background work."""
        return self._closing

    # ---- wiring ---------------------------------------------------------

    def client_for(self, profile: HostProfile) -> OllamaClient:
        """One long-lived client per host (its connection pool is reused); a new
        one when the host's URL, key, proxy or TLS settings changed. A replaced
        client is closed at quit, not now: a download or reply may still be using it."""
        return self.clients.get(profile)

    def api_key_for(self, profile: HostProfile) -> str | None:
        """The API key for a remote host; the local server never gets one.

        `OLLAMA_API_KEY` belongs to the `OLLAMA_HOST` host only; a remote host
        from the settings uses its own key from the SecretStore. Reads memory
        only (never blocks): keys are loaded in a thread at start.
        """
        if profile.managed:
            return None
        if profile.id == ENV_ID:
            return self.environ.get("OLLAMA_API_KEY") or None
        return self.secrets.peek(profile.id)

    def _models_folder(self, host_id: str) -> Path | None:
        """Where a host's server writes models: known for this computer only."""
        profile = next((p for p in self.profiles if p.id == host_id), None)
        if profile is None or not profile.managed:
            return None
        return models_folder(self.settings.local, self.environ)

    def _client_for_host(self, host_id: str) -> OllamaClient | None:
        profile = next((p for p in self.profiles if p.id == host_id), None)
        return self.client_for(profile) if profile is not None else None

    def guard_settings(self) -> GuardSettings:
        return GuardSettings.from_dict(self.settings.guard)

    def find_binary(self) -> Path | None:
        return find_ollama(self.settings.local.binary)

    def start(self) -> None:
        """Begin watching the host and open the conversations (inside the running loop).

        Remote hosts' keys are read from the keyring in a worker thread (it can
        block on D-Bus); a remote host is first probed once its key is known,
        so it never sees a request without it.
        """
        remote_ids = [r.id for r in self.settings.remotes]
        if remote_ids:
            self.tasks.spawn(self._load_keys(remote_ids))
        if not remote_ids or self.profile.managed or self.profile.id == ENV_ID:
            self.monitor.start()
        self.tasks.spawn(self._open_history())
        self.tasks.spawn(self.downloads.restore())  # "Resume 2 downloads?"

    async def _open_history(self) -> None:
        """Open the store; show the most recent conversation, as the user left it."""
        await self.history.open()
        untouched = self.chat.conversation.id is None and not self.chat.conversation.messages
        if self.history.summaries and untouched:
            await self.open_conversation(self.history.summaries[0].id)

    async def open_conversation(self, conv_id: int) -> None:
        conversation = await self.history.load(conv_id)
        if conversation is not None:
            self.chat.new_conversation(conversation)

    async def restore_backup(self, backup: Path) -> Path:
        """Replace every conversation with those of `backup` (see `backups_dialog`); the
        current database is kept as a backup first, whose path is returned. The chat
        starts over on the backup's most recent conversation."""
        self.chat.new_conversation()
        safety = await self.history.restore(backup)
        if self.history.summaries:
            await self.open_conversation(self.history.summaries[0].id)
        return safety

    def save_conversation_settings(self) -> None:
        """Persist the current conversation's model, system prompt and options."""
        self.saving.spawn(self.history.save_settings(self.chat.conversation))

    def _on_turn_started(self, turn: ChatTurn) -> None:
        self.saving.spawn(self.history.persist(turn))

    def _on_messages_removed(self, conversation: Conversation, removed: list[Message]) -> None:
        if removed:
            self.saving.spawn(self.history.truncate(conversation, removed[0]))

    def _on_message_changed(self, conversation: Conversation, message: Message) -> None:
        if message.id is not None:
            self.saving.spawn(self.history.save_message(conversation, message))

    async def _load_keys(self, host_ids: list[str]) -> None:
        await in_thread(self.secrets.load, host_ids)  # bounded, never joined at quit
        if self._closing:
            return
        self._rebind()
        self.monitor.start()  # no-op when already polling

    def _on_status(self, status: ServerStatus) -> None:
        running = status.state is ServerState.RUNNING
        if running and not self._was_running:
            self.refresh_models()
        elif status.state in _UNAVAILABLE:
            # Keep the list, say why it may be stale; with the status's own advice.
            missing = status.state is ServerState.NOT_INSTALLED
            self.catalog.mark_unavailable(status.tooltip if missing else "")
        self._was_running = running

    def refresh_models(self) -> None:
        if self._closing:
            return
        task = self.tasks.spawn(self.catalog.refresh())
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    def switch_host(self, host_id: str) -> None:
        """Talk to another host from now on; a running reply is stopped first.

        The choice is remembered in the settings file (written off the Qt thread).
        """
        profile = next((p for p in self.profiles if p.id == host_id), None)
        if profile is None or profile.id == self.profile.id:
            return
        self._use(profile)
        if self.settings.selected != profile.id:
            self.settings.selected = profile.id
            self.tasks.spawn(self._save_settings_quietly(save_settings_async(self.settings)))

    async def _save_settings_quietly(self, write: Awaitable[None]) -> None:
        try:
            await write
        except OSError as exc:
            log.warning("could not save the settings (%s)", exc)

    def open_host(self, host: str) -> None:
        """Switch to `host` as if it were `OLLAMA_HOST` (a later `--host` launch)."""
        self.environ = {**self.environ, "OLLAMA_HOST": host}
        self.profiles = host_profiles(self.settings, self.environ)
        self._rebind()
        target = initial_host(self.settings, self.environ)
        if target.id != self.profile.id:
            self._use(target)
        self.profilesChanged.emit(list(self.profiles))

    def _use(self, profile: HostProfile) -> None:
        """Point every part at `profile`'s client; forget the previous host's state."""
        self.chat.stop()
        for task in list(self._refreshes):
            task.cancel()  # a late answer from the old host must not fill the lists
        self.profile = profile
        client = self.client_for(profile)
        self.chat.client = client
        self.chatplus.client = client
        self.chatplus.local = profile.managed
        self.catalog.client = client
        self.catalog.host_id = profile.id
        self.catalog.clear()
        self.downloads.client = client
        self.downloads.host_id = profile.id
        self.inspector.client = client
        self.inspector.clear()
        self._was_running = False
        self.monitor.set_host(client, profile)
        self.hostChanged.emit(profile)

    # ---- settings -------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        """Make the settings current now and save them in the background (the write runs
        off the Qt thread; a failure is logged). `update_settings` awaits the write instead.

        Profiles are recomputed, clients whose URL or key changed are
        replaced, and the host changes when the selected one did or when the
        current one was removed. A change of the local server's address or
        environment takes effect at its next start.
        """
        self._apply(settings)
        self.tasks.spawn(self._save_settings_quietly(save_settings_async(settings)))

    def _apply(self, settings: Settings) -> None:
        previous = self.settings.selected
        self.settings = settings
        self.tasks.spawn(self.history.use_mirror_folder(settings.markdown_folder))
        self.monitor.local = settings.local
        self.profiles = host_profiles(settings, self.environ)
        self._rebind()
        if settings.selected != previous:
            self.switch_host(settings.selected)
        self.profilesChanged.emit(list(self.profiles))

    async def update_settings(self, settings: Settings, keys: Mapping[str, str]) -> list[str]:
        """Store changed API keys (in a worker thread: the keyring may block), then
        apply the settings. `keys` maps host id to its new key ("" removes it).

        Returns the names of hosts whose key is kept for this session only.
        Raises OSError when the settings file cannot be written (nothing is
        changed then). Neither the keyring nor the file is touched on the Qt
        thread; a keyring that does not answer costs at most its timeout.
        """
        kept = {r.id for r in settings.remotes}
        removed = [r.id for r in self.settings.remotes if r.id not in kept]
        session_only = await host_keys.store_keys(self.secrets, keys, removed)
        await save_settings_async(settings)
        self._apply(settings)
        names = {r.id: r.name for r in settings.remotes}
        return [names.get(host_id, host_id) for host_id in session_only]

    async def read_keys(self) -> tuple[bool, dict[str, str]]:
        """Whether keys persist, and each remote host's key (for the settings
        dialog); read in a worker thread, the keyring may block."""
        return await host_keys.read_keys(self.secrets, [r.id for r in self.settings.remotes])

    def _rebind(self) -> None:
        """Bring clients in line with `profiles` and the keys; follow the current host."""
        self.clients.keep_only(p.id for p in self.profiles)
        current = next((p for p in self.profiles if p.id == self.profile.id), None)
        if current is None:  # the current host was removed
            self._use(self.profiles[0])
            return
        if self.client_for(current) is not self.catalog.client:
            self._use(current)  # its URL or key changed: as if switching to it
        elif current != self.profile:
            # Same URL and key, other details (the child's address): no need to
            # drop the lists or the reply; the monitor reads them at its next step.
            self.profile = current
            self.monitor.profile = current

    # ---- shutdown -------------------------------------------------------

    async def shutdown(self, deadline: float = SHUTDOWN_SECONDS) -> None:
        """Cancel streams and downloads, stop our server, close every connection.

        Always ends within `deadline` seconds, whatever hangs (a stuck keyring, a
        stuck request, a child ignoring SIGTERM): each step gets a bounded share,
        and the server always keeps enough time to be killed.
        """
        self._closing = True
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        reserve = 2.0  # kept for stopping the server and closing clients

        def budget(cap: float) -> float:
            return max(0.05, min(cap, end - reserve - loop.time()))

        await bounded(self.chat.aclose(), budget(2.0), "stopping the reply")
        # UI-started work first: it may still use the store.
        await bounded(self.tasks.aclose(), budget(2.0), "background tasks")
        await bounded(self.saving.wait(timeout=5.0), budget(3.0), "saving the last reply")
        await bounded(self.history.aclose(), budget(2.0), "closing the history")
        await bounded(self.downloads.aclose(), budget(1.0), "downloads")
        await bounded(self.monitor.aclose(), budget(1.0), "the status monitor")
        if self.supervisor.running and not self.settings.local.keep_running_after_quit:
            grace = max(0.5, end - loop.time() - 1.0)
            await bounded(self.supervisor.stop(grace=min(grace, 5.0)), grace + 0.5, "the server")
            if self.supervisor.running:
                self.supervisor.kill_now()
        for client in self.clients.every():
            await bounded(client.aclose(), max(0.05, min(0.5, end - loop.time())), "a client")


async def bounded(step: Coroutine[Any, Any, Any], seconds: float, what: str) -> bool:
    """Run one shutdown step for at most `seconds`; True when it finished in time.

    A step that overruns is cancelled and not awaited further (a thread stuck
    in the keyring cannot be interrupted, only left behind).
    """
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        log.warning("shutdown: %s did not finish within %.1f s; moving on", what, seconds)
        return False
    if not task.cancelled() and task.exception() is not None:
        log.warning("shutdown: %s failed: %s", what, task.exception())
    return True
