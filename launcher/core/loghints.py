"""Recognise common problems in Ollama's log and say, in one line, how to fix them (pure).

The server log is full of technical lines; a few of them are the answer to "why
is it slow / why did it fail". `hint_for(line)` turns those into a short hint
the Server log shows next to the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_RULES: tuple[Rule, ...] = (
    (
        re.compile(r"bind: address already in use|address already in use", re.I),
        lambda m: (
            "Another program holds this port — see the Diagnostics tab for who it is, "
            "then stop it or choose another port in Settings."
        ),
    ),
    (
        re.compile(r"no compatible GPUs were discovered", re.I),
        lambda m: (
            "Ollama runs on the CPU only (slow) — install or update the GPU driver "
            "(NVIDIA CUDA / AMD ROCm), then restart the server."
        ),
    ),
    (
        re.compile(r'msg="inference compute".*\blibrary=cpu\b', re.I),
        lambda m: (
            "No GPU is used: models run on the CPU. Check the GPU driver, or the GPU "
            "selection in Settings → Server."
        ),
    ),
    (
        re.compile(
            r"out of memory|cudaMalloc failed|requires more system memory|"
            r"unable to allocate .*buffer|insufficient memory|failed to allocate",
            re.I,
        ),
        lambda m: (
            "Not enough memory to load the model — try a smaller model or quantization, "
            "a smaller context length, OLLAMA_KV_CACHE_TYPE=q8_0, or fewer loaded models."
        ),
    ),
    (
        re.compile(r"timed out waiting for llama runner|loading model timed out", re.I),
        lambda m: (
            "The model took too long to load (slow disk or too little memory) — try again, "
            "or raise OLLAMA_LOAD_TIMEOUT in Settings → Server (extra variables)."
        ),
    ),
    (
        re.compile(r"(unknown|unsupported) model architecture[:\s]*'?(?P<arch>[\w.-]*)", re.I),
        lambda m: (
            "This Ollama is too old for the model"
            + (f" ({m['arch']})" if m["arch"] else "")
            + " — update Ollama from https://ollama.com/download."
        ),
    ),
    (
        re.compile(
            r"truncating input prompt.*?limit=(?P<limit>\d+)(?:.*?prompt=(?P<prompt>\d+))?", re.I
        ),
        lambda m: (
            f"The prompt was cut to the context length ({m['limit']} tokens"
            + (f", the prompt had {m['prompt']}" if m["prompt"] else "")
            + ") — raise the context length (chat options, or OLLAMA_CONTEXT_LENGTH in "
            "Settings → Server)."
        ),
    ),
)


# Every rule needs one of these words: an ordinary line (most of them) costs a few
# substring checks instead of every regular expression.
_KEYWORDS = (
    "in use",
    "gpu",
    "library=cpu",
    "memory",
    "cudamalloc",
    "allocate",
    "timed out",
    "architecture",
    "truncating",
)


def hint_for(line: str) -> str | None:
    """A one-line hint with the fix for a log line that shows a known problem, else None."""
    if len(line) > 4000:
        line = line[:4000]
    low = line.lower()
    if not any(word in low for word in _KEYWORDS):
        return None
    for pattern, make in _RULES:
        match = pattern.search(line)
        if match:
            return make(match)
    return None
