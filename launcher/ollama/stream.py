"""A streamed request whose connection lives exactly as long as its `async with` block.

This is the invariant the Stop button rests on: Ollama has no cancel endpoint,
so closing the connection is the only way to stop a generation or a download.
`OllamaStream.__aexit__` closes the response whatever the reason for leaving
(end, break, exception, task cancellation, even while waiting for the first
byte), and httpx then closes the socket rather than pooling it: a connection
whose reply was not read to its end is never reused. `abort()` hangs up at
once, synchronously, for a Stop clicked in a window (its task only unwinds at
the event loop's next turn).

The body is read with httpx's own `aiter_raw()` (`aiter_bytes()` when the
reply is content-encoded, e.g. gzip through a proxy) and split into NDJSON
lines with one `bytes.split` per block and one JSON decode per line (orjson,
straight from the bytes; the standard library only for a line orjson refuses).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import httpx
import orjson

from .errors import OllamaProtocolError, OllamaResponseError, OllamaStreamError
from .failures import error_text, mapped_error, mapped_errors
from .types import JSONDict

T = TypeVar("T")

#: A burst that arrives already buffered is read without ever suspending;
#: without a turn of the event loop now and then, a fast server's whole reply
#: would be parsed (and consumed) in one go and the app's event loop (its UI)
#: would stall for its length. So every CHECK_EVERY records the clock is read,
#: and after YIELD_SECONDS without a turn, one is taken: the stall this loop and
#: its consumer can cause stays near YIELD_SECONDS whatever the consumer costs.
CHECK_EVERY = 16
YIELD_SECONDS = 0.002

RequestFactory = Callable[[], httpx.Request]


class OllamaStream(Generic[T]):
    """An async context manager for one streamed request.

    Its value is an async iterator of parsed records. The connection lives
    exactly as long as the `async with` block.

    Args:
        http: the host's client (its pool, proxy, TLS and auth).
        request: builds the request (called once, on entry).
        parse: one decoded line -> one record.
        is_final: whether a record is the last one of the stream.
        host: the base URL, for error messages.
        proxy: the proxy on the way, if any, for error messages.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        request: RequestFactory,
        parse: Callable[[JSONDict], T],
        is_final: Callable[[T], bool],
        host: str,
        proxy: str | None = None,
    ) -> None:
        self._http = http
        self._proxy = proxy
        self._request = request
        self._parse = parse
        self._is_final = is_final
        self._host = host
        self._response: httpx.Response | None = None
        self._lines: LineIterator[T] | None = None

    async def __aenter__(self) -> AsyncIterator[T]:
        request = self._request()
        with mapped_errors(self._host, self._proxy):
            # A cancellation here (no byte of the reply yet) makes httpcore close
            # the connection, shielded, before the CancelledError goes on.
            response = await self._http.send(request, stream=True)
        try:
            await self._check(response, request.url.path)
        except BaseException:
            await response.aclose()
            raise
        self._response = response
        self._lines = LineIterator(response, self._parse, self._is_final, self._host)
        return self._lines

    async def _check(self, response: httpx.Response, path: str) -> None:
        """Raise for an error status or a body that cannot be Ollama's stream."""
        if response.is_error:
            with mapped_errors(self._host):
                await response.aread()
            raise OllamaResponseError(error_text(response), response.status_code, host=self._host)
        if response.headers.get("content-type", "").startswith("text/html"):
            raise OllamaProtocolError(
                f"{self._host} answered {path} with a web page, not Ollama's stream: "
                "is another service using this port?",
                host=self._host,
            )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def abort(self) -> None:
        """Hang up now, synchronously: the server sees the connection end at once.

        For a Stop clicked in a window: the cancelled task only unwinds at the
        event loop's next turn, after the window has repainted (a few ms). This
        shuts the socket down in the click itself; the task, cancelled next,
        still leaves the `async with`, which closes and discards the connection
        as always. A stream read on after `abort()` fails (connection closed).
        Before the reply's status line there is no socket to reach: cancelling
        the task closes that connection.
        """
        response = self._response
        if response is None:
            return
        network = response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by the server
                sock.shutdown(socket.SHUT_RDWR)

    async def aclose(self) -> None:
        """Close the connection now (idempotent)."""
        response, self._response = self._response, None
        lines, self._lines = self._lines, None
        if response is not None:
            await response.aclose()  # first: this is what the server is waiting for
        if lines is not None:
            await lines.aclose()


class LineIterator(Generic[T]):
    """Splits a streamed body into NDJSON lines and parses each into a record.

    The work is one async generator (`_records`); `async for` iterates it
    directly, so a record costs one generator step. An `{"error": ...}` line
    raises OllamaStreamError; a line that is not a JSON object, or of the
    wrong shape, raises OllamaProtocolError; so does a body that ends before
    its final record. The generator never owns the connection: `OllamaStream`
    closes the response, whatever state the generator is left in.
    """

    def __init__(
        self,
        response: httpx.Response,
        parse: Callable[[JSONDict], T],
        is_final: Callable[[T], bool],
        host: str,
    ) -> None:
        if "content-encoding" in response.headers:
            blocks = response.aiter_bytes()  # decoded (gzip, deflate, ...)
        else:
            blocks = response.aiter_raw()  # Ollama does not compress: skip the decoder
        # httpx's iterators are async generators (typed as iterators): closable.
        self._blocks = cast(AsyncGenerator[bytes, None], blocks)
        self._gen = _records(self._blocks, parse, is_final, host)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._gen

    def __anext__(self) -> Awaitable[T]:
        return self._gen.__anext__()

    async def aclose(self) -> None:
        """Finalise the generators now rather than whenever they are collected.

        A no-op for a generator that is running in another task (its read
        fails soon anyway, the connection being closed).
        """
        with contextlib.suppress(RuntimeError, httpx.HTTPError):
            await self._gen.aclose()
        with contextlib.suppress(RuntimeError, httpx.HTTPError):
            await self._blocks.aclose()


async def _records(
    blocks: AsyncIterator[bytes],
    parse: Callable[[JSONDict], T],
    is_final: Callable[[T], bool],
    host: str,
) -> AsyncGenerator[T, None]:
    fetch = blocks.__anext__
    loads = orjson.loads
    tail = b""
    eof = False
    budget = CHECK_EVERY
    clock = time.monotonic
    turned = clock()
    while not eof:
        try:
            block = await fetch()
        except StopAsyncIteration:
            eof = True
            block = b"\n"  # flushes a last line sent without its newline
        except httpx.HTTPError as exc:
            raise mapped_error(exc, host) from None
        lines = (tail + block).split(b"\n") if tail else block.split(b"\n")
        tail = lines.pop()
        for line in lines:
            try:
                data = loads(line)
            except ValueError:  # orjson.JSONDecodeError
                data = _decode_slowly(line, host)  # blank, or not JSON for orjson
                if data is None:
                    continue
            if type(data) is not dict:
                raise OllamaProtocolError(
                    f"Ollama at {host} sent a line that is not a JSON object: {line[:80]!r}",
                    host=host,
                )
            if "error" in data:
                raise OllamaStreamError(str(data["error"]), host=host)
            try:
                record = parse(data)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise OllamaProtocolError(
                    f"Ollama at {host} sent a line of the wrong shape ({exc}): {line[:80]!r}",
                    host=host,
                ) from None
            yield record
            if is_final(record):
                return
        budget -= len(lines)
        if budget <= 0:
            budget = CHECK_EVERY
            now = clock()
            if now - turned >= YIELD_SECONDS:
                await asyncio.sleep(0)
                turned = clock()
    raise OllamaProtocolError(
        f"The reply from Ollama at {host} ended before it was complete.", host=host
    )


def _decode_slowly(line: bytes, host: str) -> Any:
    """The fast path's fallback: None for a blank line, else `json.loads` or an error.

    The standard library also takes what orjson refuses and Ollama (Go) never
    writes: NaN, Infinity, lone surrogate escapes.
    """
    if not line.strip():
        return None
    try:
        return json.loads(line)
    except ValueError:
        raise OllamaProtocolError(
            f"Ollama at {host} sent a line that is not JSON: {line[:80]!r}", host=host
        ) from None


__all__ = ["LineIterator", "OllamaStream"]
