"""The Ollama API client: asyncio + httpx, no Qt, nothing else of ours.

It could be published alone; the rest of the launcher uses only these names.
"""

from .client import DEFAULT_TIMEOUT, OllamaClient, OllamaStream
from .errors import (
    OllamaConnectionError,
    OllamaError,
    OllamaProtocolError,
    OllamaResponseError,
    OllamaStreamError,
    OllamaTimeoutError,
    OllamaTLSError,
)
from .host import DEFAULT_PORT, is_loopback_url, resolve_host
from .types import (
    ChatChunk,
    ChatMetrics,
    ChatResponse,
    ModelDetails,
    ModelInfo,
    ModelShow,
    PullProgress,
    RunningModel,
)

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_TIMEOUT",
    "ChatChunk",
    "ChatMetrics",
    "ChatResponse",
    "ModelDetails",
    "ModelInfo",
    "ModelShow",
    "OllamaClient",
    "OllamaConnectionError",
    "OllamaError",
    "OllamaProtocolError",
    "OllamaResponseError",
    "OllamaStream",
    "OllamaStreamError",
    "OllamaTLSError",
    "OllamaTimeoutError",
    "PullProgress",
    "RunningModel",
    "is_loopback_url",
    "resolve_host",
]
