"""The text of "Copy diagnostics": everything a bug report needs, and never a secret (pure).

Built from plain values so it is tested without Qt; every piece of text that may
hold a credential (log lines, proxy URLs, host URLs) passes through `redact`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from launcher.core.diagnostics import ServerFacts

LOG_LINES = 200
REDACTED = "[redacted]"
_PATTERNS = (
    re.compile(r"(?i)(authorization:\s*bearer\s+)\S+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(api[_-]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
    re.compile(r"(://)[^/\s@:]+:[^/\s@]+(?=@)"),  # user:password@ in a URL
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret and anything shaped like a credential removed."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows, as plain values."""

    launcher_version: str
    qt_version: str
    pyside_version: str
    python_version: str
    os_name: str
    host_url: str
    state: str
    started_by_launcher: bool
    facts: ServerFacts
    requested: dict[str, str] = field(default_factory=dict)
    differing: dict[str, str] = field(default_factory=dict)
    api_version: str = ""
    loaded_models: tuple[str, ...] = ()
    port_holder: str = ""
    log_lines: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()


def ollama_version(inputs: ReportInputs) -> str:
    return inputs.facts.version or inputs.api_version or "unknown"


def gpu_lines(facts: ServerFacts) -> list[str]:
    """One line per GPU, or the CPU-only line with Ollama's reason."""
    lines = []
    for gpu in facts.gpus:
        extra = ", ".join(
            part
            for part in (
                f"{gpu.library} {gpu.variant}".strip(),
                f"compute {gpu.compute}" if gpu.compute else "",
                f"driver {gpu.driver}" if gpu.driver else "",
                f"id {gpu.id}" if gpu.id else "",
            )
            if part
        )
        memory = f"{gpu.total} total, {gpu.available} free" if gpu.total else ""
        lines.append(" — ".join(p for p in (gpu.label, extra, memory) if p))
    if not facts.gpus and facts.cpu is not None:
        cpu = facts.cpu
        memory = f" ({cpu.total} memory, {cpu.available} free)" if cpu.total else ""
        lines.append(f"CPU only — {facts.cpu_only_reason()}{memory}")
    return lines


def build_report(inputs: ReportInputs) -> str:
    """The whole diagnostics text, redacted."""
    out = [
        "Ollama Launcher diagnostics",
        f"Launcher: {inputs.launcher_version}",
        f"Qt: {inputs.qt_version} (PySide6 {inputs.pyside_version})",
        f"Python: {inputs.python_version}",
        f"OS: {inputs.os_name}",
        f"Ollama version: {ollama_version(inputs)}",
        f"Host: {inputs.host_url}",
        f"State: {inputs.state}"
        + (" (started by the launcher)" if inputs.started_by_launcher else ""),
    ]
    if inputs.port_holder:
        out.append(f"Port: {inputs.port_holder}")
    if inputs.loaded_models:
        out.append("Loaded models: " + ", ".join(inputs.loaded_models))
    out.append("")
    out.append("Effective configuration (from the server's `server config` line):")
    if inputs.facts.config:
        for name, value in sorted(inputs.facts.config.items()):
            mark = ""
            if name in inputs.differing:
                mark = f"   <- asked for {inputs.differing[name]}"
            out.append(f"  {name}={value}{mark}")
    else:
        out.append("  (not reported: the server was not started by the launcher)")
    if inputs.requested:
        out.append("Requested by the launcher:")
        out.extend(f"  {k}={v}" for k, v in sorted(inputs.requested.items()))
    out.append("")
    out.append("Compute:")
    out.extend(f"  {line}" for line in gpu_lines(inputs.facts) or ["(not reported)"])
    out.append("")
    tail = list(inputs.log_lines)[-LOG_LINES:]
    out.append(f"Last {len(tail)} log lines:")
    out.extend(tail)
    return redact("\n".join(out) + "\n", inputs.secrets)
