"""How full a conversation's context is, and whether its start was cut off (pure, no Qt).

Ollama cuts a prompt that does not fit silently: the reply says nothing, only
`prompt_eval_count` is smaller than the prompt, and the server's log may say
`truncating input prompt`. A person then wonders why the model "forgot" the
start of the conversation. These rules turn what we know (the last request's
counts, the context in use, the model's maximum, the server's log line) into a
meter ("1,234 / 4,096") and, when the start was cut, a notice naming the
messages the model did not see, with a context size that would fit them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

#: Ollama's context length when neither the request nor OLLAMA_CONTEXT_LENGTH sets one.
DEFAULT_CONTEXT: Final = 4096
#: A rough, deliberately generous characters-per-token figure for estimates
#: (English prose is about 4; code and other languages fewer).
CHARS_PER_TOKEN: Final = 3.5
#: What a chat template adds around each message (role markers, separators).
MESSAGE_OVERHEAD_TOKENS: Final = 4
#: "Clearly exceeds": an estimate this much over the context is a cut, counts or not.
CLEAR_EXCESS: Final = 1.5

ContextSource = Literal["conversation", "server", "default"]

_TRUNCATING = re.compile(r"truncating input prompt")
_FIELD = re.compile(r"\b(limit|prompt|keep|new)=(\d+)")
_SERVER_CONTEXT = re.compile(r"\bOLLAMA_CONTEXT_LENGTH:(\d+)")


def estimate_tokens(text: str) -> int:
    """A rough token count for `text` (no tokenizer here: only for warnings and notices)."""
    if not text:
        return 0
    return max(1, round(len(text) / CHARS_PER_TOKEN))


def model_context_length(model_info: Mapping[str, object]) -> int | None:
    """The model's maximum from `/api/show`'s model_info: `<architecture>.context_length`."""
    arch = model_info.get("general.architecture")
    if isinstance(arch, str) and arch:
        value = model_info.get(f"{arch}.context_length")
        if isinstance(value, int) and value > 0:
            return value
    for key, value in model_info.items():  # no architecture named: any *.context_length
        if key.endswith(".context_length") and isinstance(value, int) and value > 0:
            return value
    return None


def server_context_length(line: str) -> int | None:
    """OLLAMA_CONTEXT_LENGTH from the server's `server config` log line, else None."""
    if "server config" not in line:
        return None
    match = _SERVER_CONTEXT.search(line)
    if match is None:
        return None
    value = int(match.group(1))
    return value if value > 0 else None


@dataclass(frozen=True)
class LoggedTruncation:
    """The server's `truncating input prompt` line: what it kept of how much.

    Attributes:
        limit: the context it had; prompt: the prompt's tokens; new: what it kept.
    """

    limit: int
    prompt: int
    keep: int = 0
    new: int = 0


def parse_truncation(line: str) -> LoggedTruncation | None:
    """The numbers of a `msg="truncating input prompt" limit=4096 prompt=5120 …` line."""
    if _TRUNCATING.search(line) is None:
        return None
    fields = {m.group(1): int(m.group(2)) for m in _FIELD.finditer(line)}
    if "limit" not in fields or "prompt" not in fields:
        return None
    return LoggedTruncation(
        fields["limit"], fields["prompt"], fields.get("keep", 0), fields.get("new", 0)
    )


@dataclass(frozen=True)
class ContextUse:
    """One conversation's context, for the meter.

    Attributes:
        used: tokens of the last request (`prompt_eval_count + eval_count`), None before
            the first reply.
        limit: the context in use (see `context_in_use`).
        source: where `limit` comes from: the conversation's `num_ctx`, the server's
            OLLAMA_CONTEXT_LENGTH, or Ollama's default.
        model_max: the model's own maximum, when known.
    """

    used: int | None
    limit: int
    source: ContextSource
    model_max: int | None = None

    @property
    def fraction(self) -> float:
        if not self.used or self.limit <= 0:
            return 0.0
        return min(1.0, self.used / self.limit)

    def label(self) -> str:
        """`1,234 / 4,096` (`– / 4,096` before the first reply)."""
        used = f"{self.used:,}" if self.used is not None else "–"
        return f"{used} / {self.limit:,}"

    def tooltip(self) -> str:
        where = {
            "conversation": "this conversation's context length (num_ctx)",
            "server": "the server's OLLAMA_CONTEXT_LENGTH",
            "default": "Ollama's default",
        }[self.source]
        lines = [f"Tokens used by the last request (prompt and reply) / context in use ({where})."]
        if self.model_max is not None:
            lines.append(f"The model supports up to {self.model_max:,} tokens.")
        return "\n".join(lines)


def context_in_use(
    num_ctx: int | None, server_context: int | None, model_max: int | None
) -> tuple[int, ContextSource]:
    """The context a request gets: the conversation's num_ctx, else the server's
    OLLAMA_CONTEXT_LENGTH, else 4096; capped by the model's maximum (as Ollama does)."""
    if num_ctx:
        limit, source = num_ctx, "conversation"
    elif server_context:
        limit, source = server_context, "server"
    else:
        limit, source = DEFAULT_CONTEXT, "default"
    if model_max and limit > model_max:
        limit = model_max
    return limit, source  # type: ignore[return-value]


def measure(
    stats: Mapping[str, float] | None,
    num_ctx: int | None,
    server_context: int | None,
    model_max: int | None,
) -> ContextUse:
    """The meter after a reply whose stats hold `prompt_eval_count` and `eval_count`."""
    limit, source = context_in_use(num_ctx, server_context, model_max)
    used: int | None = None
    if stats and "prompt_eval_count" in stats:
        used = int(stats.get("prompt_eval_count", 0)) + int(stats.get("eval_count", 0))
    return ContextUse(used, limit, source, model_max)


@dataclass(frozen=True)
class Truncation:
    """The start of a conversation was cut from a request.

    Attributes:
        limit: the context the request had.
        first, last: the user-visible messages (1-based, system prompt not counted)
            the model did not see.
        suggested_ctx: a context length that would fit the whole prompt (capped by
            the model's maximum), or None when even the maximum is too small.
    """

    limit: int
    first: int
    last: int
    suggested_ctx: int | None

    def notice(self) -> str:
        """The sentence shown at the message whose request was cut."""
        seen = (
            f"message {self.first}"
            if self.first == self.last
            else f"messages {self.first}-{self.last}"
        )
        return (
            f"The start of this conversation no longer fits in the context ({self.limit:,} "
            f"tokens): the model did not see {seen}"
        )


def suggest_context(needed: int, model_max: int | None) -> int | None:
    """The smallest power of two >= `needed` plus a quarter for the reply, capped by the
    model's maximum; None when the model cannot hold that much."""
    want = int(needed * 1.25)
    size = 2048
    while size < want:
        size *= 2
    if model_max is not None and size > model_max:
        return model_max if model_max >= needed else None
    return size


def detect_truncation(
    message_texts: Sequence[str],
    limit: int,
    *,
    prompt_eval_count: int | None = None,
    logged: LoggedTruncation | None = None,
    system_prompt: str = "",
    model_max: int | None = None,
) -> Truncation | None:
    """Whether the request that sent `message_texts` (the conversation's messages, oldest
    first, without the system prompt) was cut, and which messages the model missed.

    It was cut when the server logged `truncating input prompt` for it, or when the
    estimated prompt clearly exceeds the context (by half again: estimates are rough),
    or when it exceeds it and the server's own count stopped at the limit. The newest
    messages are the ones kept (Ollama drops from the start); estimates are scaled to the
    server's count of the whole prompt when the log gives one.
    """
    sizes = [estimate_tokens(text) + MESSAGE_OVERHEAD_TOKENS for text in message_texts]
    system = estimate_tokens(system_prompt) + MESSAGE_OVERHEAD_TOKENS if system_prompt else 0
    estimate = sum(sizes) + system
    if not sizes:
        return None
    if logged is not None:
        limit = logged.limit
        total = logged.prompt
    elif estimate > limit * CLEAR_EXCESS or (
        estimate > limit and prompt_eval_count is not None and prompt_eval_count >= limit * 0.9
    ):
        total = estimate
    else:
        return None
    scale = total / estimate if estimate else 1.0
    room = limit - system * scale
    kept = 0.0
    first_seen = len(sizes)  # index of the oldest message that still fits
    for index in range(len(sizes) - 1, -1, -1):
        kept += sizes[index] * scale
        if kept > room:
            break
        first_seen = index
    if first_seen == 0:
        return None
    # Even the newest message did not fit whole: its own start was cut.
    last = max(1, min(first_seen, len(sizes) - 1))
    return Truncation(limit, 1, last, suggest_context(int(total), model_max))
