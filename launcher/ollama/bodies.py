"""The JSON bodies the client sends: what each optional argument becomes on the wire.

Kept apart from the client so that "which fields does a chat request carry" reads in
one place, and the rule "leave out what the caller did not set" (the server's
defaults then apply, as with Ollama's own clients) is written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .blobs import normal_digest
from .types import JSONDict


def chat_body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    stream: bool,
    options: Mapping[str, Any] | None = None,
    think: bool | str | None = None,
    keep_alive: float | str | None = None,
    format: str | JSONDict | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
) -> JSONDict:
    """A `/api/chat` body; `tools` are function declarations (JSON schema)."""
    body: JSONDict = {"model": model, "messages": [dict(m) for m in messages], "stream": stream}
    if options:
        body["options"] = dict(options)
    if think is not None:
        body["think"] = think
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    if format is not None:
        body["format"] = format
    if tools:
        body["tools"] = [dict(t) for t in tools]
    if logprobs is not None:
        body["logprobs"] = logprobs
    if top_logprobs is not None:
        body["top_logprobs"] = top_logprobs
    return body


def create_body(
    model: str,
    *,
    files: Mapping[str, str] | None = None,
    from_: str | None = None,
    system: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    template: str | None = None,
) -> JSONDict:
    """A streamed `/api/create` body; `files` maps file names to blob digests."""
    body: JSONDict = {"model": model, "stream": True}
    if files:
        body["files"] = {name: normal_digest(d) for name, d in files.items()}
    if from_:
        body["from"] = from_
    if system is not None:
        body["system"] = system
    if parameters:
        body["parameters"] = dict(parameters)
    if template is not None:
        body["template"] = template
    return body
