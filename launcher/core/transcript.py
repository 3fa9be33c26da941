"""Conversations as files: the Markdown and JSON exports, and a strict reader for JSON imports.

Pure functions over the records of `core/conversation.py` (no SQL, no I/O), so the
store, the continuous export and the tests share one definition of the format.
Everything an import carries is validated before anything is written: a bad file
raises `ValueError` naming the offending field and never half-imports.
"""

from __future__ import annotations

import html
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, cast

from launcher.core import extras_json
from launcher.core.conversation import (
    MESSAGE_STATES,
    ROLES,
    Conversation,
    ConversationSettings,
    Message,
    MessageState,
    ReplyVersion,
    title_from,
)
from launcher.core.toolloop import ToolStep
from launcher.ollama import Logprob

EXPORT_FORMAT: Final = "ollama-launcher.conversation"
#: Version 1 files may carry `versions`/`version_index` on messages (optional fields, so
#: older launchers still read them, showing only the current version of a reply).
EXPORT_VERSION: Final = 1

INTERRUPTED_NOTE: Final = "Interrupted: the launcher closed before this reply finished."

# Things that look like credentials.  Error notes can carry text copied from HTTP errors, and
# exports are meant to be shared, so these are masked on the way out.
_SECRET_PATTERNS: Final = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b(authorization|api[_-]?key|x-api-key|access[_-]?token|token|secret|password)"
        r"(\"?\s*[:=]\s*\"?)[^\s\",;]+"
    ),
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}\b"),
)


def redact_secrets(text: str) -> str:
    """Mask credential-looking substrings (bearer tokens, ``api_key=...``, ``sk-...``)."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    return _SECRET_PATTERNS[2].sub("[redacted]", text)


def clean_stats(stats: Mapping[str, float]) -> dict[str, float]:
    """Stats as JSON can hold them: non-finite floats dropped rather than written unreadable."""
    return {str(k): float(v) for k, v in stats.items() if math.isfinite(float(v))}


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")


# -- versions of a reply (also the store's JSON column) ------------------------------------------


def versions_to_json(versions: list[ReplyVersion], *, redact: bool = False) -> list[dict[str, Any]]:
    """The other versions of a reply as plain JSON values (with their tool steps and token
    probabilities when they have some)."""
    out: list[dict[str, Any]] = []
    for v in versions:
        entry: dict[str, Any] = {
            "content": v.content,
            "thinking": v.thinking,
            "state": v.state,
            "note": redact_secrets(v.note) if redact else v.note,
            "stats": clean_stats(v.stats),
            "created_at": v.created_at,
        }
        _put_extras(entry, v.tool_steps, v.tokens, redact=redact)
        out.append(entry)
    return out


def _put_extras(
    entry: dict[str, Any], steps: list[ToolStep], tokens: list[Logprob], *, redact: bool
) -> None:
    if steps:
        entry["tool_steps"] = extras_json.steps_to_json(
            steps, redact=redact_secrets if redact else None
        )
    if tokens:
        entry["tokens"] = extras_json.tokens_to_json(tokens)


def parse_versions(raw: object, where: str) -> list[ReplyVersion]:
    """`versions_to_json` output back into records; ValueError naming the bad field."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{where}.versions: expected a list")
    out: list[ReplyVersion] = []
    for i, item in enumerate(raw):
        here = f"{where}.versions[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{here}: expected an object")
        state = _get_state(item, here)
        if state == "streaming":
            state = "interrupted"
        created_at = _get_time(item, "created_at", here)
        out.append(
            ReplyVersion(
                content=_get_str(item, "content", here),
                thinking=_get_str(item, "thinking", here),
                state=state,
                note=_get_str(item, "note", here),
                stats=_get_stats(item, here),
                created_at=time.time() if created_at is None else created_at,
                tool_steps=extras_json.parse_steps(item.get("tool_steps"), here),
                tokens=extras_json.parse_tokens(item.get("tokens"), here),
            )
        )
    return out


def check_version_index(index: object, versions: list[ReplyVersion], where: str) -> int:
    """A valid position of the shown reply among ``len(versions) + 1`` versions."""
    if index is None:
        return len(versions)
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"{where}.version_index: expected an integer, got {index!r}")
    if not 0 <= index <= len(versions):
        raise ValueError(
            f"{where}.version_index: {index} is outside 0..{len(versions)} (the versions kept)"
        )
    return index


# -- export ---------------------------------------------------------------------------------------


def to_markdown(conv: Conversation) -> str:
    """A human-readable Markdown transcript.  Images are mentioned, not embedded (base64
    would swamp the text); use JSON for a lossless copy.  Credentials in notes are masked.
    Only the shown version of a regenerated reply is written, with how many there are."""
    settings = conv.settings
    lines = [f"# {conv.title or 'Untitled conversation'}", ""]
    if settings.model:
        lines.append(f"- Model: `{settings.model}`")
    options = dict(settings.options())
    if settings.keep_alive is not None:
        options["keep_alive"] = settings.keep_alive
    if settings.think is not None:
        options["think"] = "on" if settings.think else "off"
    if options:
        lines.append("- Options: " + ", ".join(f"{k}={v}" for k, v in options.items()))
    lines.append(f"- Created: {iso(conv.created_at)}")
    lines.append("")
    if settings.system_prompt.strip():
        lines += ["## System prompt", "", settings.system_prompt.strip(), ""]
    for message in conv.messages:
        lines += [f"## {message.role.capitalize()}", ""]
        if message.versions:
            lines += [f"_(version {message.version_index + 1} of {message.version_count})_", ""]
        if message.thinking.strip():
            lines += [
                "<details><summary>Thinking</summary>",
                "",
                message.thinking.strip(),
                "",
                "</details>",
                "",
            ]
        lines += _steps_markdown(message.tool_steps)
        if message.content:
            lines += [message.content.rstrip(), ""]
        if message.images:
            count = len(message.images)
            lines += [f"_[{count} image{'s' if count != 1 else ''} attached]_", ""]
        if message.state != "complete":
            status = f"_({message.state}"
            if message.note:
                status += f": {redact_secrets(message.note)}"
            lines += [status + ")_", ""]
    return "\n".join(lines).rstrip() + "\n"


def _steps_markdown(steps: list[ToolStep]) -> list[str]:
    """Each tool step as a collapsed block: what was called, and its result as plain text."""
    lines: list[str] = []
    for step in steps:
        result = step.result
        how = (
            " (stopped)"
            if result is None
            else " (not run)"
            if not result.ran
            else " (failed)"
            if not result.ok
            else ""
        )
        summary = html.escape(f"Tool: {step.title()}{how}", quote=False)
        lines += [f"<details><summary>{summary}</summary>", ""]
        if result is not None:
            longest = max((len(run) for run in re.findall(r"`+", result.content)), default=0)
            fence = "`" * max(3, longest + 1)
            lines += [f"{fence}text", result.content.rstrip("\n"), fence, ""]
        lines += ["</details>", ""]
    return lines


def to_json(conv: Conversation) -> dict[str, object]:
    """A lossless, versioned, JSON-serialisable copy that `parse_export` accepts.

    Fields are listed explicitly (never ``asdict`` of a wider object) so nothing outside
    the conversation, such as server URLs or API keys, can leak into a shared file.
    """
    s = conv.settings
    messages: list[dict[str, object]] = []
    for m in conv.messages:
        entry: dict[str, object] = {
            "role": m.role,
            "content": m.content,
            "thinking": m.thinking,
            "images": list(m.images),
            "state": m.state,
            "note": redact_secrets(m.note),
            "stats": dict(m.stats),
            "created_at": m.created_at,
        }
        if m.versions:
            entry["versions"] = versions_to_json(m.versions, redact=True)
            entry["version_index"] = m.version_index
        _put_extras(entry, m.tool_steps, m.tokens, redact=True)
        messages.append(entry)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": iso(time.time()),
        "title": conv.title,
        "created_at": conv.created_at,
        "updated_at": conv.updated_at,
        "settings": {
            "model": s.model,
            "system_prompt": s.system_prompt,
            "temperature": s.temperature,
            "num_ctx": s.num_ctx,
            "seed": s.seed,
            "top_p": s.top_p,
            "keep_alive": s.keep_alive,
            "think": s.think,
        },
        "messages": messages,
    }


# -- import ---------------------------------------------------------------------------------------


def parse_export(
    data: object,
) -> tuple[ConversationSettings, str, float | None, list[Message]]:
    """Validate a JSON export; (settings, title, created_at, messages) or ValueError."""
    if not isinstance(data, dict):
        raise ValueError(
            f"Not a conversation export: expected a JSON object, got {type(data).__name__}"
        )
    if data.get("format") != EXPORT_FORMAT:
        raise ValueError(
            f"Not a conversation export: 'format' should be {EXPORT_FORMAT!r}, "
            f"got {data.get('format')!r}"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"Invalid export: 'version' should be a positive integer, got {version!r}")
    if version > EXPORT_VERSION:
        raise ValueError(
            f"This export uses format version {version}, newer than this launcher understands "
            f"({EXPORT_VERSION}); please upgrade the launcher."
        )
    title = " ".join(_get_str(data, "title", "export").split())
    created_at = _get_time(data, "created_at", "export")
    settings = _parse_settings(data.get("settings"))
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise ValueError("Invalid export: 'messages' should be a list")
    messages = [_parse_message(raw, f"messages[{i}]") for i, raw in enumerate(raw_messages)]
    if not title:
        title = next((title_from(m.content) for m in messages if m.role == "user"), "")
    return settings, title, created_at, messages


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _get_str(obj: Mapping[str, object], key: str, where: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _get_time(obj: Mapping[str, object], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(cast(float, value)):
        raise ValueError(f"{where}.{key}: expected a timestamp number, got {value!r}")
    return float(cast(float, value))


def _get_state(obj: Mapping[str, object], where: str) -> MessageState:
    state = obj.get("state", "complete")
    if not isinstance(state, str) or state not in MESSAGE_STATES:
        raise ValueError(f"{where}.state: expected one of {sorted(MESSAGE_STATES)}, got {state!r}")
    return cast(MessageState, state)


def _get_stats(obj: Mapping[str, object], where: str) -> dict[str, float]:
    stats = obj.get("stats", {})
    if not isinstance(stats, dict) or not all(
        isinstance(k, str) and _is_number(v) for k, v in stats.items()
    ):
        raise ValueError(f"{where}.stats: expected an object of numbers")
    return {k: float(v) for k, v in stats.items()}


def _parse_settings(raw: object) -> ConversationSettings:
    if raw is None:
        return ConversationSettings()
    if not isinstance(raw, dict):
        raise ValueError(f"settings: expected an object, got {type(raw).__name__}")
    where = "settings"
    fields: dict[str, object] = raw

    def optional_float(key: str) -> float | None:
        value = fields.get(key)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{where}.{key}: expected a number or null, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{where}.{key}: expected a finite number, got {value!r}")
        return float(value)

    def optional_int(key: str) -> int | None:
        value = fields.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}.{key}: expected an integer or null, got {value!r}")
        return value

    keep_alive = raw.get("keep_alive")
    if keep_alive is not None and not isinstance(keep_alive, str):
        raise ValueError(f"{where}.keep_alive: expected a string or null, got {keep_alive!r}")
    think = raw.get("think")
    if think is not None and not isinstance(think, bool):
        raise ValueError(f"{where}.think: expected true, false or null, got {think!r}")
    return ConversationSettings(
        model=_get_str(raw, "model", where),
        system_prompt=_get_str(raw, "system_prompt", where),
        temperature=optional_float("temperature"),
        num_ctx=optional_int("num_ctx"),
        seed=optional_int("seed"),
        top_p=optional_float("top_p"),
        keep_alive=keep_alive,
        think=think,
    )


def _parse_message(raw: object, where: str) -> Message:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object, got {type(raw).__name__}")
    role = raw.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise ValueError(f"{where}.role: expected one of {sorted(ROLES)}, got {role!r}")
    state = _get_state(raw, where)
    if "content" not in raw:
        raise ValueError(f"{where}.content: missing")
    images = raw.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ValueError(f"{where}.images: expected a list of base64 strings")
    stats = _get_stats(raw, where)
    created_at = _get_time(raw, "created_at", where)
    note = _get_str(raw, "note", where)
    if state == "streaming":
        state, note = "interrupted", note or INTERRUPTED_NOTE
    versions = parse_versions(raw.get("versions"), where)
    if versions and role != "assistant":
        raise ValueError(f"{where}.versions: only replies (assistant messages) have versions")
    index = check_version_index(raw.get("version_index"), versions, where)
    steps = extras_json.parse_steps(raw.get("tool_steps"), where)
    tokens = extras_json.parse_tokens(raw.get("tokens"), where)
    if (steps or tokens) and role != "assistant":
        raise ValueError(f"{where}: only replies have tool steps and token probabilities")
    return Message(
        role=cast(Any, role),
        content=_get_str(raw, "content", where),
        thinking=_get_str(raw, "thinking", where),
        images=list(images),
        state=state,
        note=note,
        stats=stats,
        created_at=time.time() if created_at is None else created_at,
        versions=versions,
        version_index=index,
        tool_steps=steps,
        tokens=tokens,
    )
