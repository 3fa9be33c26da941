"""Turn an `OLLAMA_HOST`-style string into a base URL, as the official client does.

Users copy `OLLAMA_HOST` values between the server, the CLI and this launcher;
they must mean the same thing everywhere, so these are the official Python
client's rules, plus one: an unspecified bind address (`0.0.0.0`, `::`) is
where a *server* listens, and a local client reaches it at loopback.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

DEFAULT_PORT = 11434
_UNSPECIFIED = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def resolve_host(value: str | None) -> str:
    """Return the base URL (scheme://host:port[/path]) for an `OLLAMA_HOST` value.

    >>> resolve_host(None)
    'http://127.0.0.1:11434'
    >>> resolve_host(':56789')
    'http://127.0.0.1:56789'
    >>> resolve_host('https://example.com')
    'https://example.com:443'
    >>> resolve_host('example.com:56789/path/')
    'http://example.com:56789/path'
    >>> resolve_host('[0001:002:003:0004::1]')
    'http://[0001:002:003:0004::1]:11434'
    >>> resolve_host('0.0.0.0')
    'http://127.0.0.1:11434'
    """
    text = (value or "").strip()
    port = DEFAULT_PORT
    scheme, _, hostport = text.partition("://")
    if not hostport:
        scheme, hostport = "http", text
    elif scheme == "http":
        port = 80
    elif scheme == "https":
        port = 443

    split = urllib.parse.urlsplit(f"{scheme}://{hostport}")
    host = split.hostname or "127.0.0.1"
    try:
        explicit_port = split.port
    except ValueError as exc:  # "host:notaport" or out of range
        raise ValueError(f"Invalid port in host {value!r}: {exc}") from None
    port = explicit_port or port
    host = _UNSPECIFIED.get(host, host)

    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            host = f"[{host}]"
    except ValueError:
        pass

    if path := split.path.strip("/"):
        return f"{scheme}://{host}:{port}/{path}"
    return f"{scheme}://{host}:{port}"


def is_loopback_url(base_url: str) -> bool:
    """Whether a base URL points at this machine (so the launcher may manage its server)."""
    host = urllib.parse.urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
