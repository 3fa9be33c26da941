"""The one place where httpx and ssl failures become `OllamaError`s, with advice.

Callers of the client catch `OllamaError` only; they never see httpx, ssl or
socket exceptions. Certificate failures get a short reason for a person
("the certificate has expired") on `OllamaTLSError.reason`.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator

import httpx

from .errors import (
    OllamaConnectionError,
    OllamaError,
    OllamaProtocolError,
    OllamaProxyError,
    OllamaTimeoutError,
    OllamaTLSError,
)

#: OpenSSL's X509_V_ERR_* codes, as a person would say them.
_VERIFY_REASONS = {
    9: "the certificate is not valid yet",
    10: "the certificate has expired",
    18: "the certificate is self-signed",
    19: "the certificate chain ends in a self-signed certificate that is not trusted",
    20: "the certificate was issued by an authority this computer does not trust",
    21: "the certificate was issued by an authority this computer does not trust",
    23: "the certificate has been revoked",
    62: "the certificate does not match the host name",
    64: "the certificate does not match the host's IP address",
}

#: The words of OpenSSL's messages, for errors that come without a code.
_MESSAGE_REASONS = (
    ("expired", 10),
    ("self-signed", 18),
    ("self signed", 18),
    ("hostname mismatch", 62),
    ("ip address mismatch", 64),
    ("unable to get local issuer", 20),
)

#: httpx's words for a peer that hung up: a broken connection, not a foreign protocol.
_HUNG_UP = ("peer closed", "disconnected", "incomplete", "connection reset", "broken pipe")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def tls_reason(exc: BaseException) -> str | None:
    """A reason for a person when `exc` is (or wraps) a TLS failure, else None."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = _VERIFY_REASONS.get(cause.verify_code)
            if reason:
                return reason
            text = (cause.verify_message or str(cause)).lower()
            for words, code in _MESSAGE_REASONS:
                if words in text:
                    return _VERIFY_REASONS[code]
            return f"the certificate could not be verified ({cause.verify_message or 'unknown'})"
        if isinstance(cause, ssl.SSLError):
            text = str(cause).lower()
            if "wrong version number" in text or "record layer failure" in text:
                return "the server does not speak https on this port"
            return "the secure connection could not be set up"
    text = str(exc).lower()
    if "certificate_verify_failed" in text or "certificate verify failed" in text:
        for words, code in _MESSAGE_REASONS:
            if words in text:
                return _VERIFY_REASONS[code]
        return "the certificate could not be verified"
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def mapped_error(
    exc: httpx.HTTPError | httpx.InvalidURL, host: str, proxy: str | None = None
) -> OllamaError:
    """The OllamaError for an httpx exception (its text is the technical detail).

    `proxy`: the proxy the request went through (shown without credentials); a
    failure to connect is then the proxy's, as far as the user can tell.
    """
    connecting = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)
    if proxy and isinstance(exc, connecting) and tls_reason(exc) is None:
        return OllamaProxyError(
            f"Could not reach Ollama at {host} through the proxy {proxy} ({_reason(exc)}). "
            "Check the proxy address, or choose no proxy for this host.",
            proxy=proxy,
            host=host,
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return OllamaTimeoutError(
            f"Could not connect to Ollama at {host}: the connection timed out. "
            "Check that the machine is on and reachable.",
            host=host,
        )
    if isinstance(exc, (httpx.ConnectError, httpx.ProxyError)):
        reason = tls_reason(exc)
        if reason is not None:
            return OllamaTLSError(
                f"The secure connection to {host} failed: {reason} ({_reason(exc)}).",
                reason=reason,
                host=host,
            )
        if isinstance(exc, httpx.ProxyError):
            return OllamaConnectionError(
                f"The proxy refused the connection to Ollama at {host} ({_reason(exc)}). "
                "Check the proxy setting for this host.",
                host=host,
            )
        return OllamaConnectionError(
            f"Could not connect to Ollama at {host} ({_reason(exc)}). "
            "Start the server (`ollama serve`) or check the host address.",
            host=host,
        )
    if isinstance(exc, httpx.TimeoutException):
        return OllamaTimeoutError(
            f"Ollama at {host} did not answer in time ({type(exc).__name__}).", host=host
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        if any(words in str(exc).lower() for words in _HUNG_UP):
            return OllamaConnectionError(
                f"The connection to Ollama at {host} closed unexpectedly ({_reason(exc)}); "
                "the server may have stopped or crashed.",
                host=host,
            )
        return OllamaProtocolError(
            f"{host} sent a reply that is not valid HTTP for Ollama ({_reason(exc)}).",
            host=host,
        )
    if isinstance(exc, httpx.NetworkError):
        return OllamaConnectionError(
            f"The connection to Ollama at {host} was lost ({_reason(exc)}).", host=host
        )
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return OllamaConnectionError(f"Invalid Ollama address {host}: {exc}", host=host)
    if isinstance(exc, httpx.DecodingError):
        return OllamaProtocolError(
            f"Ollama at {host} sent a reply that could not be decoded: {exc}", host=host
        )
    return OllamaConnectionError(f"Request to Ollama at {host} failed: {exc}", host=host)


@contextlib.contextmanager
def mapped_errors(host: str, proxy: str | None = None) -> Iterator[None]:
    """Re-raise httpx exceptions from the block as OllamaErrors."""
    try:
        yield
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise mapped_error(exc, host, proxy) from None


def error_text(response: httpx.Response) -> str:
    """The server's `error` text, or a short excerpt of a non-JSON body."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    text = response.text.strip()
    if text:
        return text[:200]
    return response.reason_phrase or f"HTTP {response.status_code}"


__all__ = ["error_text", "mapped_error", "mapped_errors", "tls_reason"]
