"""Model details on demand (`/api/show`) and what is loaded now (`/api/ps`), with Unload.

Kept out of the Models tab so the widget only asks and paints: the requests,
their errors and the unload-then-refresh order live here and are tested
without a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Signal

from launcher.core.explain import explain
from launcher.ollama import ModelShow, OllamaClient, OllamaError, RunningModel


@dataclass(frozen=True)
class ModelFacts:
    """What the Details view shows about one installed model.

    Attributes:
        size: bytes on disk (from `/api/tags`; `/api/show` does not say), or None.
        context_length: the trained context length, or None when the model
            does not report one.
    """

    name: str
    family: str
    parameter_size: str
    quantization: str
    context_length: int | None
    capabilities: tuple[str, ...]
    size: int | None

    @classmethod
    def from_show(cls, name: str, show: ModelShow, size: int | None) -> ModelFacts:
        details = show.details
        return cls(
            name=name,
            family=details.family,
            parameter_size=details.parameter_size,
            quantization=details.quantization_level,
            context_length=show.context_length,
            capabilities=show.capabilities,
            size=size,
        )


def unloads_in(expires_at: datetime | None, now: datetime | None = None) -> str:
    """'14:32 (in 5 min)' in local time; 'never' for Ollama's far-future 'keep forever'."""
    if expires_at is None:
        return "unknown"
    now = now or datetime.now(UTC)
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    seconds = (expires_at - now).total_seconds()
    if seconds > 365 * 24 * 3600:
        return "never (kept loaded)"
    local = expires_at.astimezone().strftime("%H:%M")
    if seconds <= 0:
        return f"{local} (now)"
    if seconds < 60:
        return f"{local} (in {int(seconds)} s)"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{local} (in {minutes} min)"
    return f"{local} (in {minutes // 60} h {minutes % 60} min)"


class ModelInspector(QObject):
    """Asks the current host about models.

    Args:
        client: the current host's client; the launcher re-points `client`
            when the host changes.

    Signals:
        loadedChanged(list): the RunningModel list after a refresh.
        failed(str): listing or unloading failed; the message says why (never
            a secret: errors name the host URL only).
        detailsFailed(str): `/api/show` failed; the message says why.
    """

    loadedChanged = Signal(list)
    failed = Signal(str)
    detailsFailed = Signal(str)

    def __init__(self, client: OllamaClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.loaded: list[RunningModel] = []

    def clear(self) -> None:
        """Forget the previous host's list (at a host switch)."""
        self.loaded = []
        self.loadedChanged.emit([])

    async def details(self, name: str, size: int | None = None) -> ModelFacts | None:
        """The facts of one model, or None (and `detailsFailed`) when the host cannot tell."""
        try:
            show = await self.client.show(name)
        except OllamaError as exc:
            headline = explain(exc, host=self.client.base_url, model=name).headline
            self.detailsFailed.emit(f"Could not get details of {name}: {headline}")
            return None
        return ModelFacts.from_show(name, show, size)

    async def refresh_loaded(self) -> None:
        """Ask `/api/ps` what is in memory now."""
        client = self.client
        try:
            models = await client.running_models()
        except OllamaError as exc:
            if client is self.client:
                # Not "nothing loaded": we cannot know. Say so, and why.
                self.loaded = []
                self.loadedChanged.emit([])
                headline = explain(exc, host=client.base_url).headline
                self.failed.emit(f"Can't tell which models are loaded: {headline}")
            return
        if client is not self.client:
            return  # the host changed while we asked: this answer is stale
        self.loaded = models
        self.loadedChanged.emit(models)

    async def unload(self, name: str) -> bool:
        """Unload a model now (`keep_alive: 0`), then refresh the list."""
        try:
            await self.client.unload(name)
        except OllamaError as exc:
            headline = explain(exc, host=self.client.base_url, model=name).headline
            self.failed.emit(f"Could not unload {name}: {headline}")
            await self.refresh_loaded()
            return False
        await self.refresh_loaded()
        return True
