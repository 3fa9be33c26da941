"""The context meter and truncation rules: what the user is told about a full context."""

from __future__ import annotations

from launcher.core.context import (
    DEFAULT_CONTEXT,
    LoggedTruncation,
    context_in_use,
    detect_truncation,
    measure,
    model_context_length,
    parse_truncation,
    server_context_length,
    suggest_context,
)

SERVER_CONFIG = (
    'time=2026-01-01T10:00:00.000Z level=INFO source=routes.go:1331 msg="server config" '
    'env="map[CUDA_VISIBLE_DEVICES: HTTPS_PROXY: OLLAMA_CONTEXT_LENGTH:8192 '
    "OLLAMA_DEBUG:INFO OLLAMA_HOST:http://127.0.0.1:11434 OLLAMA_ORIGINS:[http://localhost "
    'https://localhost] OLLAMA_NOPRUNE:false]"'
)
TRUNCATING = (
    "time=2026-01-01T10:00:01.000Z level=WARN source=runner.go:130 "
    'msg="truncating input prompt" limit=4096 prompt=5120 keep=4 new=4096'
)


def test_context_in_use_prefers_the_conversation_then_the_server_then_4096() -> None:
    assert context_in_use(16384, 8192, 131072) == (16384, "conversation")
    assert context_in_use(None, 8192, 131072) == (8192, "server")
    assert context_in_use(None, None, None) == (DEFAULT_CONTEXT, "default")
    # Ollama caps the context at what the model supports.
    assert context_in_use(262144, None, 131072) == (131072, "conversation")


def test_the_meter_after_a_reply_reads_used_over_limit_with_the_model_maximum() -> None:
    use = measure({"prompt_eval_count": 1000.0, "eval_count": 234.0}, None, None, 131072)
    assert use.label() == "1,234 / 4,096"
    assert "131,072" in use.tooltip()
    assert "default" in use.tooltip()
    assert 0.30 < use.fraction < 0.31
    before = measure({}, 2048, None, None)
    assert before.label() == "– / 2,048"
    assert before.used is None and before.fraction == 0.0


def test_model_maximum_comes_from_the_architecture_key() -> None:
    info = {
        "general.architecture": "qwen3",
        "llama.context_length": 8192,  # a stray key of another architecture
        "qwen3.context_length": 40960,
    }
    assert model_context_length(info) == 40960
    assert model_context_length({"gemma3.context_length": 131072}) == 131072
    assert model_context_length({}) is None
    assert model_context_length({"general.architecture": "llama"}) is None


def test_the_servers_context_length_is_read_from_its_config_line() -> None:
    assert server_context_length(SERVER_CONFIG) == 8192
    assert server_context_length(TRUNCATING) is None
    assert server_context_length('msg="server config" env="map[OLLAMA_DEBUG:INFO]"') is None


def test_the_truncation_log_line_is_parsed() -> None:
    assert parse_truncation(TRUNCATING) == LoggedTruncation(4096, 5120, 4, 4096)
    assert parse_truncation(SERVER_CONFIG) is None
    assert parse_truncation('msg="truncating input prompt"') is None  # no numbers


def test_a_conversation_that_fits_is_not_reported() -> None:
    texts = ["hello " * 50, "hi " * 50, "more " * 50]
    assert detect_truncation(texts, 4096, prompt_eval_count=300) is None


def test_a_prompt_clearly_over_the_context_names_the_messages_the_model_missed() -> None:
    # Eight messages of about 1,000 tokens each in a 4,096 context: the newest four fit.
    texts = ["x" * 3500] * 8
    cut = detect_truncation(texts, 4096, model_max=131072)
    assert cut is not None
    assert (cut.first, cut.last) == (1, 4)
    assert cut.notice() == (
        "The start of this conversation no longer fits in the context (4,096 tokens): "
        "the model did not see messages 1-4"
    )
    assert cut.suggested_ctx == 16384


def test_the_servers_log_line_decides_and_calibrates() -> None:
    # Estimates say it fits (short texts), but the server said it cut 5,120 to 4,096.
    texts = ["y" * 700] * 10  # ~200 tokens each by estimate: 2,040 in all
    cut = detect_truncation(texts, 4096, logged=LoggedTruncation(4096, 5120, 4, 4096))
    assert cut is not None
    # Scaled to the server's count (~512 tokens a message), 8 messages fit in 4,096.
    assert (cut.first, cut.last) == (1, 2)
    assert cut.notice().endswith("the model did not see messages 1-2")


def test_a_slight_excess_counts_only_when_the_server_count_stopped_at_the_limit() -> None:
    texts = ["z" * 3500] * 5  # ~5,020 tokens: over 4,096 but not "clearly"
    assert detect_truncation(texts, 4096, prompt_eval_count=2100) is None
    cut = detect_truncation(texts, 4096, prompt_eval_count=4090)
    assert cut is not None and cut.first == 1 and cut.last == 1
    assert cut.notice().endswith("the model did not see message 1")


def test_the_suggested_context_never_exceeds_what_the_model_supports() -> None:
    assert suggest_context(5120, 131072) == 8192
    assert suggest_context(20000, 32768) == 32768
    assert suggest_context(40000, 32768) is None
    assert suggest_context(100, None) == 2048
