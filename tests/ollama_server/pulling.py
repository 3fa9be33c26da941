"""``/api/pull``: progress lines from a ``PullSpec``, with downloads that survive a cancel.

Why: the launcher's download view must cope with what a real pull sends — one layer after
another running 0→100, ``completed`` missing while 0, an already-present layer in a single
line, an error line after a 200 — and a cancelled pull must resume where it stopped,
because Ollama keeps partial blobs on disk. The byte counts live in the server
(``downloaded``, by digest), not in the request. ``StallingPull`` stops sending progress
mid-layer but keeps the connection open (a dead registry link), for stall detection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .http11 import Exchange
from .specs import ModelSpec, PullSpec, StreamRecord, fake_hex
from .streaming import StreamListener, StreamOut
from .wire import go_json_bytes

STALL_FOREVER = 3600.0


@dataclass
class StallingPull(PullSpec):
    """A pull whose first ``stalls`` requests stop sending at ``stall_at`` of the first
    layer and hold the connection open until the client leaves; later requests go on."""

    stall_at: float = 0.3
    stalls: int = 1
    stalled_requests: int = 0


MANIFEST_MISSING = "pull model manifest: file does not exist"
Emit = Callable[[dict[str, Any]], None]


def layer_line(digest: str, total: int, completed: int) -> dict[str, Any]:
    line: dict[str, Any] = {
        "status": f"pulling {digest.split(':')[-1][:12]}",
        "digest": digest,
        "total": total,
    }
    if completed:
        line["completed"] = completed
    return line


async def run_pull(
    exchange: Exchange, spec: PullSpec | None, downloaded: dict[str, int], emit: Emit
) -> str | None:
    """Emit progress; return an error message, ``"cancelled"``, or None on success."""
    emit({"status": "pulling manifest"})
    if spec is None:
        return MANIFEST_MISSING
    if not await exchange.sleep(spec.interval):
        return "cancelled"
    if spec.fail_with:
        return spec.fail_with
    for index, layer in enumerate(spec.layers):
        done = min(downloaded.get(layer.digest, 0), layer.size)
        emit(layer_line(layer.digest, layer.size, done))
        while done < layer.size:
            if not await exchange.sleep(spec.interval):
                return "cancelled"
            if _stalls_here(spec, index, done, layer.size):
                spec.stalled_requests += 1
                await exchange.sleep(STALL_FOREVER)  # silent, connection open
                return "cancelled"
            done = min(layer.size, done + spec.tick_bytes(layer))
            downloaded[layer.digest] = done
            emit(layer_line(layer.digest, layer.size, done))
    for status in ("verifying sha256 digest", "writing manifest", "removing unused layers"):
        if not await exchange.sleep(spec.interval / 2):
            return "cancelled"
        emit({"status": status})
    return None


def _stalls_here(spec: PullSpec, index: int, done: int, size: int) -> bool:
    if not isinstance(spec, StallingPull) or index != 0:
        return False
    return spec.stalled_requests < spec.stalls and done >= spec.stall_at * size


def installed_model(name: str, spec: PullSpec, now: datetime) -> ModelSpec:
    """What a finished pull installs; its digest is that of the manifest, so it follows the
    layers (re-pulling unchanged layers keeps the digest, new layers change it)."""
    if spec.model is not None:
        return spec.model
    digest = fake_hex("manifest:" + ",".join(layer.digest for layer in spec.layers))
    size = sum(layer.size for layer in spec.layers)
    return ModelSpec(name=name, size=size, modified_at=now, digest=digest)


async def pull_streamed(
    exchange: Exchange,
    model: str,
    spec: PullSpec | None,
    downloaded: dict[str, int],
    records: list[StreamRecord],
    listener: StreamListener | None,
    install: Callable[[], None],
) -> bool:
    """Stream the lines; True on success. ``install`` runs before the success line (the
    manifest is written before "success"), so a client that lists models next sees it."""
    out = StreamOut(exchange, "/api/pull", model, records, listener)
    error = await run_pull(
        exchange, spec, downloaded, lambda line: out.send([go_json_bytes(line) + b"\n"])
    )
    if error == "cancelled" or out.gone:
        return False
    if error is None:
        install()
    out.finish(go_json_bytes({"error": error} if error else {"status": "success"}) + b"\n")
    return error is None


async def pull_whole(
    exchange: Exchange,
    spec: PullSpec | None,
    downloaded: dict[str, int],
    install: Callable[[], None],
) -> bool:
    """``"stream": false``: one ``{"status":"success"}``, or 500 with the error."""
    error = await run_pull(exchange, spec, downloaded, lambda line: None)
    if error == "cancelled" or exchange.gone:
        return False
    if error:
        exchange.respond(500, go_json_bytes({"error": error}), "application/json; charset=utf-8")
        return False
    install()
    exchange.respond(200, go_json_bytes({"status": "success"}), "application/json; charset=utf-8")
    return True
