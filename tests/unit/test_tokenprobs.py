"""Token probabilities: words a person hovers, how sure the model was, what else it weighed."""

from __future__ import annotations

import math
from typing import Any

from launcher.core.tokenprobs import TokenRecord, describe, probability
from launcher.ollama import Logprob, OllamaClient, TokenLogprob
from tests.ollama_server import OllamaTestServer, ReplySpec


def lp(token: str, p: float, *alts: tuple[str, float]) -> Logprob:
    return Logprob(
        token,
        math.log(p),
        tuple(token.encode()),
        tuple(TokenLogprob(t, math.log(q)) for t, q in alts),
    )


def test_tokens_group_into_words_with_their_weakest_token() -> None:
    record = TokenRecord()
    record.feed([lp("The", 0.99), lp(" cap", 0.9, (" cap", 0.9), (" city", 0.05))])
    record.feed([lp("ital", 0.3, ("ital", 0.3), ("acity", 0.6)), lp(" is", 0.97)])
    record.feed([lp("\n", 0.8), lp(" Paris", 0.95), lp(".", 0.99)])
    record.feed(None)
    words = record.words()
    assert [(w.text, w.start) for w in words] == [
        ("The", 0),
        ("capital", 4),
        ("is", 12),
        ("Paris.", 16),
    ]
    capital = words[1]
    assert capital.token == "ital" and capital.uncertain
    assert [t for t, _ in capital.alternatives] == ["ital", "acity"]
    assert not words[0].uncertain
    text = describe(capital)
    assert text.splitlines()[0] == "“capital”: 30% sure (at the token “ital”)"
    assert "  acity  60.0%" in text


def test_probability_of_a_log_probability() -> None:
    assert probability(0.0) == 1.0
    assert abs(probability(math.log(0.25)) - 0.25) < 1e-9
    assert probability(0.5) == 1.0  # never above 1


async def test_a_reply_with_logprobs_from_the_server_gives_words_for_its_text() -> None:
    server = OllamaTestServer()
    server.add_model("llama3.2")
    server.reply = ReplySpec(text="Paris is the capital of France.")
    server.start()
    record = TokenRecord()
    content: list[str] = []
    try:
        async with OllamaClient(server.url) as client:
            messages: list[dict[str, Any]] = [{"role": "user", "content": "Capital?"}]
            async with client.chat("llama3.2", messages, logprobs=True, top_logprobs=5) as chunks:
                async for chunk in chunks:
                    record.feed(chunk.logprobs)
                    content.append(chunk.content)
    finally:
        server.stop()
    reply = "".join(content)
    words = record.words()
    assert [w.text for w in words] == reply.split()
    for word in words:
        assert reply[word.start : word.start + len(word.text)] == word.text
        assert len(word.alternatives) == 5
    body = next(r.body for r in server.requests if r.path == "/api/chat")
    assert body["logprobs"] is True and body["top_logprobs"] == 5
