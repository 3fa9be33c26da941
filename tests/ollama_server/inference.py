"""The reply of ``/api/chat`` and ``/api/generate``, streamed or whole, from a ``ReplySpec``.

Why a module of its own: this is the hot path of the benchmark (100,000 chunks in one
burst), so lines are built from pre-encoded pieces and written in batches — one transport
write per batch, each line still its own HTTP chunk — with a yield to the event loop
between batches so a client's hang-up is seen at once and nothing more is produced.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .http11 import Exchange
from .specs import ReplySpec, StreamRecord
from .streaming import StreamListener, StreamOut
from .wire import go_json_bytes, rfc3339_utc_ns

BATCH = 512  # lines per transport write in a burst


@dataclass
class Turn:
    """One chat or generate request, validated, as the reply needs it."""

    kind: Literal["chat", "generate"]
    path: str
    model: str  # as the client spelled it; the chunks echo it
    reply: ReplySpec
    think: bool
    stream: bool
    num_predict: int | None
    prompt_eval_count: int
    before_final: Callable[[], None] | None = None  # state changes the final line reports
    tools: bool = False  # the request declared tools: the reply may call them
    logprobs: bool = False  # the request asked for token log-probabilities
    top_logprobs: int = 0  # alternatives per token (0-20)


def token_logprob(token: str, top: int) -> dict[str, Any]:
    """A stable, plausible log-probability record for a token (as Ollama's `Logprob`):
    the token itself, its UTF-8 bytes, and ``top`` alternatives, most likely first."""
    seed = hashlib.sha256(token.encode()).digest()
    own = -round(seed[0] / 512 + 0.001, 6)
    record: dict[str, Any] = {"token": token, "logprob": own, "bytes": list(token.encode())}
    if top:
        alternatives = [{"token": token, "logprob": own, "bytes": list(token.encode())}]
        for i in range(1, top):
            alt = f"{token.strip() or '_'}{i}"
            alternatives.append(
                {"token": alt, "logprob": round(own - 1.5 * i, 6), "bytes": list(alt.encode())}
            )
        record["top_logprobs"] = alternatives
    return record


class LineMaker:
    """Builds NDJSON lines from cached pieces: only the timestamp and the token vary."""

    def __init__(self, kind: Literal["chat", "generate"], model: str) -> None:
        self.kind = kind
        self.model = model
        self.head = b'{"model":' + go_json_bytes(model) + b',"created_at":"'
        if kind == "chat":
            self.content_mid = b'","message":{"role":"assistant","content":'
            self.think_mid = b'","message":{"role":"assistant","content":"","thinking":'
            self.tail = b'},"done":false}\n'
        else:
            self.content_mid = b'","response":'
            self.think_mid = b'","response":"","thinking":'
            self.tail = b',"done":false}\n'
        self.cache: dict[str, bytes] = {}

    def encoded(self, token: str) -> bytes:
        enc = self.cache.get(token)
        if enc is None:
            enc = self.cache[token] = go_json_bytes(token)
        return enc

    def batch(self, items: list[tuple[bool, str]]) -> list[bytes]:
        """Lines for (is_thinking, token) items, sharing one ``created_at``."""
        stamp = rfc3339_utc_ns().encode()
        content = self.head + stamp + self.content_mid
        think = self.head + stamp + self.think_mid
        tail, cache, enc = self.tail, self.cache, self.encoded
        return [
            (think if is_think else content) + (cache.get(tok) or enc(tok)) + tail
            for is_think, tok in items
        ]

    def batch_with_logprobs(self, items: list[tuple[bool, str]], top: int) -> list[bytes]:
        """As ``batch``, each line also carrying ``"logprobs":[…]`` for its token."""
        stamp = rfc3339_utc_ns().encode()
        content = self.head + stamp + self.content_mid
        think = self.head + stamp + self.think_mid
        tail = self.tail[:-2] + b',"logprobs":'
        return [
            (think if is_think else content)
            + self.encoded(tok)
            + tail
            + go_json_bytes([token_logprob(tok, top)])
            + b"}\n"
            for is_think, tok in items
        ]

    def tool_line(self, calls: list[dict[str, Any]]) -> bytes:
        return (
            go_json_bytes(
                {
                    "model": self.model,
                    "created_at": rfc3339_utc_ns(),
                    "message": {"role": "assistant", "content": "", "tool_calls": calls},
                    "done": False,
                }
            )
            + b"\n"
        )

    def final(
        self,
        reason: str,
        metrics: dict[str, int],
        content: str = "",
        thinking: str = "",
        tool_calls: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        obj: dict[str, Any] = {"model": self.model, "created_at": rfc3339_utc_ns()}
        if self.kind == "chat":
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if thinking:
                message["thinking"] = thinking
            if tool_calls:
                message["tool_calls"] = tool_calls
            obj["message"] = message
            obj.update(done=True, done_reason=reason)
        else:
            obj["response"] = content
            if thinking:
                obj["thinking"] = thinking
            obj.update(done=True, done_reason=reason, context=[128006, 882, 128007, 271])
        obj.update(metrics)
        return obj


def _plan(turn: Turn) -> tuple[list[tuple[bool, str]], str]:
    reply = turn.reply
    items = [(True, t) for t in reply.thinking_tokens()] if turn.think else []
    items += [(False, t) for t in reply.content_tokens()]
    reason = reply.done_reason
    if turn.num_predict is not None and 0 <= turn.num_predict < len(items):
        items = items[: turn.num_predict]
        reason = "length"
    return items, reason


def _metrics(turn: Turn, eval_count: int, started: float) -> dict[str, int]:
    reply = turn.reply
    load = reply.load_duration_ns + int(reply.first_chunk_delay * 1e9)
    prompt_eval = reply.prompt_eval_duration_ns
    evals = int(eval_count / reply.tokens_per_second * 1e9) if reply.tokens_per_second else 0
    elapsed = int((time.monotonic() - started) * 1e9)
    return {
        "total_duration": max(elapsed, load + prompt_eval + evals + 1_000_000),
        "load_duration": load,
        "prompt_eval_count": turn.prompt_eval_count,
        "prompt_eval_duration": prompt_eval,
        "eval_count": eval_count,
        "eval_duration": evals,
    }


def _events(reply: ReplySpec, n: int) -> list[int]:
    marks = {
        m
        for m in (reply.error_after, reply.malformed_after, reply.die_after)
        if m is not None and 0 <= m <= n
    }
    return sorted(marks)


async def stream_reply(
    exchange: Exchange, turn: Turn, records: list[StreamRecord], listener: StreamListener | None
) -> bool:
    """Stream the reply; True if it reached its natural end (done or error line)."""
    started = time.monotonic()
    reply = turn.reply
    out = StreamOut(exchange, turn.path, turn.model, records, listener)
    maker = LineMaker(turn.kind, turn.model)
    items, reason = _plan(turn)
    marks = _events(reply, len(items))
    if reply.first_chunk_delay > 0 and not await exchange.sleep(reply.first_chunk_delay):
        return False
    burst = reply.chunk_interval <= 0
    pos = 0
    while True:
        if pos == reply.malformed_after:
            out.send(
                [
                    reply.malformed_line
                    if reply.malformed_line.endswith(b"\n")
                    else reply.malformed_line + b"\n"
                ]
            )
        if pos == reply.die_after:
            out.die()
            return False
        if pos == reply.error_after:
            out.finish(go_json_bytes({"error": reply.error_message}) + b"\n")
            return True
        if pos >= len(items):
            break
        end = min(len(items), pos + (BATCH if burst else 1))
        for mark in marks:
            if pos < mark < end:
                end = mark
                break
        if turn.logprobs:
            out.send(maker.batch_with_logprobs(items[pos:end], turn.top_logprobs))
        else:
            out.send(maker.batch(items[pos:end]))
        pos = end
        if burst:
            if not await exchange.drain() or not await exchange.sleep(0):
                return False
        elif not await exchange.sleep(reply.chunk_interval):
            return False
    if reply.tool_calls and turn.kind == "chat" and turn.tools:
        out.send([maker.tool_line(reply.tool_calls)])
    final = maker.final(reason, _metrics(turn, len(items), started))
    if turn.before_final is not None:
        turn.before_final()
    out.finish(go_json_bytes(final) + b"\n")
    return True


async def whole_reply(exchange: Exchange, turn: Turn) -> bool:
    """``"stream": false``: wait as long as the stream would take, answer one JSON object."""
    started = time.monotonic()
    reply = turn.reply
    items, reason = _plan(turn)
    delay = reply.first_chunk_delay + max(reply.chunk_interval, 0.0) * len(items)
    if delay > 0 and not await exchange.sleep(delay):
        return False
    cut = min(
        (m for m in (reply.die_after, reply.error_after, reply.malformed_after) if m is not None),
        default=None,
    )
    if cut is not None and cut <= len(items):
        if cut == reply.die_after:
            exchange.abort()
        elif cut == reply.error_after:
            exchange.respond(
                500,
                go_json_bytes({"error": reply.error_message}),
                "application/json; charset=utf-8",
            )
        else:
            exchange.respond(200, reply.malformed_line, "application/json; charset=utf-8")
        return cut == reply.error_after
    maker = LineMaker(turn.kind, turn.model)
    content = "".join(t for is_think, t in items if not is_think)
    thinking = "".join(t for is_think, t in items if is_think)
    calls = reply.tool_calls if turn.kind == "chat" and turn.tools else None
    final = maker.final(reason, _metrics(turn, len(items), started), content, thinking, calls)
    if turn.logprobs:
        final["logprobs"] = [token_logprob(t, turn.top_logprobs) for _, t in items]
    if turn.before_final is not None:
        turn.before_final()
    exchange.respond(200, go_json_bytes(final), "application/json; charset=utf-8")
    return True
