"""`resolve_host` follows the official client's OLLAMA_HOST rules (protocol doc)."""

from __future__ import annotations

import pytest

from launcher.ollama import is_loopback_url, resolve_host

CASES = [
    (None, "http://127.0.0.1:11434"),
    ("", "http://127.0.0.1:11434"),
    ("1.2.3.4", "http://1.2.3.4:11434"),
    (":56789", "http://127.0.0.1:56789"),
    ("1.2.3.4:56789", "http://1.2.3.4:56789"),
    ("http://1.2.3.4", "http://1.2.3.4:80"),
    ("https://1.2.3.4", "https://1.2.3.4:443"),
    ("https://1.2.3.4:56789", "https://1.2.3.4:56789"),
    ("example.com", "http://example.com:11434"),
    ("example.com:56789", "http://example.com:56789"),
    ("http://example.com", "http://example.com:80"),
    ("https://example.com", "https://example.com:443"),
    ("example.com/", "http://example.com:11434"),
    ("example.com:56789/", "http://example.com:56789"),
    ("example.com/path", "http://example.com:11434/path"),
    ("example.com:56789/path/", "http://example.com:56789/path"),
    ("https://example.com:56789/path", "https://example.com:56789/path"),
    ("[0001:002:003:0004::1]", "http://[0001:002:003:0004::1]:11434"),
    ("[0001:002:003:0004::1]:56789", "http://[0001:002:003:0004::1]:56789"),
    ("http://[0001:002:003:0004::1]", "http://[0001:002:003:0004::1]:80"),
    ("https://[0001:002:003:0004::1]:56789/path", "https://[0001:002:003:0004::1]:56789/path"),
    ("[0001:002:003:0004::1]/", "http://[0001:002:003:0004::1]:11434"),
    ("0.0.0.0", "http://127.0.0.1:11434"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_resolve_host(value: str | None, expected: str) -> None:
    assert resolve_host(value) == expected


def test_resolve_host_agrees_with_official_client() -> None:
    from ollama._client import _parse_host

    for value, expected in CASES:
        if value and value.startswith("0.0.0.0"):
            continue  # our one addition: a bind-all address is reached at loopback
        assert _parse_host(value) == expected


def test_bad_port_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Invalid port"):
        resolve_host("example.com:notaport")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:11434", True),
        ("http://localhost:11434", True),
        ("http://[::1]:11434", True),
        ("http://192.168.1.5:11434", False),
        ("https://ollama.com:443", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
