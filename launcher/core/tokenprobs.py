"""Token probabilities of a reply: what the model chose, how sure it was, what else it weighed.

With `logprobs` on, every chunk carries its tokens' log-probabilities and the
top alternatives. A reply's records are only appended while it streams (one
list extend per chunk: nothing is computed until someone looks); `words()`
groups tokens into the words a person hovers, each with the probability of
its least certain token and that token's alternatives, and `describe()` writes
the popup's text. When the switch is off nothing is requested and nothing here
runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from launcher.ollama import Logprob

#: How many alternatives the request asks for (Ollama accepts 0-20).
TOP_ALTERNATIVES: Final = 5
#: Below this probability a word counts as uncertain (the optional tint).
LOW_CONFIDENCE: Final = 0.7


def probability(logprob: float) -> float:
    """A natural-log probability as a probability from 0 to 1."""
    return math.exp(min(0.0, logprob))


@dataclass(frozen=True)
class Word:
    """A word of the reply (one or more tokens), as its popup describes it.

    Attributes:
        text: the word as written (leading space removed).
        start: its offset in the reply's text (leading space removed).
        probability: the probability of its least certain token.
        token: that token; alternatives: what the model weighed there, most likely
            first, as (token, probability).
    """

    text: str
    start: int
    probability: float
    token: str
    alternatives: tuple[tuple[str, float], ...]

    @property
    def uncertain(self) -> bool:
        return self.probability < LOW_CONFIDENCE


class TokenRecord:
    """The log-probabilities of one reply, appended while it streams.

    `tokens`: the list to append to (the reply's own `Message.tokens`, so what is
    saved with the reply is what was shown); a new one when not given.
    """

    def __init__(self, tokens: list[Logprob] | None = None) -> None:
        self.tokens: list[Logprob] = [] if tokens is None else tokens

    def feed(self, logprobs: Iterable[Logprob] | None) -> None:
        if logprobs:
            self.tokens.extend(logprobs)

    def __len__(self) -> int:
        return len(self.tokens)

    def words(self) -> list[Word]:
        """The reply's words: a new word starts at a token that begins with whitespace
        (as tokenizers mark word starts); whitespace-only tokens belong to no word."""
        words: list[Word] = []
        offset = 0
        current: list[tuple[int, Logprob]] = []

        def close() -> None:
            if not current:
                return
            start = current[0][0]
            text = "".join(t.token for _, t in current)
            stripped = text.lstrip()
            start += len(text) - len(stripped)
            weakest = min((t for _, t in current), key=lambda t: t.logprob)
            alternatives = tuple(
                (alt.token, probability(alt.logprob)) for alt in weakest.top_logprobs
            )
            words.append(
                Word(
                    stripped.rstrip(),
                    start,
                    probability(weakest.logprob),
                    weakest.token,
                    alternatives,
                )
            )
            current.clear()

        for token in self.tokens:
            text = token.token
            if not text.strip():
                close()
            else:
                if text[0].isspace():
                    close()
                current.append((offset, token))
            offset += len(text)
        close()
        return words


def describe(word: Word) -> str:
    """The popup for a word: its probability and the alternatives the model weighed."""
    lines = [f"“{word.text}”: {word.probability:.0%} sure"]
    if word.token.strip() != word.text:
        lines[0] += f" (at the token “{word.token.strip()}”)"
    if word.alternatives:
        lines.append("Alternatives:")
        for token, p in word.alternatives:
            shown = token.replace("\n", "\\n") or "∅"
            lines.append(f"  {shown.strip() or repr(shown)}  {p:.1%}")
    return "\n".join(lines)
