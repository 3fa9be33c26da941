"""Ollama's hosted web search and web fetch, for the model's tools (asyncio + httpx, no Qt).

`POST {base}/api/web_search {"query", "max_results"}` and `POST {base}/api/web_fetch
{"url"}` with `Authorization: Bearer <ollama.com API key>`; the base is
`https://ollama.com` unless `OLLAMA_LAUNCHER_WEB_BASE` names another (tests use a
stand-in). The key comes from the keyring (the "ollama.com" entry of the
SecretStore) or `OLLAMA_API_KEY`, and goes to that base only: this client is
separate from every Ollama host's client, and its bearer auth is bound to the
base's origin, so neither a redirect nor a model-chosen URL can carry it away.

Fetched pages arrive as text from the service and are only ever shown as
text: nothing here (or in the UI) loads a page in a browser engine.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import truststore

from launcher.ollama.connection import USER_AGENT, HostBoundBearer
from launcher.secrets import SecretStore

DEFAULT_WEB_BASE: Final = "https://ollama.com"
WEB_BASE_ENV: Final = "OLLAMA_LAUNCHER_WEB_BASE"
#: The SecretStore entry that holds the ollama.com API key.
KEY_ID: Final = "ollama.com"
#: What one result or page may add to the conversation (the context is precious).
MAX_RESULT_CHARS: Final = 3000
MAX_PAGE_CHARS: Final = 12000
_TIMEOUT: Final = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=30.0)


class WebToolError(Exception):
    """The web service could not answer; the message is for a person (and the model).

    Attributes:
        details: the technical text, for the log and a Details part.
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    content: str


@dataclass(frozen=True)
class FetchedPage:
    title: str
    content: str
    links: tuple[str, ...] = ()


def web_base(environ: Mapping[str, str] | None = None) -> str:
    """The web service's base URL (no trailing slash)."""
    env = os.environ if environ is None else environ
    base = (env.get(WEB_BASE_ENV) or "").strip() or DEFAULT_WEB_BASE
    return base.rstrip("/")


async def find_key(secrets: SecretStore, environ: Mapping[str, str] | None = None) -> str | None:
    """The ollama.com API key: the keyring's entry first (read in a worker thread: the
    keyring may block), else OLLAMA_API_KEY; None when there is neither."""
    key = await asyncio.to_thread(secrets.get, KEY_ID)
    if key:
        return key
    env = os.environ if environ is None else environ
    return (env.get("OLLAMA_API_KEY") or "").strip() or None


class WebTools:
    """A client of the hosted web search (use as an async context manager, or aclose()).

    Args:
        key: the ollama.com API key (sent to `base` only).
        base: the service's base URL; default from `web_base()`.
    """

    def __init__(self, key: str, base: str | None = None) -> None:
        self.base = (base or web_base()).rstrip("/")
        verify: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._http = httpx.AsyncClient(
            base_url=self.base,
            auth=HostBoundBearer(key, self.base),
            timeout=_TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            verify=verify,
        )

    def __repr__(self) -> str:
        return f"WebTools(base={self.base!r}, key=<set>)"

    async def __aenter__(self) -> WebTools:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def search(self, query: str, max_results: int = 5) -> list[SearchResult]:
        """Web results for `query` (1-10 of them)."""
        if not query.strip():
            raise WebToolError("The web search needs a query.")
        count = min(10, max(1, int(max_results)))
        data = await self._post("/api/web_search", {"query": query, "max_results": count})
        results = data.get("results")
        if not isinstance(results, list):
            raise WebToolError(
                f"The web search service at {self._where()} answered with something unexpected.",
                "no `results` list in the reply",
            )
        found = []
        for item in results:
            if isinstance(item, dict):
                found.append(
                    SearchResult(
                        str(item.get("title") or ""),
                        str(item.get("url") or ""),
                        str(item.get("content") or ""),
                    )
                )
        return found

    async def fetch(self, url: str) -> FetchedPage:
        """The text of a web page (http or https only)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WebToolError(f"Only http and https pages can be fetched, not {url!r}.")
        data = await self._post("/api/web_fetch", {"url": url.strip()})
        links = data.get("links")
        return FetchedPage(
            str(data.get("title") or ""),
            str(data.get("content") or ""),
            tuple(str(link) for link in links) if isinstance(links, list) else (),
        )

    def _where(self) -> str:
        return urlsplit(self.base).netloc or self.base

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        where = self._where()
        try:
            response = await self._http.post(path, json=body)
        except httpx.TimeoutException as exc:
            raise WebToolError(
                f"The web search service at {where} did not answer in time — try again.",
                f"{type(exc).__name__}: {exc}",
            ) from None
        except httpx.HTTPError as exc:
            raise WebToolError(
                f"Can't reach the web search service at {where} — check the internet "
                "connection (and the proxy, if you use one).",
                f"{type(exc).__name__}: {exc}",
            ) from None
        if response.status_code in (401, 403):
            raise WebToolError(
                f"{where} refused the API key — check the ollama.com API key (Settings, or "
                "OLLAMA_API_KEY).",
                f"HTTP {response.status_code}: {response.text[:300]}",
            )
        if response.status_code == 429:
            raise WebToolError(
                f"{where} says too many searches were made — wait a little and try again.",
                f"HTTP 429: {response.text[:300]}",
            )
        if response.is_error:
            raise WebToolError(
                f"The web search service at {where} failed (HTTP {response.status_code}).",
                response.text[:300],
            )
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise WebToolError(
                f"The web search service at {where} answered with something unexpected.",
                response.headers.get("content-type", "no content type"),
            )
        return data


def results_text(results: list[SearchResult]) -> str:
    """Search results as the tool message the model reads."""
    if not results:
        return "No results."
    parts = []
    for number, result in enumerate(results, start=1):
        content = result.content.strip()
        if len(content) > MAX_RESULT_CHARS:
            content = content[:MAX_RESULT_CHARS].rstrip() + " …"
        parts.append(f"{number}. {result.title}\n{result.url}\n{content}")
    return "\n\n".join(parts)


def page_text(page: FetchedPage, url: str) -> str:
    """A fetched page as the tool message the model reads (text only)."""
    content = page.content.strip()
    if len(content) > MAX_PAGE_CHARS:
        content = content[:MAX_PAGE_CHARS].rstrip() + "\n… (cut)"
    head = f"{page.title}\n{url}" if page.title else url
    text = f"{head}\n\n{content}" if content else f"{head}\n\n(The page has no text.)"
    if page.links:
        text += "\n\nLinks:\n" + "\n".join(page.links[:20])
    return text
