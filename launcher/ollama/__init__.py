"""The Ollama API client: asyncio + httpx, no Qt, nothing else of ours.

It could be published alone; the rest of the launcher uses only these names.
"""

from .blobs import BlobProgress
from .client import OllamaClient
from .connection import DEFAULT_TIMEOUT
from .errors import (
    OllamaConnectionError,
    OllamaError,
    OllamaProtocolError,
    OllamaProxyError,
    OllamaResponseError,
    OllamaStreamError,
    OllamaTimeoutError,
    OllamaTLSError,
)
from .host import DEFAULT_PORT, is_loopback_url, resolve_host
from .stream import OllamaStream
from .types import (
    ChatChunk,
    ChatMetrics,
    ChatResponse,
    Logprob,
    ModelDetails,
    ModelInfo,
    ModelShow,
    PullProgress,
    RunningModel,
    TokenLogprob,
    ToolCall,
)

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_TIMEOUT",
    "BlobProgress",
    "ChatChunk",
    "ChatMetrics",
    "ChatResponse",
    "Logprob",
    "ModelDetails",
    "ModelInfo",
    "ModelShow",
    "OllamaClient",
    "OllamaConnectionError",
    "OllamaError",
    "OllamaProtocolError",
    "OllamaProxyError",
    "OllamaResponseError",
    "OllamaStream",
    "OllamaStreamError",
    "OllamaTLSError",
    "OllamaTimeoutError",
    "PullProgress",
    "RunningModel",
    "TokenLogprob",
    "ToolCall",
    "is_loopback_url",
    "resolve_host",
]
