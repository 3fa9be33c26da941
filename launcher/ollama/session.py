"""One Ollama host's connection and the plumbing every API call shares.

`OllamaClient` (client.py) is the API's endpoints; this is how each of them is
sent and checked: the httpx client built at the first use (proxy, TLS and key
from connection.py), retries of idempotent requests, failures mapped to our
errors (failures.py), replies checked for JSON of the right shape, and
streamed requests wrapped in an `OllamaStream`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from .connection import SYSTEM_PROXY, Reach, build_http, effective_proxy
from .errors import OllamaConnectionError, OllamaError, OllamaProtocolError, OllamaResponseError
from .failures import error_text, mapped_errors
from .host import resolve_host
from .stream import OllamaStream
from .types import JSONDict

T = TypeVar("T")


class HostSession:
    """One host's pooled httpx client and the plumbing every call to it shares.

    Args:
        host: an `OLLAMA_HOST`-style string (see `resolve_host`); defaults to the
            `OLLAMA_HOST` environment variable, then `127.0.0.1:11434`.
        api_key: sent as a Bearer token to this host only; defaults to
            `OLLAMA_API_KEY`. Never logged, never part of repr or errors.
        timeout: an httpx.Timeout or seconds; the default connects in 5 s and
            waits up to 10 minutes for a read (model loading is slow).
        retries: how many times an idempotent GET is retried after a failed
            connection, with exponential backoff. Streams are never retried.
        proxy: "system" (HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY), "none" or
            a proxy URL. A loopback host is never proxied.
        ca_file: a PEM CA bundle trusted for this host on top of the system store.
        verify_tls: False skips certificate checks for an https host; only ever
            the user's explicit choice for that host.

    Raises (every call): OllamaConnectionError (incl. OllamaTimeoutError and
    OllamaTLSError), OllamaResponseError, OllamaProtocolError; streams also
    OllamaStreamError.
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        api_key: str | None = None,
        timeout: httpx.Timeout | float | None = None,
        retries: int = 2,
        proxy: str = SYSTEM_PROXY,
        ca_file: str = "",
        verify_tls: bool = True,
    ) -> None:
        self.base_url = resolve_host(host if host is not None else os.environ.get("OLLAMA_HOST"))
        key = api_key if api_key is not None else os.environ.get("OLLAMA_API_KEY")
        self._retries = retries
        self.reach = Reach(proxy=proxy, ca_file=ca_file, verify_tls=verify_tls)
        self._key, self._timeout = key, timeout
        self._built: tuple[httpx.AsyncClient, OllamaError | None] | None = None
        self._closed_unbuilt = False  # closed before its first request: never built
        self.proxy = effective_proxy(self.base_url, self.reach)  # for messages; no password
        self.has_api_key = bool(key)

    def _connection(self) -> tuple[httpx.AsyncClient, OllamaError | None]:
        """The httpx client and the setup error, built at the first use: building them
        imports httpx's transport and loads the trust store, which the launcher's
        window should not wait for before it first paints."""
        if self._built is None:
            if self._closed_unbuilt:  # as httpx says for a client closed after use
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            self._built = build_http(
                self.base_url, key=self._key, reach=self.reach, timeout=self._timeout
            )
        return self._built

    @property
    def _http(self) -> httpx.AsyncClient:
        return self._connection()[0]

    @property
    def _setup_error(self) -> OllamaError | None:
        return self._connection()[1]

    def __repr__(self) -> str:
        key = "<set>" if self.has_api_key else "None"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every pooled connection. A client that never made a request has none,
        and is not built just to be closed (that would load the trust store)."""
        if self._built is None:
            self._closed_unbuilt = True
            return
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._closed_unbuilt if self._built is None else self._http.is_closed

    def _build(self, method: str, path: str, body: JSONDict | None = None) -> httpx.Request:
        """A request to this host; raises the host's setup error (e.g. a bad CA file)."""
        if self._setup_error is not None:
            raise self._setup_error
        return self._http.build_request(method, path, json=body)

    async def _request(
        self,
        method: str,
        path: str,
        body: JSONDict | None = None,
        *,
        retries: int = 0,
        timeout: float | None = None,
    ) -> httpx.Response:
        if self._setup_error is not None:
            raise self._setup_error
        attempt = 0
        while True:
            try:
                with mapped_errors(self.base_url, self.proxy):
                    kwargs: dict[str, Any] = {}
                    if body is not None:
                        kwargs["json"] = body
                    if timeout is not None:
                        kwargs["timeout"] = httpx.Timeout(timeout)
                    response = await self._http.request(method, path, **kwargs)
                break
            except OllamaConnectionError:
                if attempt >= retries:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)
                attempt += 1
        if response.is_error:
            raise OllamaResponseError(
                error_text(response), response.status_code, host=self.base_url
            )
        return response

    def _json(self, response: httpx.Response, what: str) -> JSONDict:
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            raise OllamaProtocolError(
                f"{self.base_url} answered {what} with something that is not JSON "
                f"({response.headers.get('content-type', 'no content type')}): "
                "is another service using this port?",
                host=self.base_url,
            ) from None
        if not isinstance(data, dict):
            raise OllamaProtocolError(
                f"{self.base_url} answered {what} with JSON of the wrong shape.",
                host=self.base_url,
            )
        return data

    def _records(self, data: JSONDict, parse: Callable[[JSONDict], T], what: str) -> list[T]:
        try:
            return [parse(item) for item in data.get("models") or []]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise OllamaProtocolError(
                f"{self.base_url} answered {what} with a model of the wrong shape ({exc}).",
                host=self.base_url,
            ) from None

    def _stream(
        self,
        path: str,
        body: JSONDict,
        parse: Callable[[JSONDict], T],
        is_final: Callable[[T], bool],
    ) -> OllamaStream[T]:
        return OllamaStream(
            self._http,
            lambda: self._build("POST", path, body),
            parse,
            is_final,
            self.base_url,
            self.proxy,
        )


__all__ = ["HostSession"]
