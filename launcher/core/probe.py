"""One `GET /api/version` to a host, classified: what the status monitor learns from a poll.

Kept apart from the monitor's loop so that the loop only decides when to ask and the
answer's meaning stays in one small place.
"""

from __future__ import annotations

import time

from launcher.core.status import Probe, ProbeKind
from launcher.ollama import (
    OllamaClient,
    OllamaConnectionError,
    OllamaProtocolError,
    OllamaResponseError,
    OllamaTimeoutError,
)


async def probe(client: OllamaClient, timeout: float) -> Probe:
    """One `GET /api/version`, classified. Never raises for a server problem."""
    started = time.perf_counter()
    try:
        version = await client.version(retries=0, timeout=timeout)
    except OllamaProtocolError as exc:
        return Probe(ProbeKind.FOREIGN, error=str(exc))
    except OllamaTimeoutError as exc:
        return Probe(ProbeKind.TIMEOUT, error=str(exc))
    except OllamaConnectionError as exc:
        return Probe(ProbeKind.REFUSED, error=str(exc))
    except OllamaResponseError as exc:
        return Probe(ProbeKind.FOREIGN, error=str(exc))
    return Probe(ProbeKind.OLLAMA, version, (time.perf_counter() - started) * 1000)
