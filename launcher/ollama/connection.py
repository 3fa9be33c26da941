"""How one host is reached: its proxy, its TLS trust and its API key, as one httpx client.

Rules, as Ollama's own clients have them:

* Proxies: a loopback or `localhost` host is never proxied, whatever the
  environment says. Otherwise `proxy="system"` takes `HTTPS_PROXY`,
  `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` from the environment (httpx's
  `trust_env`), `"none"` goes direct, and a URL names the proxy to use.
* TLS: `https` hosts are verified against the operating system's trust store
  (`truststore`: a corporate CA installed on the machine just works), plus an
  optional per-host CA bundle. Skipping verification happens only when the
  user chose it for that host. There is never a fall-back to plain http.
* The API key goes to the configured host only (`HostBoundBearer`).
"""

from __future__ import annotations

import ssl
import urllib.parse
import urllib.request
from collections.abc import Generator
from dataclasses import dataclass

import httpx
import truststore

from .errors import OllamaConnectionError, OllamaError, OllamaTLSError
from .host import is_loopback_url

#: Connect fast (a dead host should be reported in seconds); read slowly (a
#: model can take minutes to load before the first chunk); no total limit.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=600.0, write=60.0, pool=30.0)
USER_AGENT = "ollama-launcher/0.1"
SYSTEM_PROXY = "system"
NO_PROXY = "none"
_PROXY_SCHEMES = ("http", "https")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class HostBoundBearer(httpx.Auth):
    """Adds `Authorization: Bearer KEY` only to requests for the configured host.

    A key must never reach another host, even if a redirect or a caller's
    absolute URL points elsewhere.
    """

    def __init__(self, key: str, base_url: str) -> None:
        self._key = key
        self._origin = _origin(httpx.URL(base_url))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._key}"
        else:
            request.headers.pop("Authorization", None)
        yield request

    def __repr__(self) -> str:
        return "HostBoundBearer(<redacted>)"


@dataclass(frozen=True)
class Reach:
    """How to reach one host (the settings that shape its httpx client).

    Attributes:
        proxy: "system" (the environment), "none", or a proxy URL.
        ca_file: a PEM bundle trusted on top of the system store ("" for none).
        verify_tls: False only when the user explicitly chose to skip the check.
    """

    proxy: str = SYSTEM_PROXY
    ca_file: str = ""
    verify_tls: bool = True


def tls_context(reach: Reach, host: str) -> ssl.SSLContext:
    """The system trust store, plus the host's CA file. Raises OllamaTLSError
    when the CA file cannot be read (a wrong path must not silently mean "no CA")."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if reach.ca_file:
        try:
            context.load_verify_locations(cafile=reach.ca_file)
        except (OSError, ssl.SSLError) as exc:
            reason = f"the CA file {reach.ca_file} could not be read"
            raise OllamaTLSError(
                f"The secure connection to {host} cannot be set up: {reason} ({exc}).",
                reason=reason,
                host=host,
            ) from None
    return context


def proxy_for(base_url: str, reach: Reach) -> tuple[str | None, bool]:
    """(proxy URL or None, trust_env) for a host. Loopback is never proxied."""
    if is_loopback_url(base_url):
        return None, False
    choice = reach.proxy.strip()
    if not choice or choice == SYSTEM_PROXY:
        return None, True
    if choice == NO_PROXY:
        return None, False
    url = choice if "://" in choice else f"http://{choice}"
    scheme = url.partition("://")[0].lower()
    if scheme not in _PROXY_SCHEMES:
        raise OllamaConnectionError(
            f"The proxy {choice!r} for {base_url} is not a proxy address: use http://HOST:PORT.",
            host=base_url,
        )
    return url, False


def proxy_label(url: str) -> str:
    """A proxy URL as it may be shown: no user name or password."""
    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def effective_proxy(base_url: str, reach: Reach) -> str | None:
    """The proxy requests to this host go through (for messages), or None.

    For "system" this reads the environment as httpx does (the scheme's proxy or
    ALL_PROXY, unless NO_PROXY covers the host).
    """
    try:
        proxy, trust_env = proxy_for(base_url, reach)
    except OllamaConnectionError:
        return None
    if proxy is not None:
        return proxy_label(proxy)
    if not trust_env:
        return None
    found = urllib.request.getproxies_environment()
    scheme = base_url.partition("://")[0]
    chosen = found.get(scheme) or found.get("all")
    host = (urllib.parse.urlsplit(base_url).hostname or "").lower()
    if not chosen or _bypassed(host, found.get("no", "")):
        return None
    return proxy_label(chosen)


def _bypassed(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY (comma-separated names, `.suffix` or `*`) covers the host."""
    for entry in no_proxy.lower().split(","):
        name = entry.strip().rsplit(":", 1)[0] if "]" not in entry else entry.strip()
        name = name.lstrip(".")
        if name == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False


def build_http(
    base_url: str,
    *,
    key: str | None,
    reach: Reach,
    timeout: httpx.Timeout | float | None,
) -> tuple[httpx.AsyncClient, OllamaError | None]:
    """The httpx client for a host, and the setup error every request must raise.

    A bad setting (unreadable CA file, a proxy that is not a URL) must not stop
    the app from starting: the client is built without it and each request
    raises the error, which names the setting to fix.
    """
    problem: OllamaError | None = None
    verify: ssl.SSLContext | bool = True
    https = base_url.startswith("https://")
    if not https:
        # Plain http: no certificate to check, so a CA file does not matter.
        verify = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    elif not reach.verify_tls:
        verify = False  # the user's explicit, per-host choice
    else:
        try:
            verify = tls_context(reach, base_url)
        except OllamaTLSError as exc:
            problem = exc
            verify = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        proxy, trust_env = proxy_for(base_url, reach)
    except OllamaConnectionError as exc:
        problem = problem or exc
        proxy, trust_env = None, False
    http = httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        auth=HostBoundBearer(key, base_url) if key else None,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        verify=verify,
        proxy=proxy,
        trust_env=trust_env,
    )
    return http, problem


__all__ = [
    "DEFAULT_TIMEOUT",
    "NO_PROXY",
    "SYSTEM_PROXY",
    "USER_AGENT",
    "HostBoundBearer",
    "Reach",
    "build_http",
    "effective_proxy",
    "proxy_for",
    "proxy_label",
    "tls_context",
]
