"""The installed models of the current host: list, refresh, delete."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from launcher.core.chat import describe_error
from launcher.ollama import ModelInfo, OllamaClient, OllamaError


class ModelCatalog(QObject):
    """What `/api/tags` says is installed, refreshed when it can have changed.

    Signals:
        modelsChanged(list): the new list of ModelInfo.
        failed(str): a refresh or delete failed; the message says why.
    """

    modelsChanged = Signal(list)
    failed = Signal(str)

    def __init__(self, client: OllamaClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.models: list[ModelInfo] = []
        self._capabilities: dict[str, tuple[str, ...]] = {}

    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def clear(self) -> None:
        if self.models:
            self.models = []
            self.modelsChanged.emit([])

    async def refresh(self) -> None:
        try:
            models = await self.client.list_models()
        except OllamaError as exc:
            self.failed.emit(f"Could not list models: {describe_error(exc)}")
            return
        models.sort(key=lambda m: m.name)
        self._capabilities.clear()  # a re-pulled model may have changed
        if models != self.models:
            self.models = models
            self.modelsChanged.emit(models)

    async def delete(self, name: str) -> bool:
        """Delete a model; True when it is gone. The list is refreshed either way."""
        try:
            await self.client.delete(name)
        except OllamaError as exc:
            self.failed.emit(f"Could not delete {name}: {describe_error(exc)}")
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
