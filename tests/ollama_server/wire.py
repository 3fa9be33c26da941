"""Byte-level details of how a Go Ollama server writes values, reproduced in Python.

Why: the launcher must parse what a *Go* server sends, not what Python would naturally
send. Go's ``encoding/json`` escapes ``<``, ``>`` and ``&``; Go's ``time`` prints RFC 3339
with a variable number of fractional digits and ``Z`` for a zero offset; Go's JSON decoder
has its own error messages; Ollama model names have their own grammar. Keeping these in one
small module lets the server code read like the Ollama handlers it imitates.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, tzinfo
from typing import Any

_GO_HTML_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def go_json(value: Any) -> str:
    """Encode like Go's ``json.Marshal``: compact, UTF-8 as is, HTML characters escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _GO_HTML_ESCAPES:
        if raw in text:  # these can only occur inside strings, so replacing is safe
            text = text.replace(raw, escaped)
    return text


def go_json_bytes(value: Any) -> bytes:
    return go_json(value).encode()


def rfc3339_utc_ns(ns: int | None = None) -> str:
    """``time.Now().UTC()`` as Go's RFC3339Nano prints it: trailing zeros trimmed, ``Z``."""
    if ns is None:
        ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def rfc3339_local(moment: datetime, tz: tzinfo | None = None) -> str:
    """An aware time as Go prints a local ``time.Time``: ``-07:00`` style offset, ``Z`` if 0."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
    elif tz is not None:
        moment = moment.astimezone(tz)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{mins:02d}"


def slog_time(now: float | None = None) -> str:
    """The ``time=`` value of a Go ``log/slog`` text line (millisecond precision, UTC)."""
    if now is None:
        now = time.time()
    ms = int(now * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{ms:03d}Z"


# --- durations (keep_alive) -------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_keep_alive(value: Any, default: float = 300.0) -> float:
    """Seconds from an Ollama ``keep_alive``: a number of seconds or a Go duration string.

    Negative means "forever" (returned as ``float('inf')``); ``None`` gives the default.
    Raises ValueError for what Ollama would reject.
    """
    if value is None:
        return default
    if isinstance(value, bool):
        raise ValueError("invalid keep_alive")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        body = text.lstrip("+-")
        if body.replace(".", "", 1).isdigit():  # a bare number string counts as seconds
            seconds = sign * float(body)
        else:
            pos, total = 0, 0.0
            for match in _DURATION_PART.finditer(body):
                if match.start() != pos:
                    raise ValueError(f"time: invalid duration {value!r}")
                total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
                pos = match.end()
            if pos != len(body) or not body:
                raise ValueError(f"time: invalid duration {value!r}")
            seconds = sign * total
    else:
        raise ValueError("invalid keep_alive")
    return float("inf") if seconds < 0 else seconds


# --- Go's JSON decoder messages ---------------------------------------------------------


def _go_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + json.dumps(ch)[1:-1] + "'"


def go_decode_error(doc: str, err: json.JSONDecodeError) -> str:
    """Translate a Python decode error into the text ``json.Decoder.Decode`` would give."""
    pos = err.pos
    if pos >= len(doc.rstrip()) or err.msg.startswith("Unterminated"):
        return "unexpected EOF"
    ch = _go_char(doc[pos])
    context = {
        "Expecting value": "looking for beginning of value",
        "Expecting property name enclosed in double quotes": (
            "looking for beginning of object key string"
        ),
        "Expecting ':' delimiter": "after object key",
        "Expecting ',' delimiter": "after object key:value pair",
    }.get(err.msg, "looking for beginning of value")
    return f"invalid character {ch} {context}"


_GO_KINDS = {
    str: "string",
    bool: "bool",
    int: "number",
    float: "number",
    list: "array",
    dict: "object",
}


def go_type_error(struct: str, body: dict[str, Any], fields: dict[str, type]) -> str | None:
    """The ``cannot unmarshal`` message for the first top-level field of the wrong type."""
    go_names = {str: "string", bool: "bool", list: "[]api.Message", dict: "map[string]interface {}"}
    for field, expected in fields.items():
        value = body.get(field)
        if value is None:
            continue
        ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
        if not ok:
            kind = _GO_KINDS.get(type(value), "value")
            return (
                f"json: cannot unmarshal {kind} into Go struct field {struct}.{field} "
                f"of type {go_names.get(expected, expected.__name__)}"
            )
    return None


# --- model names ------------------------------------------------------------------------

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
_HOST_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,349}")
_NAMESPACE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
_MODEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")


def parse_model_name(name: str) -> str | None:
    """Ollama's ``model.ParseName`` + ``DisplayShortest``: ``"llama3.2"`` -> ``"llama3.2:latest"``.

    Returns None for a name Ollama calls invalid (empty, bad characters, too many parts).
    """
    text = name.strip()
    if "@" in text:
        text = text.split("@", 1)[0]
    if not text:
        return None
    slash = text.rfind("/")
    colon = text.rfind(":")
    tag = "latest"
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
    parts = text.split("/")
    if len(parts) > 3:
        return None
    host, namespace = DEFAULT_HOST, DEFAULT_NAMESPACE
    if len(parts) == 3:
        host, namespace, model = parts
    elif len(parts) == 2:
        namespace, model = parts
    else:
        model = parts[0]
    checks = ((_HOST_RE, host), (_NAMESPACE_RE, namespace), (_MODEL_RE, model), (_TAG_RE, tag))
    if not all(rx.fullmatch(part) for rx, part in checks):
        return None
    if host == DEFAULT_HOST and namespace == DEFAULT_NAMESPACE:
        return f"{model}:{tag}"
    if host == DEFAULT_HOST:
        return f"{namespace}/{model}:{tag}"
    return f"{host}/{namespace}/{model}:{tag}"
