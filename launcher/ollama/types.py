"""Small typed records for Ollama replies and stream chunks.

Parsing is done by hand, not by a validation library: a chat stream can carry
tens of thousands of chunks a second and each one must cost about as little as
`json.loads` itself. Every `from_json` tolerates missing optional fields (the
server omits empty ones) and raises KeyError/TypeError/ValueError on a wrong
shape, which the client maps to `OllamaProtocolError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSONDict = dict[str, Any]


def parse_time(value: object) -> datetime | None:
    """Parse an RFC 3339 timestamp with any number of fractional digits (Go emits 9)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(slots=True, frozen=True)
class ModelDetails:
    """The `details` object shared by tags, ps and show."""

    format: str = ""
    family: str = ""
    families: tuple[str, ...] = ()
    parameter_size: str = ""
    quantization_level: str = ""
    parent_model: str = ""

    @classmethod
    def from_json(cls, data: JSONDict | None) -> ModelDetails:
        data = data or {}
        return cls(
            format=str(data.get("format") or ""),
            family=str(data.get("family") or ""),
            families=tuple(data.get("families") or ()),
            parameter_size=str(data.get("parameter_size") or ""),
            quantization_level=str(data.get("quantization_level") or ""),
            parent_model=str(data.get("parent_model") or ""),
        )


@dataclass(slots=True, frozen=True)
class ModelInfo:
    """One installed model, as listed by `GET /api/tags`."""

    name: str
    model: str
    size: int
    digest: str
    modified_at: datetime | None
    details: ModelDetails

    @classmethod
    def from_json(cls, data: JSONDict) -> ModelInfo:
        return cls(
            name=str(data["name"]),
            model=str(data.get("model") or data["name"]),
            size=int(data.get("size") or 0),
            digest=str(data.get("digest") or ""),
            modified_at=parse_time(data.get("modified_at")),
            details=ModelDetails.from_json(data.get("details")),
        )


@dataclass(slots=True, frozen=True)
class RunningModel:
    """One loaded model, as listed by `GET /api/ps`."""

    name: str
    model: str
    size: int
    digest: str
    details: ModelDetails
    expires_at: datetime | None
    size_vram: int
    context_length: int | None

    @classmethod
    def from_json(cls, data: JSONDict) -> RunningModel:
        ctx = data.get("context_length")
        return cls(
            name=str(data["name"]),
            model=str(data.get("model") or data["name"]),
            size=int(data.get("size") or 0),
            digest=str(data.get("digest") or ""),
            details=ModelDetails.from_json(data.get("details")),
            expires_at=parse_time(data.get("expires_at")),
            size_vram=int(data.get("size_vram") or 0),
            context_length=int(ctx) if ctx is not None else None,
        )


@dataclass(slots=True, frozen=True)
class ModelShow:
    """What `POST /api/show` tells about one model."""

    details: ModelDetails
    capabilities: tuple[str, ...]
    model_info: JSONDict
    parameters: str = ""
    template: str = ""
    license: str = ""
    modelfile: str = ""
    modified_at: datetime | None = None

    @classmethod
    def from_json(cls, data: JSONDict) -> ModelShow:
        if not isinstance(data, dict) or ("details" not in data and "modelfile" not in data):
            raise ValueError("not a /api/show reply")
        return cls(
            details=ModelDetails.from_json(data.get("details")),
            capabilities=tuple(data.get("capabilities") or ()),
            model_info=dict(data.get("model_info") or {}),
            parameters=str(data.get("parameters") or ""),
            template=str(data.get("template") or ""),
            license=str(data.get("license") or ""),
            modelfile=str(data.get("modelfile") or ""),
            modified_at=parse_time(data.get("modified_at")),
        )

    @property
    def context_length(self) -> int | None:
        """The model's trained context length (`<arch>.context_length` in model_info)."""
        for key, value in self.model_info.items():
            if key.endswith(".context_length") and isinstance(value, int):
                return value
        return None


@dataclass(slots=True, frozen=True)
class ChatMetrics:
    """Timing figures of the last chunk of a reply. Durations are nanoseconds."""

    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0

    @classmethod
    def from_json(cls, data: JSONDict) -> ChatMetrics:
        get = data.get
        return cls(
            total_duration=int(get("total_duration") or 0),
            load_duration=int(get("load_duration") or 0),
            prompt_eval_count=int(get("prompt_eval_count") or 0),
            prompt_eval_duration=int(get("prompt_eval_duration") or 0),
            eval_count=int(get("eval_count") or 0),
            eval_duration=int(get("eval_duration") or 0),
        )

    @property
    def tokens_per_second(self) -> float | None:
        """eval_count / eval_duration, as Ollama itself reports speed."""
        if self.eval_duration <= 0:
            return None
        return self.eval_count / self.eval_duration * 1e9


@dataclass(slots=True, frozen=True)
class ToolCall:
    """A tool the model asks the caller to run (`message.tool_calls[]`).

    Attributes:
        name: the function's name, as declared in the request's `tools`.
        arguments: its arguments, a JSON object (Ollama sends an object, not a string).
        index: the call's position when the model asks for several at once.
    """

    name: str
    arguments: JSONDict
    index: int = 0

    @classmethod
    def from_json(cls, data: JSONDict) -> ToolCall:
        function = data["function"]
        arguments = function.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise ValueError("tool call `arguments` is not a JSON object")
        index = function.get("index", data.get("index", 0))
        return cls(str(function["name"]), dict(arguments), int(index or 0))

    def to_json(self) -> JSONDict:
        """As the next request's assistant message carries it back."""
        return {"function": {"index": self.index, "name": self.name, "arguments": self.arguments}}


def parse_tool_calls(value: object) -> tuple[ToolCall, ...] | None:
    if not value:
        return None
    if not isinstance(value, list):
        raise ValueError("`tool_calls` is not a list")
    return tuple(ToolCall.from_json(item) for item in value)


@dataclass(slots=True, frozen=True)
class TokenLogprob:
    """One candidate token and its log-probability (natural log)."""

    token: str
    logprob: float
    bytes: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, data: JSONDict) -> TokenLogprob:
        return cls(
            str(data["token"]),
            float(data["logprob"]),
            tuple(int(b) for b in data.get("bytes") or ()),
        )


@dataclass(slots=True, frozen=True)
class Logprob:
    """A generated token's log-probability, with the most likely alternatives.

    Attributes:
        token, logprob, bytes: the token the model produced.
        top_logprobs: up to `top_logprobs` candidates, most likely first.
    """

    token: str
    logprob: float
    bytes: tuple[int, ...] = ()
    top_logprobs: tuple[TokenLogprob, ...] = ()

    @classmethod
    def from_json(cls, data: JSONDict) -> Logprob:
        return cls(
            str(data["token"]),
            float(data["logprob"]),
            tuple(int(b) for b in data.get("bytes") or ()),
            tuple(TokenLogprob.from_json(t) for t in data.get("top_logprobs") or ()),
        )


def parse_logprobs(value: object) -> tuple[Logprob, ...] | None:
    if not value:
        return None
    if not isinstance(value, list):
        raise ValueError("`logprobs` is not a list")
    return tuple(Logprob.from_json(item) for item in value)


@dataclass(slots=True)
class ChatChunk:
    """One line of a streamed `/api/chat` (or `/api/generate`) reply.

    Attributes:
        content: the answer text this chunk adds (may be empty).
        thinking: the reasoning text this chunk adds (may be empty).
        done: True on the last chunk only.
        done_reason: `stop`, `length`, `load` or `unload` on the last chunk.
        metrics: timing figures, on the last chunk only.
        tool_calls: tools the model asks the caller to run, or None.
        model: the model name, as the server echoes it.
        logprobs: the tokens of this chunk with their log-probabilities, when
            the request asked for `logprobs`; else None.
    """

    content: str
    thinking: str = ""
    done: bool = False
    done_reason: str | None = None
    metrics: ChatMetrics | None = None
    tool_calls: tuple[ToolCall, ...] | None = None
    model: str = ""
    logprobs: tuple[Logprob, ...] | None = None


def parse_chat_chunk(data: JSONDict) -> ChatChunk:
    """Build a ChatChunk from one decoded chat line (the hot path: keep it lean)."""
    message = data.get("message")
    if message is None:
        # /api/generate lines carry `response` (and `thinking`) at the top level.
        if "response" not in data:
            raise ValueError("line has neither `message` nor `response`")
        message = data
        content = data["response"]
    else:
        content = message.get("content", "")
    calls = message.get("tool_calls")
    probs = data.get("logprobs")
    done = data.get("done")
    return ChatChunk(
        content,
        message.get("thinking") or "",
        bool(done),
        data.get("done_reason") if done else None,
        ChatMetrics.from_json(data) if done else None,
        parse_tool_calls(calls) if calls else None,
        data.get("model", ""),
        parse_logprobs(probs) if probs else None,
    )


@dataclass(slots=True, frozen=True)
class ChatResponse:
    """A whole (non-streamed) chat reply."""

    model: str
    content: str
    thinking: str = ""
    role: str = "assistant"
    done_reason: str | None = None
    metrics: ChatMetrics = field(default_factory=ChatMetrics)
    tool_calls: tuple[ToolCall, ...] | None = None
    logprobs: tuple[Logprob, ...] | None = None

    @classmethod
    def from_json(cls, data: JSONDict) -> ChatResponse:
        message = data["message"]
        return cls(
            model=str(data.get("model") or ""),
            content=str(message.get("content") or ""),
            thinking=str(message.get("thinking") or ""),
            role=str(message.get("role") or "assistant"),
            done_reason=data.get("done_reason"),
            metrics=ChatMetrics.from_json(data),
            tool_calls=parse_tool_calls(message.get("tool_calls")),
            logprobs=parse_logprobs(data.get("logprobs")),
        )


@dataclass(slots=True, frozen=True)
class PullProgress:
    """One line of a `/api/pull` stream.

    `completed` is None while the server omits it (it does so while it is 0).
    `/api/create` streams the same records (`status` only, mostly).
    """

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


def parse_pull_progress(data: JSONDict) -> PullProgress:
    """Build a PullProgress from one decoded pull line."""
    status = data["status"]
    if not isinstance(status, str):
        raise ValueError("`status` is not a string")
    total = data.get("total")
    completed = data.get("completed")
    return PullProgress(
        status,
        data.get("digest"),
        int(total) if total is not None else None,
        int(completed) if completed is not None else None,
    )
