"""A protocol-faithful Ollama test server (in-thread) and a fake ``ollama`` binary.

``OllamaTestServer`` answers the Ollama HTTP API from test-controlled state and records
requests and streams (over https too, given a server SSL context); ``ForeignServer`` is a
non-Ollama web server holding a port; ``bin/ollama`` runs ``fake_cli.main`` (``ollama
serve`` / ``ollama --version``). ``proxy.ForwardProxy`` and ``certs`` (a throw-away CA and
certificates) are for the proxy and TLS tests.
"""

from .foreign import ForeignServer
from .server import OllamaTestServer
from .specs import (
    LayerSpec,
    LoadedModel,
    ModelSpec,
    PullSpec,
    RecordedRequest,
    ReplySpec,
    StreamRecord,
)

__all__ = [
    "ForeignServer",
    "LayerSpec",
    "LoadedModel",
    "ModelSpec",
    "OllamaTestServer",
    "PullSpec",
    "RecordedRequest",
    "ReplySpec",
    "StreamRecord",
]
