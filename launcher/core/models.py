"""The installed models of each host: list, refresh, delete, and the last known list.

A stopped server or an unreachable host does not mean nothing is installed:
the catalog keeps the last list it saw per host and marks it `stale` ("server
stopped" or "host unreachable") so the Models page and the model picker can
say so instead of "No models installed".
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from launcher.core.explain import explain
from launcher.ollama import ModelInfo, OllamaClient, OllamaConnectionError, OllamaError
from launcher.ollama.host import is_loopback_url

SERVER_STOPPED = "server stopped"
HOST_UNREACHABLE = "host unreachable"


class ModelCatalog(QObject):
    """What `/api/tags` says is installed, refreshed when it can have changed.

    Attributes:
        models: the current host's models (the last known ones when `stale`).
        stale: "" when `models` is fresh, else SERVER_STOPPED or HOST_UNREACHABLE.
        stale_note: the status's own advice when there is one ("Install it from…").
        host_id: the current host (the launcher sets it at a host switch).

    Signals:
        modelsChanged(list): the new list of ModelInfo.
        staleChanged(str): `stale` changed.
        failed(str): a refresh or delete failed; the message says why, for a person.
    """

    modelsChanged = Signal(list)
    staleChanged = Signal(str)
    failed = Signal(str)

    def __init__(
        self, client: OllamaClient, parent: QObject | None = None, *, host_id: str = ""
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.host_id = host_id
        self.models: list[ModelInfo] = []
        self.stale = ""
        self.stale_note = ""
        self._confirmed = False
        self._known: dict[str, list[ModelInfo]] = {}
        self._capabilities: dict[str, tuple[str, ...]] = {}

    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def known(self, host_id: str) -> list[ModelInfo]:
        """The last list seen on `host_id` (empty when never seen)."""
        return list(self._known.get(host_id, []))

    def clear(self) -> None:
        """At a host switch: show the new host's last known list until it answers."""
        self._capabilities.clear()
        self._set_stale("")
        self._confirmed = False  # the next answer is announced even when it is the same
        models = self.known(self.host_id)
        if models != self.models:
            self.models = models
            self.modelsChanged.emit(list(models))

    def mark_unavailable(self, note: str = "") -> None:
        """The host stopped answering: keep its list, say why it may be out of date.

        `note` is what the server status says about it (e.g. how to install Ollama),
        so every page gives the same advice.
        """
        local = is_loopback_url(self.client.base_url)
        self._set_stale(SERVER_STOPPED if local else HOST_UNREACHABLE, note)

    def _set_stale(self, stale: str, note: str = "") -> None:
        if stale != self.stale or note != self.stale_note:
            self.stale, self.stale_note = stale, note if stale else ""
            self.staleChanged.emit(stale)

    async def refresh(self) -> None:
        client, host_id = self.client, self.host_id
        try:
            models = await client.list_models()
        except OllamaConnectionError as exc:
            if client is self.client:
                self.mark_unavailable()  # keep the list, marked
                headline = explain(exc, host=client.base_url).headline
                self.failed.emit(f"Could not list models: {headline}")
            return
        except OllamaError as exc:
            if client is self.client:
                headline = explain(exc, host=client.base_url).headline
                self.failed.emit(f"Could not list models: {headline}")
            return
        if client is not self.client:
            return  # the host changed while we asked: this answer is not for the list shown
        models.sort(key=lambda m: m.name)
        self._capabilities.clear()  # a re-pulled model may have changed
        self._known[host_id] = list(models)
        self._set_stale("")
        if models != self.models or not self._confirmed:
            self.models = models
            self.modelsChanged.emit(models)
        self._confirmed = True

    async def delete(self, name: str) -> bool:
        """Delete a model; True when it is gone. The list is refreshed either way."""
        try:
            await self.client.delete(name)
        except OllamaError as exc:
            headline = explain(exc, host=self.client.base_url, model=name).headline
            self.failed.emit(f"Could not delete {name}: {headline}")
            await self.refresh()
            return False
        await self.refresh()
        return True

    async def capabilities(self, name: str) -> tuple[str, ...]:
        """What a model can do (`completion`, `vision`, `thinking`, `tools`...), cached.

        Unknown (the server could not say) is an empty tuple: the UI then offers
        only what every model can do.
        """
        cached = self._capabilities.get(name)
        if cached is not None:
            return cached
        try:
            shown = await self.client.show(name)
        except OllamaError:
            return ()
        self._capabilities[name] = shown.capabilities
        return shown.capabilities
