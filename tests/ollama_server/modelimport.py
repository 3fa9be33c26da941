"""``/api/blobs/sha256:…`` and ``/api/create``: uploading model files and building a model.

Why: importing a GGUF is two steps on a real server — upload the file as a blob (``HEAD``
first to skip what is there; ``POST`` answers 201 Created, or 400 when the bytes do not
hash to the digest in the path), then ``POST /api/create`` naming the blobs (or ``from``
an installed model), which streams ``{"status": …}`` lines and ends with ``success``;
the model then appears in ``/api/tags``. This module holds those rules as plain
functions; ``server.py`` routes the requests here.

Texts that are read from Ollama's source (``routes.go``): ``digest mismatch, layer
digest: …, path digest: …``, ``neither 'from' or 'files' was specified``, ``invalid
model name``. The text for a ``files`` entry naming an unknown blob is inferred.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from .answering import HttpError
from .http11 import Exchange, Request
from .specs import ModelSpec, StreamRecord, fake_hex
from .streaming import StreamListener, StreamOut
from .wire import go_json_bytes, parse_model_name

DIGEST = re.compile(r"sha256[:-]([0-9a-f]{64})")
_CREATE_FIELDS: dict[str, type] = {"model": str, "from": str, "stream": bool, "files": dict}


class Refused(Exception):
    """A create/blob request refused before any byte of the reply: (status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def blob_digest(path: str) -> str:
    """``sha256:<hex>`` from ``/api/blobs/sha256:<hex>`` (or ``sha256-<hex>``).
    Raises Refused 400 for anything else, as Ollama does."""
    match = DIGEST.fullmatch(path.removeprefix("/api/blobs/"))
    if match is None:
        raise Refused(400, "invalid digest format")
    return "sha256:" + match.group(1)


def check_upload(digest: str, body: bytes) -> None:
    got = "sha256:" + hashlib.sha256(body).hexdigest()
    if got != digest:
        raise Refused(400, f"digest mismatch, layer digest: {got}, path digest: {digest}")


def _layer(digest: str) -> str:
    return f"using existing layer {digest}"


def plan_create(
    body: dict[str, Any],
    models: dict[str, ModelSpec],
    blobs: dict[str, int],
    now: datetime,
) -> tuple[list[dict[str, Any]], ModelSpec | None]:
    """The status lines a create streams, and the model to install at ``success``.

    Raises Refused for what Ollama refuses before streaming. A problem found while
    creating (an unknown ``from`` model, a missing blob) is the last line,
    ``{"error": …}``, and the model is None.
    """
    name = body.get("model") or body.get("name") or ""
    full = parse_model_name(name) if isinstance(name, str) else None
    if full is None:
        raise Refused(400, "invalid model name")
    files = body.get("files") or {}
    source = body.get("from") or ""
    if not files and not source:
        raise Refused(400, "neither 'from' or 'files' was specified")
    if not isinstance(files, dict):
        raise Refused(400, "json: cannot unmarshal into Go struct field files")
    lines: list[dict[str, Any]] = []
    base: ModelSpec | None = None
    size = 0
    if source:
        base = _find(models, source)
        if base is None:
            return [{"error": f"model '{source}' not found"}], None
        lines.append({"status": _layer(f"sha256:{base.digest}")})
        size = base.size
    if files:
        lines.append({"status": "parsing GGUF"})
        for file_name, digest in sorted(files.items()):
            match = DIGEST.fullmatch(str(digest))
            key = "sha256:" + match.group(1) if match else str(digest)
            if key not in blobs:
                return [*lines, {"error": f"blob {digest} for {file_name} not found"}], None
            lines.append({"status": _layer(key)})
            size += blobs[key]
    extras = {k: body[k] for k in ("system", "template", "parameters", "license") if body.get(k)}
    for kind in extras:
        digest = "sha256:" + fake_hex(f"{full}:{kind}:{extras[kind]}")
        lines.append({"status": f"creating new layer {digest}"})
    lines += [{"status": "writing manifest"}, {"status": "success"}]
    return lines, _model(full, base, size, extras, now)


def _find(models: dict[str, ModelSpec], name: str) -> ModelSpec | None:
    full = (parse_model_name(name) or name).lower()
    for key, spec in models.items():
        if (parse_model_name(key) or key).lower() == full:
            return spec
    return None


def _model(
    name: str, base: ModelSpec | None, size: int, extras: dict[str, Any], now: datetime
) -> ModelSpec:
    template = str(extras.get("template") or (base.template if base else ""))
    spec = (
        replace(base, name=name, digest="", modelfile="", modified_at=now)
        if base is not None
        else ModelSpec(name=name, size=size or 1, modified_at=now, parent_model="")
    )
    if template:
        spec.template = template
    parameters = extras.get("parameters")
    if isinstance(parameters, dict):
        spec.parameters = "\n".join(f"{k:<30} {v}" for k, v in parameters.items())
    spec.digest = fake_hex(f"model:{name}:{now.isoformat()}")
    system = extras.get("system")
    spec.modelfile = (
        f'# Modelfile generated by "ollama show"\nFROM {base.name if base else name}\n'
        f'TEMPLATE """{spec.template}"""\n'
        + (f'SYSTEM """{system}"""\n' if system else "")
        + f"{spec.parameters}\n"
    )
    return spec


class ImportRoutes:
    """The blob and create handlers (a mixin of ``OllamaTestServer``)."""

    models: dict[str, ModelSpec]
    blobs: dict[str, int]
    tz: tzinfo
    streams: list[StreamRecord]
    stream_listener: StreamListener | None
    _json: Callable[..., None]
    _decode: Callable[..., dict[str, Any]]

    async def _blob_head(self, request: Request, exchange: Exchange) -> None:
        try:
            digest = blob_digest(request.path)
        except Refused as err:
            raise HttpError(err.status, err.message) from None
        exchange.respond(200 if digest in self.blobs else 404)

    async def _blob_post(self, request: Request, exchange: Exchange) -> None:
        try:
            digest = blob_digest(request.path)
            if digest in self.blobs:
                exchange.respond(200)
                return
            check_upload(digest, request.body)
        except Refused as err:
            raise HttpError(err.status, err.message) from None
        self.blobs[digest] = len(request.body)
        exchange.respond(201)

    async def _create(self, request: Request, exchange: Exchange) -> None:
        body = self._decode(request, "CreateRequest", _CREATE_FIELDS)
        try:
            lines, model = plan_create(body, self.models, self.blobs, datetime.now(self.tz))
        except Refused as err:
            raise HttpError(err.status, err.message) from None
        if body.get("stream") is False:
            last = lines[-1]
            if model is not None:
                self.models[model.name] = model
            self._json(exchange, last, 500 if "error" in last else 200)
            return
        out = StreamOut(
            exchange, "/api/create", body.get("model"), self.streams, self.stream_listener
        )
        for line in lines[:-1]:
            out.send([go_json_bytes(line) + b"\n"])
            if not await exchange.sleep(0):
                return  # the client left: nothing is created
        if model is not None:  # before `success`: a client that reads it sees the model
            self.models[model.name] = model
        out.finish(go_json_bytes(lines[-1]) + b"\n")
