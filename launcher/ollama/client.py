"""The asyncio Ollama API client: one pooled httpx.AsyncClient per host.

Why not the official `ollama` package: its streaming calls hand back a bare
async generator that owns the HTTP connection, so a caller that stops reading
leaves the server generating until something finalises the generator. Here a
streaming call is an `OllamaStream` (see stream.py): leaving the `async with`
block closes the connection there and then, which is how Ollama learns to
stop (it has no cancel endpoint).

How each call is sent and checked (retries, error mapping, JSON shapes) is
session.py; how a host is reached (proxy, TLS, API key) is connection.py; how
failures are worded is failures.py; the records are types.py.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .blobs import BlobProgress, Progress, file_body, file_digest, normal_digest
from .bodies import chat_body, create_body
from .connection import DEFAULT_TIMEOUT
from .errors import OllamaProtocolError, OllamaResponseError
from .failures import error_text, mapped_errors
from .session import HostSession
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


class OllamaClient(HostSession):
    """An Ollama API client bound to one host (see `HostSession` for its arguments).

    Raises (every call): OllamaConnectionError (incl. OllamaTimeoutError and
    OllamaTLSError), OllamaResponseError, OllamaProtocolError; streams also
    OllamaStreamError.
    """

    # ---- plain requests -------------------------------------------------

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
