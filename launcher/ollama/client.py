"""The asyncio Ollama API client: one pooled httpx.AsyncClient per host.

Why not the official `ollama` package: its streaming calls hand back a bare
async generator that owns the HTTP connection, so a caller that stops reading
leaves the server generating until something finalises the generator. Here a
streaming call is an `OllamaStream` (see stream.py): leaving the `async with`
block closes the connection there and then, which is how Ollama learns to
stop (it has no cancel endpoint).

How a host is reached (proxy, TLS, API key) is connection.py; how failures
are worded is failures.py; the records are types.py.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from .blobs import BlobProgress, Progress, file_body, file_digest, normal_digest
from .bodies import chat_body, create_body
from .connection import DEFAULT_TIMEOUT, SYSTEM_PROXY, Reach, build_http, effective_proxy
from .errors import OllamaConnectionError, OllamaError, OllamaProtocolError, OllamaResponseError
from .failures import error_text, mapped_errors
from .host import resolve_host
from .stream import OllamaStream
from .types import (
    ChatChunk,
    ChatResponse,
    JSONDict,
    ModelInfo,
    ModelShow,
    PullProgress,
    RunningModel,
    parse_chat_chunk,
    parse_pull_progress,
)

T = TypeVar("T")


class OllamaClient:
    """An Ollama API client bound to one host.

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
        return f"OllamaClient(base_url={self.base_url!r}, api_key={key})"

    async def __aenter__(self) -> OllamaClient:
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

    # ---- plain requests -------------------------------------------------

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

    async def version(self, *, retries: int | None = None, timeout: float | None = None) -> str:
        """The server's version string, e.g. `0.12.3`.

        This is also the probe that tells Ollama from a foreign service: a 404
        or a reply without `version` raises OllamaProtocolError.
        """
        try:
            response = await self._request(
                "GET",
                "/api/version",
                retries=self._retries if retries is None else retries,
                timeout=timeout,
            )
        except OllamaResponseError as exc:
            if exc.status_code in (404, 405):
                raise OllamaProtocolError(
                    f"{self.base_url} answers HTTP but is not Ollama "
                    f"(GET /api/version gave {exc.status_code}).",
                    host=self.base_url,
                ) from None
            raise
        data = self._json(response, "GET /api/version")
        version = data.get("version")
        if not isinstance(version, str):
            raise OllamaProtocolError(
                f"{self.base_url} answers HTTP but is not Ollama (no version in its reply).",
                host=self.base_url,
            )
        return version

    async def list_models(self) -> list[ModelInfo]:
        """Installed models (`GET /api/tags`)."""
        response = await self._request("GET", "/api/tags", retries=self._retries)
        data = self._json(response, "GET /api/tags")
        return self._records(data, ModelInfo.from_json, "GET /api/tags")

    async def running_models(self) -> list[RunningModel]:
        """Models loaded in memory now (`GET /api/ps`)."""
        response = await self._request("GET", "/api/ps", retries=self._retries)
        data = self._json(response, "GET /api/ps")
        return self._records(data, RunningModel.from_json, "GET /api/ps")

    def _records(self, data: JSONDict, parse: Callable[[JSONDict], T], what: str) -> list[T]:
        try:
            return [parse(item) for item in data.get("models") or []]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise OllamaProtocolError(
                f"{self.base_url} answered {what} with a model of the wrong shape ({exc}).",
                host=self.base_url,
            ) from None

    async def show(self, model: str) -> ModelShow:
        """Details, capabilities and model_info of one model (`POST /api/show`)."""
        response = await self._request("POST", "/api/show", {"model": model})
        data = self._json(response, "POST /api/show")
        try:
            return ModelShow.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise OllamaProtocolError(
                f"{self.base_url} answered POST /api/show with the wrong shape ({exc}).",
                host=self.base_url,
            ) from None

    async def delete(self, model: str) -> None:
        """Delete an installed model (`DELETE /api/delete`)."""
        await self._request("DELETE", "/api/delete", {"model": model})

    async def copy(self, source: str, destination: str) -> None:
        """Copy a model under a new name (`POST /api/copy`)."""
        await self._request("POST", "/api/copy", {"source": source, "destination": destination})

    async def unload(self, model: str) -> None:
        """Unload a model from memory now (a chat with no messages and `keep_alive: 0`)."""
        body = {"model": model, "messages": [], "keep_alive": 0, "stream": False}
        await self._request("POST", "/api/chat", body)

    # ---- chat -----------------------------------------------------------

    def chat(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | str | None = None,
        keep_alive: float | str | None = None,
        format: str | JSONDict | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
    ) -> OllamaStream[ChatChunk]:
        """Stream a chat reply.

        Use as ``async with client.chat(model, messages) as chunks:`` and then
        ``async for chunk in chunks``. The connection closes when the block is
        left, for any reason; that is what stops the server generating.

        `tools` declares functions the model may call (`ChatChunk.tool_calls`);
        `logprobs`/`top_logprobs` (0-20) ask for token probabilities
        (`ChatChunk.logprobs`).
        """
        body = chat_body(
            model,
            messages,
            stream=True,
            options=options,
            think=think,
            keep_alive=keep_alive,
            format=format,
            tools=tools,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
        )
        return self._stream("/api/chat", body, parse_chat_chunk, _chunk_is_final)

    async def chat_once(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | str | None = None,
        keep_alive: float | str | None = None,
        format: str | JSONDict | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
    ) -> ChatResponse:
        """A whole chat reply in one (non-streamed) answer."""
        body = chat_body(
            model,
            messages,
            stream=False,
            options=options,
            think=think,
            keep_alive=keep_alive,
            format=format,
            tools=tools,
            logprobs=logprobs,
            top_logprobs=top_logprobs,
        )
        response = await self._request("POST", "/api/chat", body)
        data = self._json(response, "POST /api/chat")
        try:
            return ChatResponse.from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise OllamaProtocolError(
                f"{self.base_url} answered POST /api/chat with the wrong shape ({exc}).",
                host=self.base_url,
            ) from None

    # ---- pull -----------------------------------------------------------

    def pull(self, model: str, *, insecure: bool = False) -> OllamaStream[PullProgress]:
        """Stream download progress of a model (`POST /api/pull`).

        Leaving the block cancels the download; the server keeps the partial
        files and a later pull of the same model resumes.
        """
        body: JSONDict = {"model": model, "insecure": insecure, "stream": True}
        return self._stream("/api/pull", body, parse_pull_progress, _progress_is_final)

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

    # ---- model import: blobs and create ------------------------------------

    async def blob_exists(self, digest: str) -> bool:
        """Whether the server has a blob (`HEAD /api/blobs/sha256:...`)."""
        path = f"/api/blobs/{normal_digest(digest)}"
        if self._setup_error is not None:
            raise self._setup_error
        with mapped_errors(self.base_url, self.proxy):
            response = await self._http.head(path)
        if response.status_code == 404:
            return False
        if response.is_error:
            raise OllamaResponseError(
                f"HEAD {path} failed", response.status_code, host=self.base_url
            )
        return True

    async def push_blob(
        self, path: str | os.PathLike[str], progress: Progress | None = None
    ) -> str:
        """Upload a file as a blob unless the server has it; return its digest.

        The digest is computed streaming from disk in a worker thread; the
        upload (only when `HEAD` says the blob is missing) streams from disk
        in constant memory. Cancelling the task stops it at the next block
        and closes the connection. `progress` gets `BlobProgress` records.
        """
        file = Path(path)
        digest = await file_digest(file, progress)
        size = await asyncio.to_thread(os.path.getsize, file)
        if await self.blob_exists(digest):
            if progress is not None:
                progress(BlobProgress("present", size, size))
            return digest
        body = file_body(file, size, progress)
        try:
            request = self._http.build_request(
                "POST",
                f"/api/blobs/{digest}",
                content=body,
                headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
            )
            with mapped_errors(self.base_url, self.proxy):
                response = await self._http.send(request)
        finally:
            await body.aclose()
        if response.is_error:
            raise OllamaResponseError(
                error_text(response), response.status_code, host=self.base_url
            )
        return digest

    def create(
        self,
        model: str,
        *,
        files: Mapping[str, str] | None = None,
        from_: str | None = None,
        system: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        template: str | None = None,
    ) -> OllamaStream[PullProgress]:
        """Create a model (`POST /api/create`), streaming its progress.

        `files` maps file names to blob digests (upload them first with
        `push_blob`); `from_` names an existing model to build on. Use as
        ``async with client.create(...) as progress:``; the records are
        `PullProgress` (mostly `status` only) and the last says `success`.
        """
        body = create_body(
            model,
            files=files,
            from_=from_,
            system=system,
            parameters=parameters,
            template=template,
        )
        return self._stream("/api/create", body, parse_pull_progress, _progress_is_final)


def _chunk_is_final(chunk: ChatChunk) -> bool:
    return chunk.done


def _progress_is_final(progress: PullProgress) -> bool:
    return progress.status == "success"


__all__ = ["DEFAULT_TIMEOUT", "OllamaClient", "OllamaStream"]
