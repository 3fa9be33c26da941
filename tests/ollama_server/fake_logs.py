"""What the fake ``ollama serve`` logs about itself: slog lines, ``server config``, GPUs.

Why apart from fake_cli.py: these lines are a contract (the launcher's diagnostics
parse them), so their exact formats live in one small module, written as Ollama
writes them (see ``/work/shared/ollama-protocol.md``, "The process tree").
Standard library only.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from typing import Any

from .wire import parse_keep_alive, slog_time

DEFAULT_CONTEXT_LENGTH = 4096
DEFAULT_ORIGINS = [
    "http://localhost",
    "https://localhost",
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1",
    "https://127.0.0.1",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
    "http://0.0.0.0",
    "https://0.0.0.0",
    "http://0.0.0.0:*",
    "https://0.0.0.0:*",
    "app://*",
    "file://*",
    "tauri://*",
    "vscode-webview://*",
    "vscode-file://*",
]


def quote(value: str) -> str:
    """slog's text quoting: bare when safe, else a Go-quoted string."""
    if value and all(c.isalnum() or c in "._-/:@" for c in value):
        return value
    return json.dumps(value)


def err(line: str) -> None:
    """One line on stderr, flushed (a broken output is not the fake's problem)."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def log(msg: str, source: str = "routes.go:1528", level: str = "INFO", **attrs: str) -> None:
    parts = [f"time={slog_time()}", f"level={level}", f"source={source}", f"msg={quote(msg)}"]
    parts += [f"{quote(k) if ' ' in k else k}={quote(v)}" for k, v in attrs.items()]
    err(" ".join(parts))


def go_bool(value: str | None) -> bool:
    """envconfig.Bool: empty is false; anything strconv.ParseBool rejects counts as true."""
    text = (value or "").strip().strip("\"'")
    if not text:
        return False
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    return text not in ("0", "f", "F", "FALSE", "false", "False")


def go_uint(value: str | None, default: int) -> int:
    text = (value or "").strip().strip("\"'")
    return int(text) if text.isdigit() else default


def go_duration_string(seconds: float) -> str:
    """Go's ``time.Duration.String()`` for whole seconds: ``5m0s``, ``1h0m0s``, ``0s``."""
    if math.isinf(seconds):
        return "2562047h47m16.854775807s"  # Go's max duration: how "forever" prints
    total = int(seconds)
    if total == 0:
        return "0s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def context_length(env: Mapping[str, str]) -> int:
    return go_uint(env.get("OLLAMA_CONTEXT_LENGTH"), DEFAULT_CONTEXT_LENGTH)


def server_config(env: Mapping[str, str], listen: str) -> str:
    """The ``env="map[...]"`` value of the first log line: Go prints a map sorted by key."""
    try:
        keep_alive = parse_keep_alive(env.get("OLLAMA_KEEP_ALIVE") or None)
    except ValueError:
        keep_alive = 300.0
    origins = [o for o in (env.get("OLLAMA_ORIGINS") or "").split(",") if o.strip()]
    home = env.get("HOME") or os.path.expanduser("~")
    values = {
        "CUDA_VISIBLE_DEVICES": env.get("CUDA_VISIBLE_DEVICES", ""),
        "GPU_DEVICE_ORDINAL": env.get("GPU_DEVICE_ORDINAL", ""),
        "HIP_VISIBLE_DEVICES": env.get("HIP_VISIBLE_DEVICES", ""),
        "HSA_OVERRIDE_GFX_VERSION": env.get("HSA_OVERRIDE_GFX_VERSION", ""),
        "HTTPS_PROXY": env.get("HTTPS_PROXY", ""),
        "HTTP_PROXY": env.get("HTTP_PROXY", ""),
        "NO_PROXY": env.get("NO_PROXY", ""),
        "OLLAMA_CONTEXT_LENGTH": str(context_length(env)),
        "OLLAMA_DEBUG": "DEBUG" if go_bool(env.get("OLLAMA_DEBUG")) else "INFO",
        "OLLAMA_FLASH_ATTENTION": str(go_bool(env.get("OLLAMA_FLASH_ATTENTION"))).lower(),
        "OLLAMA_GPU_OVERHEAD": str(go_uint(env.get("OLLAMA_GPU_OVERHEAD"), 0)),
        "OLLAMA_HOST": f"http://{listen}",
        "OLLAMA_KEEP_ALIVE": go_duration_string(keep_alive),
        "OLLAMA_KV_CACHE_TYPE": env.get("OLLAMA_KV_CACHE_TYPE", ""),
        "OLLAMA_LLM_LIBRARY": env.get("OLLAMA_LLM_LIBRARY", ""),
        "OLLAMA_LOAD_TIMEOUT": "5m0s",
        "OLLAMA_MAX_LOADED_MODELS": str(go_uint(env.get("OLLAMA_MAX_LOADED_MODELS"), 0)),
        "OLLAMA_MAX_QUEUE": str(go_uint(env.get("OLLAMA_MAX_QUEUE"), 512)),
        "OLLAMA_MODELS": env.get("OLLAMA_MODELS") or f"{home}/.ollama/models",
        "OLLAMA_MULTIUSER_CACHE": "false",
        "OLLAMA_NEW_ENGINE": "false",
        "OLLAMA_NOHISTORY": str(go_bool(env.get("OLLAMA_NOHISTORY"))).lower(),
        "OLLAMA_NOPRUNE": str(go_bool(env.get("OLLAMA_NOPRUNE"))).lower(),
        "OLLAMA_NUM_PARALLEL": str(go_uint(env.get("OLLAMA_NUM_PARALLEL"), 0)),
        "OLLAMA_ORIGINS": "[" + " ".join([*origins, *DEFAULT_ORIGINS]) + "]",
        "OLLAMA_SCHED_SPREAD": "false",
        "ROCR_VISIBLE_DEVICES": env.get("ROCR_VISIBLE_DEVICES", ""),
        "http_proxy": env.get("http_proxy", ""),
        "https_proxy": env.get("https_proxy", ""),
        "no_proxy": env.get("no_proxy", ""),
    }
    return "map[" + " ".join(f"{key}:{values[key]}" for key in sorted(values)) + "]"


def _size(value: Any) -> str:
    """A GPU memory size as Ollama prints it: ``3.9 GiB``; strings are kept as given."""
    if isinstance(value, int | float):
        return f"{value / 2**30:.1f} GiB"
    return str(value)


def visible_gpus(gpus: list[dict[str, Any]], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The GPUs left after CUDA_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES (by index or id)."""
    chosen: list[dict[str, Any]] = []
    for library, var in (("cuda", "CUDA_VISIBLE_DEVICES"), ("rocm", "ROCR_VISIBLE_DEVICES")):
        of_library = [g for g in gpus if g.get("library") == library]
        wanted = env.get(var)
        if wanted is None or wanted == "":
            chosen += of_library
            continue
        names = {w.strip() for w in wanted.split(",")}
        chosen += [g for i, g in enumerate(of_library) if str(i) in names or g.get("id") in names]
    chosen += [g for g in gpus if g.get("library") not in ("cuda", "rocm")]
    return chosen


def log_compute(gpus: list[dict[str, Any]], cpu: Mapping[str, Any]) -> None:
    """The lines after GPU discovery: one ``inference compute`` per GPU, or the CPU."""
    if not gpus:
        log("no compatible GPUs were discovered", source="gpu.go:217")
        log(
            "inference compute",
            source="types.go:130",
            id="cpu",
            library="cpu",
            compute="",
            name="cpu",
            description="cpu",
            libdirs="ollama",
            driver="",
            pci_id="",
            type="",
            total=_size(cpu.get("total", "31.3 GiB")),
            available=_size(cpu.get("available", "28.0 GiB")),
        )
        log("entering low vram mode", source="routes.go:1569", **{"total vram": "0 B"})
        return
    for gpu in gpus:
        log(
            "inference compute",
            source="types.go:130",
            id=str(gpu.get("id", "GPU-0")),
            library=str(gpu.get("library", "cuda")),
            variant=str(gpu.get("variant", "")),
            compute=str(gpu.get("compute", "")),
            driver=str(gpu.get("driver", "")),
            name=str(gpu.get("name", "")),
            total=_size(gpu.get("total", "0 B")),
            available=_size(gpu.get("available", "0 B")),
        )


def estimate_tokens(texts: list[str]) -> int:
    """About four characters per token, as a rough stand-in for the tokenizer."""
    return sum((len(text) + 3) // 4 for text in texts)


def log_truncation(limit: int, prompt: int, keep: int = 4) -> None:
    log(
        "truncating input prompt",
        source="runner.go:159",
        level="WARN",
        limit=str(limit),
        prompt=str(prompt),
        keep=str(keep),
        new=str(limit),
    )
