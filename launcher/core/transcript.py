"""Conversations as files: the Markdown and JSON exports (one conversation, or several).

Pure functions over the records of `core/conversation.py` (no SQL, no I/O), so the
store, the continuous export and the tests share one definition of the format.
The strict reader for imports is `transcript_import`.
"""

from __future__ import annotations

import html
import math
import re
import time
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, Final

from launcher.core import extras_json
from launcher.core.conversation import Conversation, ReplyVersion
from launcher.core.toolloop import ToolStep
from launcher.ollama import Logprob

EXPORT_FORMAT: Final = "ollama-launcher.conversation"
#: Version 1 files may carry `versions`/`version_index` on messages (optional fields, so
#: older launchers still read them, showing only the current version of a reply).
EXPORT_VERSION: Final = 1
#: Several conversations in one file (a parent and its branches keep their link).
BUNDLE_FORMAT: Final = "ollama-launcher.conversations"

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


def to_json(conv: Conversation, *, parent_created_at: float | None = None) -> dict[str, object]:
    """A lossless, versioned, JSON-serialisable copy that `parse_export` accepts.

    Fields are listed explicitly (never ``asdict`` of a wider object) so nothing outside
    the conversation, such as server URLs or API keys, can leak into a shared file.
    `id` and `parent_id` are this database's ids (a branch's link); `parent_created_at`
    lets an import tell its parent from another conversation that got the same id.
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
    out: dict[str, object] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": iso(time.time()),
        "id": conv.id,
        "parent_id": conv.parent_id,
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
            "features": {f.name: getattr(s.features, f.name) for f in fields(s.features)},
        },
        "messages": messages,
    }
    if conv.parent_id is not None and parent_created_at is not None:
        out["parent_created_at"] = parent_created_at
    return out


def bundle_to_json(exports: list[dict[str, object]]) -> dict[str, object]:
    """Several `to_json` exports in one file (`parse_bundle` reads it)."""
    return {
        "format": BUNDLE_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": iso(time.time()),
        "conversations": exports,
    }
