"""What `ollama serve` says it runs with, read from its own log lines (pure, no Qt).

Ollama prints its effective configuration (`msg="server config" env="map[...]"`),
one `msg="inference compute"` line per device after GPU discovery, and its version in
`Listening on ADDR (version X)`. Those lines are the only truthful account of what
the server really uses (a variable we set may be ignored or overridden), so the
Diagnostics panel is built from them, not from what we asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ATTR = re.compile(r'(?P<key>"[^"]*"|[A-Za-z_][\w.]*)=(?P<value>"(?:[^"\\]|\\.)*"|\S*)')
_LISTENING = re.compile(r"Listening on (?P<addr>\S+) \(version (?P<version>[^)\s]+)\)")
NO_GPU_TEXT = "no compatible GPUs were discovered"


def _unquote(value: str) -> str:
    """A slog/Go quoted value as plain text (`"a \\"b\\""` -> `a "b"`)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def attributes(line: str) -> dict[str, str]:
    """The `key=value` attributes of one slog line (`time`, `level`, `msg`, ...)."""
    return {_unquote(m["key"]): _unquote(m["value"]) for m in _ATTR.finditer(line)}


def message(line: str) -> str:
    """The `msg` of a slog line, or "" for a line in another format."""
    return attributes(line).get("msg", "") if "msg=" in line else ""


def parse_env_map(text: str) -> dict[str, str]:
    """Go's `%v` of a map[string]any: `map[A:1 B: C:[x y]]` -> {"A": "1", "B": "", "C": "[x y]"}."""
    text = text.strip()
    if text.startswith("map["):
        text = text[4:]
    if text.endswith("]"):
        text = text[:-1]
    result: dict[str, str] = {}
    i, n = 0, len(text)
    key_re = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*):")
    while i < n:
        match = key_re.match(text, i)
        if match is None:
            break
        key = match.group(1)
        i = match.end()
        depth = 0
        start = i
        while i < n:
            ch = text[i]
            if ch == "[":
                depth += 1
            elif ch == "]" and depth > 0:
                depth -= 1
            elif ch == " " and depth == 0:
                break
            i += 1
        result[key] = text[start:i]
    return result


def parse_server_config(line: str) -> dict[str, str] | None:
    """The environment from a `msg="server config"` line, or None for any other line."""
    if "server config" not in line:
        return None
    attrs = attributes(line)
    if attrs.get("msg") != "server config" or "env" not in attrs:
        return None
    return parse_env_map(attrs["env"])


@dataclass(frozen=True)
class GpuInfo:
    """One device from a `msg="inference compute"` line.

    Attributes:
        id: `GPU-452cac9f-…`, `0`, or `cpu`.
        library: cuda, rocm, metal, vulkan, or cpu.
        name: the device name (newer versions: `CUDA0`, with the model in `description`).
        total / available: memory as Ollama wrote it (`3.9 GiB`).
    """

    id: str
    library: str
    name: str
    total: str = ""
    available: str = ""
    variant: str = ""
    compute: str = ""
    driver: str = ""
    description: str = ""

    @property
    def is_cpu(self) -> bool:
        return self.library.lower() == "cpu" or self.id.lower() == "cpu"

    @property
    def label(self) -> str:
        """The name a person recognises (`NVIDIA GeForce GT 1030`)."""
        if self.description and self.description != self.name:
            return f"{self.description} ({self.name})" if self.name else self.description
        return self.name or self.id


def parse_inference_compute(line: str) -> GpuInfo | None:
    """The device of a `msg="inference compute"` line, or None for any other line."""
    if "inference compute" not in line:
        return None
    attrs = attributes(line)
    if attrs.get("msg") != "inference compute":
        return None
    return GpuInfo(
        id=attrs.get("id", ""),
        library=attrs.get("library", ""),
        name=attrs.get("name", ""),
        total=attrs.get("total", ""),
        available=attrs.get("available", ""),
        variant=attrs.get("variant", ""),
        compute=attrs.get("compute", ""),
        driver=attrs.get("driver", ""),
        description=attrs.get("description", ""),
    )


def parse_version(line: str) -> str | None:
    """The version from `Listening on 127.0.0.1:11434 (version 0.12.3)`, else None."""
    match = _LISTENING.search(line)
    return match.group("version") if match else None


@dataclass
class ServerFacts:
    """What one run of `ollama serve` reported about itself.

    Attributes:
        config: the effective environment from the `server config` line ({} until seen).
        gpus: the usable GPUs (never the CPU pseudo-device).
        cpu: the CPU pseudo-device when Ollama found no usable GPU.
        no_gpu_reason: what Ollama logged about that (e.g. "no compatible GPUs were
            discovered"), "" when it said nothing.
        version / address: from the `Listening on` line.
    """

    config: dict[str, str] = field(default_factory=dict)
    gpus: list[GpuInfo] = field(default_factory=list)
    cpu: GpuInfo | None = None
    no_gpu_reason: str = ""
    version: str = ""
    address: str = ""

    @property
    def discovered(self) -> bool:
        """GPU discovery finished (at least one `inference compute` line)."""
        return bool(self.gpus) or self.cpu is not None

    @property
    def cpu_only(self) -> bool:
        return self.cpu is not None and not self.gpus

    def cpu_only_reason(self) -> str:
        """Why Ollama runs on the CPU, in Ollama's words when it gave them."""
        if self.no_gpu_reason:
            return self.no_gpu_reason
        return "Ollama found no usable GPU and reported only the CPU"

    @property
    def empty(self) -> bool:
        return not (self.config or self.discovered or self.version)


class FactsTracker:
    """Feeds on log lines one by one; `facts` describes the latest server run.

    A new run starts at the launcher's `[launcher] starting` line or at a new
    `server config` line: facts of a previous run never mix with the current one.
    """

    def __init__(self) -> None:
        self.facts = ServerFacts()

    def feed(self, line: str) -> bool:
        """Take one line; True when the facts changed."""
        if line.startswith("[launcher] starting"):
            self.facts = ServerFacts()
            return True
        if "msg=" not in line and "Listening on" not in line:
            return False
        config = parse_server_config(line)
        if config is not None:
            self.facts = ServerFacts(config=config)
            return True
        gpu = parse_inference_compute(line)
        if gpu is not None:
            if gpu.is_cpu:
                self.facts.cpu = gpu
            elif gpu not in self.facts.gpus:
                self.facts.gpus.append(gpu)
            return True
        version = parse_version(line)
        if version is not None:
            self.facts.version = version
            match = _LISTENING.search(line)
            self.facts.address = match.group("addr") if match else ""
            return True
        if NO_GPU_TEXT in line:
            self.facts.no_gpu_reason = NO_GPU_TEXT
            return True
        return False

    def feed_all(self, lines: list[str]) -> None:
        for line in lines:
            self.feed(line)
