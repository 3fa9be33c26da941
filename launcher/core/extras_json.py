"""A reply's tool steps and token probabilities as JSON: stored, exported, read back.

One definition for the store's columns and the JSON export, so a reopened or
imported reply shows the same collapsible steps and word popups as the live
one. Token probabilities can be bulky (five alternatives per token), so they
are kept compactly, ``[token, logprob, [[alternative, logprob], ...]]`` with
log-probabilities rounded to 4 places, and bounded: at most `MAX_STORED_TOKENS`
per reply (the words after that show no popup once reopened). Readers are
strict (ValueError naming the field) for imports; the store tolerates its own
damaged rows by dropping the extras, never the message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Final

from launcher.core.tokenprobs import TOP_ALTERNATIVES
from launcher.core.toolloop import ToolStep
from launcher.core.tools import ToolResult
from launcher.ollama import Logprob
from launcher.ollama.types import TokenLogprob

#: The most token records kept per reply (about 90 bytes each with 5 alternatives).
MAX_STORED_TOKENS: Final = 8192
#: A tool result longer than this is kept cut (the tools cut theirs well below it).
MAX_STORED_RESULT_CHARS: Final = 20_000
#: The most tool steps kept per reply (the loop stops at 10 calls; refusals add a few).
MAX_STORED_STEPS: Final = 50
CUT_MARK: Final = "\n… (cut when saved)"
_PLACES: Final = 4


# -- tool steps ----------------------------------------------------------------------------------


def steps_to_json(
    steps: Sequence[ToolStep], *, redact: Callable[[str], str] | None = None
) -> list[dict[str, Any]]:
    """The steps as plain JSON values; `redact` masks credential-looking text in details."""
    out: list[dict[str, Any]] = []
    for step in steps[:MAX_STORED_STEPS]:
        entry: dict[str, Any] = {"name": step.name, "arguments": dict(step.arguments)}
        result = step.result
        if result is not None:
            content = result.content
            if len(content) > MAX_STORED_RESULT_CHARS:
                content = content[:MAX_STORED_RESULT_CHARS] + CUT_MARK
            entry["result"] = {
                "content": content,
                "ok": result.ok,
                "ran": result.ran,
                "details": redact(result.details) if redact else result.details,
            }
        out.append(entry)
    return out


def parse_steps(raw: object, where: str) -> list[ToolStep]:
    """`steps_to_json` output back into ToolSteps; ValueError naming the bad field."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{where}.tool_steps: expected a list")
    steps: list[ToolStep] = []
    for i, item in enumerate(raw[:MAX_STORED_STEPS]):
        here = f"{where}.tool_steps[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{here}: expected an object")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{here}.name: expected the tool's name")
        arguments = item.get("arguments", {})
        if not isinstance(arguments, dict) or not all(isinstance(k, str) for k in arguments):
            raise ValueError(f"{here}.arguments: expected an object")
        steps.append(ToolStep(name, dict(arguments), _parse_result(item.get("result"), name, here)))
    return steps


def _parse_result(raw: object, name: str, where: str) -> ToolResult | None:
    if raw is None:
        return None  # the reply was stopped while this tool ran
    if not isinstance(raw, dict):
        raise ValueError(f"{where}.result: expected an object or null")
    content, details = raw.get("content", ""), raw.get("details", "")
    ok, ran = raw.get("ok", True), raw.get("ran", True)
    if not isinstance(content, str) or not isinstance(details, str):
        raise ValueError(f"{where}.result: content and details should be strings")
    if not isinstance(ok, bool) or not isinstance(ran, bool):
        raise ValueError(f"{where}.result: ok and ran should be true or false")
    if len(content) > MAX_STORED_RESULT_CHARS:
        content = content[:MAX_STORED_RESULT_CHARS] + CUT_MARK
    return ToolResult(name, {}, content, ok=ok, details=details, ran=ran)


# -- token probabilities ---------------------------------------------------------------------------


def _round(logprob: float) -> float:
    return round(logprob, _PLACES) if math.isfinite(logprob) else -99.0


def tokens_to_json(tokens: Sequence[Logprob]) -> list[list[Any]]:
    """Compact records, at most `MAX_STORED_TOKENS` (bytes are not kept: the text is)."""
    return [
        [
            t.token,
            _round(t.logprob),
            [[a.token, _round(a.logprob)] for a in t.top_logprobs[:TOP_ALTERNATIVES]],
        ]
        for t in tokens[:MAX_STORED_TOKENS]
    ]


def parse_tokens(raw: object, where: str, *, trusted: bool = False) -> list[Logprob]:
    """`tokens_to_json` output back into Logprobs; ValueError naming the bad field.

    `trusted`: the store's own column, read without checking each value first (about
    three times faster: a reopened conversation can hold tens of thousands of tokens);
    anything malformed still ends in the checked path's ValueError."""
    if raw is None:
        return []
    if trusted and isinstance(raw, list):
        try:
            return _load_trusted(raw[:MAX_STORED_TOKENS])
        except (TypeError, ValueError):
            pass  # not what we wrote: the checked path says what is wrong
    if not isinstance(raw, list):
        raise ValueError(f"{where}.tokens: expected a list")
    out: list[Logprob] = []
    for i, item in enumerate(raw[:MAX_STORED_TOKENS]):
        here = f"{where}.tokens[{i}]"
        if not isinstance(item, list) or len(item) != 3 or not isinstance(item[2], list):
            raise ValueError(f"{here}: expected [token, logprob, alternatives]")
        token, logprob = _pair(item[:2], here)
        alternatives = tuple(
            TokenLogprob(*_pair(alt, f"{here}[2][{j}]"))
            for j, alt in enumerate(item[2][:TOP_ALTERNATIVES])
        )
        out.append(Logprob(token, logprob, top_logprobs=alternatives))
    return out


def _load_trusted(raw: list[Any]) -> list[Logprob]:
    out: list[Logprob] = []
    for token, logprob, alts in raw:
        alternatives = tuple(TokenLogprob(a, float(p)) for a, p in alts)
        if type(token) is not str or not all(type(a.token) is str for a in alternatives):
            raise TypeError("a token is not text")
        out.append(Logprob(token, float(logprob), (), alternatives))
    return out


def _pair(raw: object, where: str) -> tuple[str, float]:
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not isinstance(raw[0], str)
        or isinstance(raw[1], bool)
        or not isinstance(raw[1], int | float)
        or not math.isfinite(raw[1])
    ):
        raise ValueError(f"{where}: expected [token, logprob]")
    return raw[0], min(0.0, float(raw[1]))
