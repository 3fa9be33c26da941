"""The environment of the `ollama serve` we start: the user's settings, and a safe address.

Apart from the supervisor because it is a pure rule (tested with plain values)
and the one place that decides what the child listens on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")


def _loopback_only(child_host: str) -> str:
    """`child_host` when it is a loopback address, else 127.0.0.1 on the same port."""
    host, _, port = child_host.rpartition(":")
    if not host:
        host, port = child_host, "11434"
    if host in _LOOPBACK:
        return child_host
    return f"127.0.0.1:{port or '11434'}"


def child_environment(
    child_host: str,
    *,
    models_dir: str = "",
    extra_env: Mapping[str, str] | None = None,
    tuning: Mapping[str, str] | None = None,
    https_proxy: str = "",
    noprune: bool = False,
    allow_network: bool = False,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the child: ours, plus the server settings the user chose.

    The listen address is set last, so neither the tuning page nor extra
    variables can move it; and it stays on loopback unless `allow_network` is
    exactly True (a truthy string from a damaged settings file is not consent).
    """
    env = dict(os.environ if base is None else base)
    env.update(extra_env or {})
    env.update({str(k): str(v) for k, v in (tuning or {}).items()})
    if https_proxy:
        env["HTTPS_PROXY"] = https_proxy
    if noprune:
        env["OLLAMA_NOPRUNE"] = "1"
    if models_dir:
        env["OLLAMA_MODELS"] = models_dir
    env["OLLAMA_HOST"] = child_host if allow_network is True else _loopback_only(child_host)
    return env


def port_of(child_host: str) -> int:
    tail = child_host.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 11434
