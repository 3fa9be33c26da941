"""The server variables a user may tune: what each does, how to check it, and how to
compare what we asked for with what Ollama reports it runs with (pure, no Qt).

One table of variables feeds the Server settings page (labels, defaults, checks)
and the Diagnostics panel (which settings differ from our request), so the two
never disagree about a name, a default or a value's meaning.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from launcher.config import LocalServerSettings
from launcher.ollama import resolve_host


@dataclass(frozen=True)
class Variable:
    """One variable Ollama reads.

    Attributes:
        name: the environment variable.
        what: one sentence for the user: what it changes.
        default: Ollama's default, as the user would type it.
        kind: how values are read and compared: int, bool, duration, host, list, text.
    """

    name: str
    what: str
    default: str
    kind: str = "text"


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "OLLAMA_CONTEXT_LENGTH",
        "Tokens of conversation a model sees at once (longer needs more memory).",
        "4096",
        "int",
    ),
    Variable(
        "OLLAMA_FLASH_ATTENTION",
        "Faster attention that uses less memory, on GPUs that support it.",
        "false",
        "bool",
    ),
    Variable(
        "OLLAMA_KV_CACHE_TYPE",
        "Precision of the context cache: q8_0 halves its memory, q4_0 quarters it "
        "(needs flash attention).",
        "f16",
    ),
    Variable(
        "OLLAMA_NUM_PARALLEL",
        "Requests one model answers at the same time (each needs its own context).",
        "auto (1)",
        "int",
    ),
    Variable(
        "OLLAMA_MAX_LOADED_MODELS",
        "Models kept in memory at the same time.",
        "auto (3 per GPU)",
        "int",
    ),
    Variable(
        "OLLAMA_KEEP_ALIVE",
        "How long an idle model stays loaded (5m, 1h, 0 = unload at once, -1 = forever).",
        "5m",
        "duration",
    ),
    Variable(
        "OLLAMA_ORIGINS",
        "Extra web origins allowed to call the server (comma-separated).",
        "localhost only",
        "list",
    ),
    Variable(
        "CUDA_VISIBLE_DEVICES",
        "NVIDIA GPUs Ollama may use (ids or UUIDs, comma-separated; -1 = none).",
        "all",
    ),
    Variable(
        "ROCR_VISIBLE_DEVICES",
        "AMD GPUs Ollama may use (ids or UUIDs, comma-separated; -1 = none).",
        "all",
    ),
)
BY_NAME = {v.name: v for v in VARIABLES}
KV_CACHE_TYPES = ("f16", "q8_0", "q4_0")

# Every OLLAMA_* variable the server reads (envconfig), so a typo is flagged.
KNOWN_OLLAMA = frozenset(
    {
        "OLLAMA_AUTH",
        "OLLAMA_CONTEXT_LENGTH",
        "OLLAMA_DEBUG",
        "OLLAMA_FLASH_ATTENTION",
        "OLLAMA_GPU_OVERHEAD",
        "OLLAMA_HOST",
        "OLLAMA_INTEL_GPU",
        "OLLAMA_KEEP_ALIVE",
        "OLLAMA_KV_CACHE_TYPE",
        "OLLAMA_LLM_LIBRARY",
        "OLLAMA_LOAD_TIMEOUT",
        "OLLAMA_MAX_LOADED_MODELS",
        "OLLAMA_MAX_QUEUE",
        "OLLAMA_MODELS",
        "OLLAMA_MULTIUSER_CACHE",
        "OLLAMA_NEW_ENGINE",
        "OLLAMA_NEW_ESTIMATES",
        "OLLAMA_NOHISTORY",
        "OLLAMA_NOPRUNE",
        "OLLAMA_NUM_PARALLEL",
        "OLLAMA_ORIGINS",
        "OLLAMA_REMOTES",
        "OLLAMA_RUNNERS_DIR",
        "OLLAMA_SCHED_SPREAD",
        "OLLAMA_TMPDIR",
        "OLLAMA_VULKAN",
    }
)

_NUM = r"\d+(?:\.\d+)?"
_DURATION = re.compile(rf"^(?:(?P<h>{_NUM})h)?(?:(?P<m>{_NUM})m)?(?:(?P<s>{_NUM})s)?$")
_TRUE = {"1", "t", "true", "yes", "on"}
_FALSE = {"0", "f", "false", "no", "off", ""}
_GPU_ID = re.compile(r"^(-1|\d+|GPU-[0-9A-Fa-f-]+)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def duration_seconds(text: str) -> float | None:
    """Seconds of a keep-alive (`5m`, `1h30m`, `300`, `-1`); None when not one."""
    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    if text.startswith("-"):
        rest = duration_seconds(text[1:])
        return None if rest is None else -rest
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    hours, minutes, seconds = (float(match[g] or 0) for g in ("h", "m", "s"))
    return hours * 3600 + minutes * 60 + seconds


def parse_bool(text: str) -> bool | None:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


def check_value(name: str, value: str, *, flash_attention: bool = False) -> str:
    """`value` for `name`, tidied; ValueError saying what is wrong and what to type.

    An empty value is always fine: it means Ollama's default.
    """
    value = value.strip()
    if not value:
        return ""
    var = BY_NAME.get(name)
    label = name
    if name == "OLLAMA_KV_CACHE_TYPE":
        if value not in KV_CACHE_TYPES:
            raise ValueError(f"{label}: choose one of {', '.join(KV_CACHE_TYPES)}.")
        if not flash_attention and value != "f16":
            raise ValueError(
                f"{label}: {value} works only with flash attention on — turn on "
                "OLLAMA_FLASH_ATTENTION, or leave the cache type at its default."
            )
        return value
    kind = var.kind if var else "text"
    if kind == "int":
        if not re.fullmatch(r"\d+", value):
            raise ValueError(f"{label}: {value!r} is not a whole number (for example 4096).")
        if name == "OLLAMA_CONTEXT_LENGTH" and int(value) < 256:
            raise ValueError(f"{label}: {value} tokens is too small; use at least 256.")
        return str(int(value))
    if kind == "bool":
        parsed = parse_bool(value)
        if parsed is None:
            raise ValueError(f"{label}: {value!r} is neither on (1) nor off (0).")
        return "1" if parsed else "0"
    if kind == "duration":
        if duration_seconds(value) is None:
            raise ValueError(
                f"{label}: {value!r} is not a duration; write it like 5m, 1h, 30s, 0 or -1."
            )
        return value
    if kind == "list":
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            if " " in item or not (item == "*" or "://" in item or item.endswith("*")):
                raise ValueError(
                    f"{label}: {item!r} is not an origin; write them like "
                    "https://example.com, separated by commas."
                )
        return ",".join(items)
    if name in ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            if not _GPU_ID.match(item):
                raise ValueError(
                    f"{label}: {item!r} is not a GPU id; use numbers (0,1), UUIDs "
                    "(GPU-…) or -1 for none."
                )
        return ",".join(items)
    return value


def check_proxy(value: str) -> str:
    """An HTTPS_PROXY for the server's downloads; ValueError when it is not a proxy URL."""
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value if "://" in value else f"http://{value}")
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise ValueError(
            f"HTTPS proxy: {value!r} is not a proxy address; write it like "
            "http://proxy.example.com:3128."
        )
    return value


def check_listen(value: str) -> str:
    """The listen address (`OLLAMA_HOST` of the child); ValueError when Ollama could not use it."""
    value = value.strip()
    if not value:
        return ""
    if any(ch.isspace() for ch in value):
        raise ValueError(f"Listen address: {value!r} contains a space.")
    try:
        url = resolve_host(value)
    except ValueError as exc:
        raise ValueError(f"Listen address: {exc}") from None
    port = urlsplit(url).port
    if port is None or not 0 < port < 65536:
        raise ValueError(
            f"Listen address: {value!r} has no valid port; write it like 127.0.0.1:11434."
        )
    return value


def check_models_dir(value: str) -> str:
    """`OLLAMA_MODELS`: a full path (Ollama resolves a relative one against its own folder)."""
    value = value.strip()
    if not value:
        return ""
    expanded = os.path.expanduser(value)
    if not os.path.isabs(expanded):
        raise ValueError(
            f"Models folder: {value!r} is not a full path; write it like /home/me/models "
            "(or C:\\models on Windows)."
        )
    return value


def check_extra_name(name: str) -> str:
    """An extra variable's name; ValueError when it cannot be a variable name."""
    name = name.strip()
    if not _ENV_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid environment variable name.")
    return name


def is_unknown_ollama(name: str) -> bool:
    """An `OLLAMA_*` name the server does not read (probably a typo)."""
    return name.startswith("OLLAMA_") and name not in KNOWN_OLLAMA


def requested_environment(local: LocalServerSettings, child_host: str = "") -> dict[str, str]:
    """What we ask the child for: the tuning plus the dedicated fields (non-empty only).

    `child_host` is the address the child really gets (a loopback `OLLAMA_HOST` in
    our own environment wins over the settings); default: the settings' address.
    """
    env = {k: v for k, v in local.extra_env.items() if v}
    env.update({k: v for k, v in local.tuning.items() if v})
    if local.models_dir:
        env["OLLAMA_MODELS"] = local.models_dir
    env["OLLAMA_HOST"] = child_host or local.child_host()
    if local.https_proxy:
        env["HTTPS_PROXY"] = local.https_proxy
    if local.noprune:
        env["OLLAMA_NOPRUNE"] = "1"
    return env


def _same(name: str, requested: str, effective: str) -> bool:
    var = BY_NAME.get(name)
    kind = var.kind if var else ""
    if name in ("OLLAMA_NOPRUNE", "OLLAMA_DEBUG", "OLLAMA_SCHED_SPREAD"):
        kind = "bool"
    if name == "OLLAMA_MODELS":
        return requested.rstrip("/") == effective.rstrip("/")
    if kind == "bool":
        return parse_bool(requested) == parse_bool(effective)
    if kind == "int":
        return requested.strip() == effective.strip()
    if kind == "duration":
        return duration_seconds(requested) == duration_seconds(effective)
    if name == "OLLAMA_HOST":
        try:
            return resolve_host(requested) == resolve_host(effective)
        except ValueError:
            return False
    if kind == "list":
        listed = set(effective.strip("[]").split())
        return all(item in listed for item in requested.split(",") if item)
    return requested.strip() == effective.strip()


def differences(requested: dict[str, str], effective: dict[str, str]) -> dict[str, str]:
    """Names whose effective value is not what we asked for -> what we asked for.

    Only names the server reports are compared (it prints the variables it reads).
    """
    return {
        name: value
        for name, value in requested.items()
        if name in effective and not _same(name, value, effective[name])
    }


def restart_blockers(reply_running: bool, pull_running: bool) -> str:
    """What a restart would interrupt, in words for a question; "" when nothing."""
    parts = []
    if reply_running:
        parts.append("a reply is being written")
    if pull_running:
        parts.append("a model is downloading")
    if not parts:
        return ""
    return (
        " and ".join(parts).capitalize()
        + ". Restarting the server stops it (a download resumes afterwards). Restart anyway?"
    )
