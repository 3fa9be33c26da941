"""The pure parts of the server doctor: log-line parsers, tuning rules, the report, log hints."""

from __future__ import annotations

import pytest

from launcher.config import LocalServerSettings
from launcher.core.diagnostics import (
    FactsTracker,
    parse_env_map,
    parse_inference_compute,
    parse_server_config,
    parse_version,
)
from launcher.core.diagnostics_report import ReportInputs, build_report, redact
from launcher.core.diagnostics_tuning import (
    check_extra_name,
    check_listen,
    check_models_dir,
    check_proxy,
    check_value,
    differences,
    duration_seconds,
    is_unknown_ollama,
    requested_environment,
    restart_blockers,
)
from launcher.core.loghints import hint_for

# As Ollama 0.12 prints them (envconfig.Values() through slog, routes.go / types.go).
SERVER_CONFIG = (
    'time=2025-10-26T17:15:20.101Z level=INFO source=routes.go:1475 msg="server config" '
    'env="map[CUDA_VISIBLE_DEVICES: GPU_DEVICE_ORDINAL: HIP_VISIBLE_DEVICES: HTTPS_PROXY: '
    "HTTP_PROXY: NO_PROXY: OLLAMA_CONTEXT_LENGTH:8192 OLLAMA_DEBUG:INFO "
    "OLLAMA_FLASH_ATTENTION:false OLLAMA_GPU_OVERHEAD:0 OLLAMA_HOST:http://127.0.0.1:11434 "
    "OLLAMA_KEEP_ALIVE:5m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_LLM_LIBRARY: OLLAMA_LOAD_TIMEOUT:5m0s "
    "OLLAMA_MAX_LOADED_MODELS:0 OLLAMA_MAX_QUEUE:512 OLLAMA_MODELS:/home/u/.ollama/models "
    "OLLAMA_NOPRUNE:false OLLAMA_NUM_PARALLEL:0 OLLAMA_ORIGINS:[http://localhost "
    "https://localhost http://127.0.0.1:* app://* file://*] OLLAMA_REMOTES:[ollama.com] "
    'OLLAMA_SCHED_SPREAD:false ROCR_VISIBLE_DEVICES: http_proxy: https_proxy: no_proxy:]"'
)
GPU_LINE = (
    'time=2025-10-26T17:15:21.5Z level=INFO source=types.go:130 msg="inference compute" '
    "id=GPU-452cac9f-6960-839c-4fb3-0cec83699196 library=cuda variant=v12 compute=6.1 "
    'driver=12.7 name="NVIDIA GeForce GT 1030" total="3.9 GiB" available="3.9 GiB"'
)
CPU_LINE_NEW = (
    'time=2025-10-26T17:15:21.5Z level=INFO source=types.go:130 msg="inference compute" '
    'id=cpu library=cpu compute="" name=cpu description=cpu libdirs=ollama driver="" '
    'pci_id="" type="" total="31.3 GiB" available="30.4 GiB"'
)
NO_GPU = (
    "time=2025-01-17T10:00:00.000Z level=INFO source=gpu.go:377 "
    'msg="no compatible GPUs were discovered"'
)
CPU_LINE_OLD = (
    'time=2025-01-17T10:00:00.000Z level=INFO source=types.go:131 msg="inference compute" '
    'id=0 library=cpu variant="" compute="" driver=0.0 name="" total="31.3 GiB" '
    'available="30.4 GiB"'
)
LISTENING = (
    "time=2025-10-26T17:15:20.2Z level=INFO source=routes.go:1528 "
    'msg="Listening on 127.0.0.1:11434 (version 0.12.3)"'
)


def test_server_config_line_becomes_a_dict_with_lists_and_empty_values() -> None:
    env = parse_server_config(SERVER_CONFIG)
    assert env is not None
    assert env["OLLAMA_CONTEXT_LENGTH"] == "8192"
    assert env["OLLAMA_HOST"] == "http://127.0.0.1:11434"
    assert env["OLLAMA_KEEP_ALIVE"] == "5m0s"
    assert env["OLLAMA_KV_CACHE_TYPE"] == ""
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    assert env["OLLAMA_ORIGINS"] == (
        "[http://localhost https://localhost http://127.0.0.1:* app://* file://*]"
    )
    assert env["OLLAMA_REMOTES"] == "[ollama.com]"
    assert env["no_proxy"] == ""
    assert env["OLLAMA_MODELS"] == "/home/u/.ollama/models"


def test_other_lines_are_not_server_config() -> None:
    assert parse_server_config(GPU_LINE) is None
    assert parse_server_config('level=INFO msg="loading" note="server config"') is None
    assert parse_env_map("map[]") == {}
    assert parse_env_map("map[A:[x [y z]] B:2]") == {"A": "[x [y z]]", "B": "2"}


def test_inference_compute_gives_a_gpu_record() -> None:
    gpu = parse_inference_compute(GPU_LINE)
    assert gpu is not None
    assert (gpu.id, gpu.library, gpu.variant, gpu.compute, gpu.driver) == (
        "GPU-452cac9f-6960-839c-4fb3-0cec83699196",
        "cuda",
        "v12",
        "6.1",
        "12.7",
    )
    assert gpu.name == "NVIDIA GeForce GT 1030"
    assert (gpu.total, gpu.available) == ("3.9 GiB", "3.9 GiB")
    assert not gpu.is_cpu
    assert parse_inference_compute(LISTENING) is None


def test_newer_inference_compute_lines_and_lookalikes() -> None:
    newer = (
        'time=2025-10-02T09:00:00.000+02:00 level=INFO source=types.go:42 msg="inference compute" '
        'id=GPU-8e3b0c56-1f6b-7a3c-bb5e-2f5d3a9d0c11 filter_id="" library=CUDA compute=8.6 '
        'name=CUDA0 description="NVIDIA GeForce RTX 3060" libdirs=ollama,cuda_v12 driver=12.8 '
        'pci_id=0000:01:00.0 type=discrete total="12.0 GiB" available="10.9 GiB"'
    )
    gpu = parse_inference_compute(newer)
    assert gpu is not None and not gpu.is_cpu
    assert gpu.label == "NVIDIA GeForce RTX 3060 (CUDA0)"
    assert (gpu.total, gpu.available) == ("12.0 GiB", "10.9 GiB")
    overhead = (
        'time=2025-08-21T14:19:24.849+09:00 level=INFO source=gpu.go:319 msg="detected OS VRAM '
        'overhead" id=GPU-1 library=cuda compute=8.6 driver=12.6 name="NVIDIA GeForce RTX 3060 '
        'Ti" overhead="582.4 MiB"'
    )
    assert parse_inference_compute(overhead) is None


def test_version_from_the_listening_line() -> None:
    assert parse_version(LISTENING) == "0.12.3"
    assert parse_version('msg="Listening on [::]:11434 (version 0.0.0)"') == "0.0.0"
    assert parse_version(GPU_LINE) is None


def test_tracker_collects_one_run_and_resets_at_the_next() -> None:
    tracker = FactsTracker()
    tracker.feed_all([SERVER_CONFIG, LISTENING, GPU_LINE, "[GIN] 200 | GET /api/version"])
    facts = tracker.facts
    assert facts.config["OLLAMA_CONTEXT_LENGTH"] == "8192"
    assert facts.version == "0.12.3" and facts.address == "127.0.0.1:11434"
    assert [g.name for g in facts.gpus] == ["NVIDIA GeForce GT 1030"]
    assert not facts.cpu_only
    tracker.feed("[launcher] starting /usr/bin/ollama serve with OLLAMA_HOST=127.0.0.1:11434")
    assert tracker.facts.empty


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([NO_GPU, CPU_LINE_OLD], "no compatible GPUs were discovered"),
        ([CPU_LINE_NEW], "Ollama found no usable GPU and reported only the CPU"),
    ],
)
def test_cpu_only_with_the_reason_ollama_logged(lines: list[str], reason: str) -> None:
    tracker = FactsTracker()
    tracker.feed_all([SERVER_CONFIG, *lines])
    assert tracker.facts.cpu_only
    assert tracker.facts.cpu_only_reason() == reason
    assert tracker.facts.cpu is not None and tracker.facts.cpu.total == "31.3 GiB"


# ---- tuning rules ---------------------------------------------------------------------


def test_values_are_checked_with_a_message_that_says_what_to_type() -> None:
    assert check_value("OLLAMA_CONTEXT_LENGTH", " 8192 ") == "8192"
    assert check_value("OLLAMA_CONTEXT_LENGTH", "") == ""
    with pytest.raises(ValueError, match="whole number"):
        check_value("OLLAMA_CONTEXT_LENGTH", "8k")
    with pytest.raises(ValueError, match="at least 256"):
        check_value("OLLAMA_CONTEXT_LENGTH", "12")
    assert check_value("OLLAMA_FLASH_ATTENTION", "true") == "1"
    with pytest.raises(ValueError, match="flash attention"):
        check_value("OLLAMA_KV_CACHE_TYPE", "q8_0", flash_attention=False)
    assert check_value("OLLAMA_KV_CACHE_TYPE", "q8_0", flash_attention=True) == "q8_0"
    with pytest.raises(ValueError, match="f16, q8_0, q4_0"):
        check_value("OLLAMA_KV_CACHE_TYPE", "q5_1", flash_attention=True)
    assert check_value("OLLAMA_KEEP_ALIVE", "1h30m") == "1h30m"
    with pytest.raises(ValueError, match="like 5m"):
        check_value("OLLAMA_KEEP_ALIVE", "five minutes")
    assert (
        check_value("OLLAMA_ORIGINS", "https://a.example, app://*") == "https://a.example,app://*"
    )
    with pytest.raises(ValueError, match="not an origin"):
        check_value("OLLAMA_ORIGINS", "example com")
    assert check_value("CUDA_VISIBLE_DEVICES", "0, 1") == "0,1"
    with pytest.raises(ValueError, match="GPU id"):
        check_value("CUDA_VISIBLE_DEVICES", "first")
    assert check_proxy("http://proxy:3128") == "http://proxy:3128"
    with pytest.raises(ValueError, match="proxy address"):
        check_proxy("ftp://proxy")
    with pytest.raises(ValueError, match="not a valid"):
        check_extra_name("MY VAR")
    assert is_unknown_ollama("OLLAMA_CONTEXT_LENGHT")
    assert not is_unknown_ollama("OLLAMA_LOAD_TIMEOUT") and not is_unknown_ollama("MY_VAR")


def test_listen_address_and_models_folder() -> None:
    assert check_listen(" 127.0.0.1:11500 ") == "127.0.0.1:11500"
    assert check_listen("") == ""
    with pytest.raises(ValueError, match="space"):
        check_listen("127.0.0.1: 11434")
    with pytest.raises(ValueError, match="Listen address"):
        check_listen("127.0.0.1:99999")
    assert check_models_dir("/srv/models") == "/srv/models"
    assert check_models_dir("~/models") == "~/models"
    with pytest.raises(ValueError, match="full path"):
        check_models_dir("models")


def test_durations_read_like_go() -> None:
    assert duration_seconds("5m") == duration_seconds("5m0s") == duration_seconds("300") == 300
    assert duration_seconds("-1") == -1
    assert duration_seconds("soon") is None


def test_differences_compare_meaning_not_spelling() -> None:
    effective = parse_server_config(SERVER_CONFIG)
    assert effective is not None
    local = LocalServerSettings(
        listen="127.0.0.1:11434",
        models_dir="/home/u/.ollama/models/",
        noprune=False,
        tuning={
            "OLLAMA_CONTEXT_LENGTH": "8192",
            "OLLAMA_KEEP_ALIVE": "5m",
            "OLLAMA_FLASH_ATTENTION": "1",
            "OLLAMA_ORIGINS": "app://*",
        },
    )
    requested = requested_environment(local)
    assert requested["OLLAMA_HOST"] == "127.0.0.1:11434"
    assert differences(requested, effective) == {"OLLAMA_FLASH_ATTENTION": "1"}
    local.noprune = True
    assert "OLLAMA_NOPRUNE" in differences(requested_environment(local), effective)


def test_restart_asks_only_when_something_would_be_cut() -> None:
    assert restart_blockers(False, False) == ""
    assert "reply" in restart_blockers(True, False)
    text = restart_blockers(True, True)
    assert "reply" in text and "download" in text and text.endswith("?")


# ---- the report -------------------------------------------------------------------------


def _inputs(**overrides: object) -> ReportInputs:
    tracker = FactsTracker()
    tracker.feed_all([SERVER_CONFIG, LISTENING, GPU_LINE])
    values: dict[str, object] = {
        "launcher_version": "0.1.0",
        "qt_version": "6.9.0",
        "pyside_version": "6.9.0",
        "python_version": "3.11.9",
        "os_name": "Linux 6.1 (x86_64)",
        "host_url": "http://127.0.0.1:11434",
        "state": "Running - Ollama 0.12.3, 2 ms",
        "started_by_launcher": True,
        "facts": tracker.facts,
        "log_lines": tuple(f"line {i}" for i in range(300)),
    }
    values.update(overrides)
    return ReportInputs(**values)  # type: ignore[arg-type]


def test_report_has_versions_config_gpus_and_the_last_200_lines() -> None:
    text = build_report(_inputs(differing={"OLLAMA_CONTEXT_LENGTH": "4096"}))
    for part in (
        "Launcher: 0.1.0",
        "Qt: 6.9.0",
        "Python: 3.11.9",
        "OS: Linux",
        "Ollama version: 0.12.3",
        "Host: http://127.0.0.1:11434",
        "State: Running",
        "OLLAMA_CONTEXT_LENGTH=8192   <- asked for 4096",
        "NVIDIA GeForce GT 1030 — cuda v12, compute 6.1, driver 12.7",
        "3.9 GiB total, 3.9 GiB free",
    ):
        assert part in text
    assert "line 100\n" in text and "line 299\n" in text and "line 99\n" not in text


def test_report_never_contains_a_key() -> None:
    key = "sk-live-0123456789abcdef"
    lines = (
        f"[launcher] using key {key}",
        "Authorization: Bearer another-secret-token-xyz",
        'payload {"api_key": "zzz-secret-zzz"}',
    )
    text = build_report(
        _inputs(
            log_lines=lines,
            secrets=(key,),
            requested={"HTTPS_PROXY": "http://bob:hunter22@proxy:3128"},
        )
    )
    for secret in (key, "another-secret-token-xyz", "zzz-secret-zzz", "hunter22"):
        assert secret not in text
    assert "[redacted]" in text and "proxy:3128" in text
    assert redact("plain text", ["ab"]) == "plain text"  # too short to be a key: not replaced


# ---- log hints ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("Error: listen tcp 127.0.0.1:11434: bind: address already in use", "another port"),
        (NO_GPU, "CPU only"),
        (CPU_LINE_NEW, "No GPU"),
        (
            'level=ERROR source=sched.go:487 msg="error loading llama server" '
            'error="model requires more system memory (8.0 GiB) than is available (3.1 GiB)"',
            "smaller model",
        ),
        ("ggml_backend_cuda_buffer_type_alloc_buffer: cudaMalloc failed: out of memory", "memory"),
        (
            'level=ERROR source=sched.go:489 msg="error loading llama server" '
            'error="timed out waiting for llama runner to start - progress 0.00 - "',
            "OLLAMA_LOAD_TIMEOUT",
        ),
        (
            "llama_model_load: error loading model: error loading model architecture: "
            "unknown model architecture: 'gemma9'",
            "update Ollama",
        ),
        (
            'time=2025-10-26T17:15:24Z level=WARN source=runner.go:128 msg="truncating input '
            'prompt" limit=4096 prompt=5120 keep=4 new=4096',
            "4096 tokens, the prompt had 5120",
        ),
    ],
)
def test_log_hints_recognise_common_problems(line: str, words: str) -> None:
    hint = hint_for(line)
    assert hint is not None and words in hint
    assert "\n" not in hint


def test_ordinary_lines_have_no_hint() -> None:
    assert hint_for(LISTENING) is None
    assert hint_for(GPU_LINE) is None
    assert (
        hint_for('[GIN] 2025/10/26 - 17:15:24 | 200 | 1.2ms | 127.0.0.1 | GET "/api/version"')
        is None
    )
