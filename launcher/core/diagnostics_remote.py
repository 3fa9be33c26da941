"""What an Ollama we did not start tells about itself through its API.

A server someone else started keeps its log to itself, so its version
(`GET /api/version`) and loaded models (`GET /api/ps`) are all we can show.
"""

from __future__ import annotations

from dataclasses import dataclass

from launcher.core.explain import explain
from launcher.ollama import OllamaClient, OllamaError, RunningModel


@dataclass(frozen=True)
class ApiFacts:
    """The answer of a server's API, or why there is none (for a person)."""

    version: str = ""
    loaded: tuple[RunningModel, ...] = ()
    problem: str = ""

    def loaded_names(self) -> tuple[str, ...]:
        return tuple(
            f"{m.name} (context {m.context_length})" if m.context_length else m.name
            for m in self.loaded
        )


async def api_facts(client: OllamaClient) -> ApiFacts:
    """Ask the server for its version and loaded models; never raises for a server problem."""
    try:
        version = await client.version(retries=0, timeout=5.0)
        loaded = await client.running_models()
    except OllamaError as exc:
        return ApiFacts(problem=explain(exc, host=client.base_url).headline)
    return ApiFacts(version=version, loaded=tuple(loaded))
