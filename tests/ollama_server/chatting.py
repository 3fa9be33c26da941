"""``/api/chat`` and ``/api/generate`` of the test server: the checks Ollama makes before it
answers (model, capabilities, options, busy, files missing), loading and unloading, then
the reply itself (``inference``).

Why apart from ``server``: these are the rules most tests lean on (thinking only for a
model that can, tools only when declared and supported, ``keep_alive: 0`` unloads, empty
``messages`` loads); kept together they read like Ollama's ``ChatHandler``.
``ChatRoutes`` is mixed into ``OllamaTestServer``, whose state it uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .answering import HttpError, lookup
from .http11 import Exchange, Request
from .inference import Turn, stream_reply, whole_reply
from .specs import LoadedModel, ModelSpec, ReplySpec, StreamRecord, split_tokens
from .streaming import StreamListener
from .wire import parse_keep_alive, parse_model_name, rfc3339_utc_ns

BUSY = "server busy, please try again.  maximum pending requests exceeded"
_CHAT_FIELDS: dict[str, type] = {"model": str, "messages": list, "stream": bool}
_GENERATE_FIELDS: dict[str, type] = {"model": str, "prompt": str, "stream": bool}


class ChatRoutes:
    """The chat and generate handlers (a mixin of ``OllamaTestServer``)."""

    loaded: dict[str, LoadedModel]
    replies: dict[str, ReplySpec]
    reply: ReplySpec
    busy: bool
    default_keep_alive: float
    streams: list[StreamRecord]
    stream_listener: StreamListener | None
    model_listener: Callable[[str, str], None] | None
    _json: Callable[..., None]
    _decode: Callable[..., dict[str, Any]]
    _find: Callable[[str], ModelSpec | None]
    _expiry: Callable[[float], Any]

    async def _chat(self, request: Request, exchange: Exchange) -> None:
        body = self._decode(request, "ChatRequest", _CHAT_FIELDS)
        await self._infer(exchange, body, "chat", body.get("messages") or [])

    async def _generate(self, request: Request, exchange: Exchange) -> None:
        body = self._decode(request, "GenerateRequest", _GENERATE_FIELDS)
        prompt = body.get("prompt") or ""
        await self._infer(
            exchange, body, "generate", [{"role": "user", "content": prompt}] if prompt else []
        )

    async def _infer(
        self, exchange: Exchange, body: dict[str, Any], kind: str, messages: list[Any]
    ) -> None:
        name: str = body.get("model") or ""
        if not name:
            raise HttpError(400, "model is required")
        spec = self._find(name) if parse_model_name(name) else None
        if spec is None:
            raise HttpError(404, f"model '{name}' not found")
        think = body.get("think")
        wants_think = think not in (None, False, "false", "")
        if wants_think and "thinking" not in spec.capabilities:
            raise HttpError(400, f"{json.dumps(name)} does not support thinking")
        if "completion" not in spec.capabilities:
            raise HttpError(
                400,
                f"{json.dumps(name)} does not support {'chat' if kind == 'chat' else 'generate'}",
            )
        tools = bool(body.get("tools")) and kind == "chat"
        if tools and "tools" not in spec.capabilities:
            raise HttpError(400, f"{json.dumps(name)} does not support tools")
        top_logprobs = body.get("top_logprobs") or 0
        if not isinstance(top_logprobs, int) or not 0 <= top_logprobs <= 20:
            raise HttpError(400, "top_logprobs must be between 0 and 20")
        try:
            keep_alive = parse_keep_alive(body.get("keep_alive"), self.default_keep_alive)
        except ValueError as err:
            raise HttpError(400, str(err)) from None
        if not messages and keep_alive == 0:
            self._unload(spec.name)
            self._json(exchange, self._empty_done(kind, name, "unload"))
            return
        if self.busy:
            raise HttpError(503, BUSY)
        if spec.files_missing:
            raise HttpError(404, f"model {json.dumps(name)} not found, try pulling it first")
        raw_options = body.get("options")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        context = options.get("num_ctx") if isinstance(options.get("num_ctx"), int) else None
        fresh = spec.name not in self.loaded
        self.loaded[spec.name] = LoadedModel(
            spec.name, self._expiry(keep_alive), context_length=context
        )
        if fresh and self.model_listener is not None:
            self.model_listener("load", spec.name)
        if not messages:
            self._json(exchange, self._empty_done(kind, name, "load"))
            return
        reply = lookup(self.replies, spec.name) or self.reply
        predict = options.get("num_predict")
        words = sum(
            len(split_tokens(str(m.get("content", "")))) + 4
            for m in messages
            if isinstance(m, dict)
        )
        turn = Turn(
            kind="chat" if kind == "chat" else "generate",
            path=f"/api/{kind}",
            model=name,
            reply=reply,
            think="thinking" in spec.capabilities and think not in (False, "false"),
            stream=body.get("stream") is not False,
            num_predict=predict if isinstance(predict, int) and predict >= 0 else None,
            prompt_eval_count=reply.prompt_eval_count or max(words, 1),
            tools=tools,
            logprobs=body.get("logprobs") is True,
            top_logprobs=top_logprobs,
        )

        def settle() -> None:  # before the final line, so a client reading it sees the state
            if keep_alive == 0:
                self._unload(spec.name)
            elif spec.name in self.loaded:
                self.loaded[spec.name].expires_at = self._expiry(keep_alive)

        turn.before_final = settle
        if turn.stream:
            await stream_reply(exchange, turn, self.streams, self.stream_listener)
        else:
            await whole_reply(exchange, turn)

    def _unload(self, name: str) -> None:
        if self.loaded.pop(name, None) is not None and self.model_listener is not None:
            self.model_listener("unload", name)

    @staticmethod
    def _empty_done(kind: str, model: str, reason: str) -> dict[str, Any]:
        if kind == "chat":
            return {
                "model": model,
                "created_at": rfc3339_utc_ns(),
                "message": {"role": "assistant", "content": ""},
                "done_reason": reason,
                "done": True,
            }
        return {
            "model": model,
            "created_at": rfc3339_utc_ns(),
            "response": "",
            "done_reason": reason,
            "done": True,
        }
