"""The launcher's logic in one object: hosts, clients, server, chat, models, downloads.

The window only observes this object and sends it commands; everything here
works (and is tested) without a widget.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from launcher.config import HostProfile, Settings, host_profiles, initial_host
from launcher.core.binary import find_ollama
from launcher.core.chat import ChatController
from launcher.core.downloads import DownloadManager
from launcher.core.guard import GuardSettings
from launcher.core.logbuffer import LogBuffer
from launcher.core.models import ModelCatalog
from launcher.core.monitor import ServerMonitor
from launcher.core.server import ServerSupervisor
from launcher.core.status import ServerState, ServerStatus
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import OllamaClient


class Launcher(QObject):
    """Owns every long-lived piece and their wiring.

    Args:
        settings: the user's settings (see launcher.config).
        environ: the environment to read OLLAMA_HOST from (default os.environ).

    Signals:
        hostChanged(object): the selected HostProfile changed.
    """

    hostChanged = Signal(object)

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.profiles = host_profiles(settings, environ)
        self.profile = initial_host(settings, environ)
        self.log = LogBuffer()
        self.tasks = BackgroundTasks()
        self._clients: dict[str, OllamaClient] = {}
        client = self.client_for(self.profile)
        self.supervisor = ServerSupervisor(self.log, parent=self)
        self.monitor = ServerMonitor(
            client, self.profile, self.supervisor, settings.local, self.find_binary, parent=self
        )
        self.catalog = ModelCatalog(client, parent=self)
        self.chat = ChatController(client, self.guard_settings, parent=self)
        self.downloads = DownloadManager(client, parent=self)
        self._was_running = False
        self.monitor.statusChanged.connect(self._on_status)
        self.downloads.modelsChanged.connect(self.refresh_models)

    # ---- wiring ---------------------------------------------------------

    def client_for(self, profile: HostProfile) -> OllamaClient:
        """One long-lived client per host (its connection pool is reused)."""
        client = self._clients.get(profile.id)
        if client is None or client.is_closed or client.base_url != profile.base_url:
            client = OllamaClient(profile.base_url, api_key=self.api_key_for(profile))
            self._clients[profile.id] = client
        return client

    def api_key_for(self, profile: HostProfile) -> str | None:
        """The API key for a remote host; the local server never gets one."""
        return None

    def guard_settings(self) -> GuardSettings:
        return GuardSettings.from_dict(self.settings.guard)

    def find_binary(self) -> Path | None:
        return find_ollama(self.settings.local.binary)

    def start(self) -> None:
        """Begin watching the host (inside the running event loop)."""
        self.monitor.start()

    def _on_status(self, status: ServerStatus) -> None:
        running = status.state is ServerState.RUNNING
        if running and not self._was_running:
            self.refresh_models()
        self._was_running = running

    def refresh_models(self) -> None:
        self.tasks.spawn(self.catalog.refresh())

    def switch_host(self, host_id: str) -> None:
        """Talk to another host from now on; a running reply is stopped first."""
        profile = next((p for p in self.profiles if p.id == host_id), None)
        if profile is None or profile.id == self.profile.id:
            return
        self.chat.stop()
        self.profile = profile
        client = self.client_for(profile)
        self.chat.client = client
        self.catalog.client = client
        self.catalog.clear()
        self.downloads.client = client
        self._was_running = False
        self.monitor.set_host(client, profile)
        self.hostChanged.emit(profile)

    # ---- shutdown -------------------------------------------------------

    async def shutdown(self) -> None:
        """Cancel streams and downloads, stop our server, close every connection."""
        await self.chat.aclose()
        await self.downloads.aclose()
        await self.monitor.aclose()
        await self.tasks.aclose()
        if self.supervisor.running and not self.settings.local.keep_running_after_quit:
            await self.supervisor.stop()
        for client in self._clients.values():
            await client.aclose()
