"""Model names, Modelfile parameters and model files as a person gives them, checked early.

Pure rules, no Qt and no I/O: the dialogs ask these and show the answer next to
the field, so a mistyped name never becomes a round trip and a vague 400. The
name rules are Ollama's (`types/model/name.go`): `[host/][namespace/]model[:tag]`.
"""

from __future__ import annotations

import re
from typing import Any

_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,349}")
_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")
_EXAMPLE = "for example my-model or my-model:v2"
GGUF_MAGIC = b"GGUF"  # the first bytes of every GGUF file

#: Modelfile PARAMETERs and the type of their values (Ollama's `api.Options`).
PARAMETER_TYPES: dict[str, type] = {
    "num_ctx": int,
    "num_predict": int,
    "num_keep": int,
    "num_batch": int,
    "num_gpu": int,
    "num_thread": int,
    "repeat_last_n": int,
    "seed": int,
    "top_k": int,
    "temperature": float,
    "top_p": float,
    "min_p": float,
    "typical_p": float,
    "repeat_penalty": float,
    "presence_penalty": float,
    "frequency_penalty": float,
    "stop": list,
}


class NotGGUFError(ValueError):
    """A file picked for import does not start with GGUF's magic bytes (`explain()` words it)."""

    def __init__(self, name: str, magic: bytes) -> None:
        super().__init__(f"{name} starts with {magic!r}, not {GGUF_MAGIC!r}")
        self.name = name
        self.magic = magic


def name_problem(text: str) -> str:
    """What is wrong with `text` as a model name, for a person; "" when it is fine."""
    name = text.strip()
    if not name:
        return f"Type a name for the new model, {_EXAMPLE}."
    if any(c.isspace() for c in name):
        return f"A model name cannot contain spaces — use - or _ instead ({_EXAMPLE})."
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            return (
                f"The tag after ':' ({tag or 'empty'}) may use only letters, digits, '_', "
                f"'.' and '-', up to 80 characters ({_EXAMPLE})."
            )
    parts = name.split("/")
    if len(parts) > 3:
        return f"A model name has at most two '/' (host/namespace/model) — {_EXAMPLE}."
    model = parts[-1]
    if not _MODEL.fullmatch(model):
        return (
            f"'{model or 'empty'}' can't be a model name: start with a letter or digit, then "
            f"use only letters, digits, '_', '.' and '-', up to 80 characters ({_EXAMPLE})."
        )
    if len(parts) >= 2 and not _NAMESPACE.fullmatch(parts[-2]):
        return f"The namespace '{parts[-2]}' may use only letters, digits, '_' and '-'."
    if len(parts) == 3 and not _HOST.fullmatch(parts[0]):
        return f"The host part '{parts[0]}' is not a valid host name."
    return ""


def full_name(text: str) -> str:
    """`my-model:latest` for `my-model`: how the installed list spells a name (lower case,
    for comparing: Ollama's names ignore case)."""
    name = text.strip()
    if name.rfind(":") <= name.rfind("/"):
        name += ":latest"
    return name.lower()


def parse_parameters(text: str) -> dict[str, Any]:
    """Modelfile-style `name value` lines (one per line; `stop` may repeat) as a dict.

    Blank lines and `#` comments are skipped; `PARAMETER` in front is allowed
    (pasted from a Modelfile). Raises ValueError whose text says which line is
    wrong and why, for a person.
    """
    result: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split(None, 1)
        if words[0].upper() == "PARAMETER" and len(words) == 2:
            words = words[1].split(None, 1)
        key = words[0].lower()
        kind = PARAMETER_TYPES.get(key)
        if kind is None:
            known = ", ".join(sorted(PARAMETER_TYPES))
            raise ValueError(
                f"Line {number}: '{words[0]}' is not a parameter Ollama knows ({known})."
            )
        if len(words) < 2:
            raise ValueError(
                f"Line {number}: give {key} a value, for example '{key} {_sample(kind)}'."
            )
        value = words[1].strip()
        if kind is list:
            result.setdefault(key, []).append(value.strip('"'))
            continue
        try:
            result[key] = int(value) if kind is int else float(value)
        except ValueError:
            raise ValueError(
                f"Line {number}: {key} needs a {'whole ' if kind is int else ''}number, "
                f"not '{value}'."
            ) from None
    return result


def _sample(kind: type) -> str:
    return {int: "4096", float: "0.7"}.get(kind, '"</s>"')


__all__ = [
    "GGUF_MAGIC",
    "PARAMETER_TYPES",
    "NotGGUFError",
    "full_name",
    "name_problem",
    "parse_parameters",
]
