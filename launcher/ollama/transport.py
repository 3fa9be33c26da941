"""An httpx transport that reads Ollama's streams straight off an asyncio socket.

Why it exists: Ollama flushes one HTTP chunk per NDJSON line, and httpx's own
stack (httpcore + h11) turns every chunk into several event objects and
generator hops. On a fast stream that machinery alone costs more than parsing
the JSON does. Streams marked with ``request.extensions["ollama_stream"]`` are
therefore sent over a plain ``asyncio.open_connection`` and their body is
handed up in large blocks, the chunked framing stripped in bulk. Everything
else (plain requests, https) goes through a normal pooled
``httpx.AsyncHTTPTransport``.

Why streams are not pooled: Ollama has no cancel endpoint; closing the
connection is the only way to stop a generation or a download. A stream owns
its connection, and closing the response closes the socket at once.

Errors are raised as httpx exceptions (with ``request=``), so callers map them
exactly as they map errors from httpx's own transport.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

READ_SIZE = 1 << 16
HEAD_LIMIT = 4 * READ_SIZE  # the most bytes of status line + headers we accept
MAX_SIZE_LINE = 1024  # a chunk-size line with its extensions
INCOMPLETE = "peer closed connection without sending complete message body"


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    value = request.extensions.get("timeout")
    return value if isinstance(value, dict) else {}


class _SocketStream(httpx.AsyncByteStream):
    """The body of one streamed response, read from a connection it owns.

    Yields blocks of up to ``READ_SIZE`` bytes of body (chunk framing removed).
    ``aclose()`` aborts the connection, so the server sees the hang-up at once.
    """

    def __init__(
        self,
        request: httpx.Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        framing: str,
        length: int,
    ) -> None:
        self._request = request
        self._reader = reader
        self._writer = writer
        self._framing = framing  # "chunked", "length", "eof" (read to EOF) or "none"
        self._length = length
        self._read_timeout = _timeouts(request).get("read")

    async def _read(self, size: int = READ_SIZE) -> bytes:
        """Up to ``size`` bytes from the socket; b"" at EOF. Raises httpx read errors."""
        try:
            if self._read_timeout is None:
                return await self._reader.read(size)
            async with asyncio.timeout(self._read_timeout):
                return await self._reader.read(size)
        except OSError as exc:  # TimeoutError included
            raise _read_error(exc, self._request) from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._framing == "chunked":
            async for block in self._chunked():
                yield block
            return
        remaining = self._length if self._framing == "length" else -1
        while self._framing != "none" and remaining != 0:
            data = await self._read(READ_SIZE if remaining < 0 else min(READ_SIZE, remaining))
            if not data:
                if remaining > 0:
                    raise httpx.RemoteProtocolError(
                        f"{INCOMPLETE}: {remaining} bytes missing", request=self._request
                    )
                break
            if remaining > 0:
                remaining -= len(data)
            yield data
        self._close()

    async def _chunked(self) -> AsyncIterator[bytes]:
        """Strip chunked framing from whole blocks: one pass per block, not per chunk.

        State between blocks: ``remaining`` bytes of chunk data still to come,
        ``crlf`` when the CRLF after a chunk's data is still to come, and the
        unparsed tail of the last block (a size line or trailer split across reads).
        """
        request, protocol_error = self._request, httpx.RemoteProtocolError
        data, remaining, crlf, trailers = b"", 0, False, False
        while True:
            pieces: list[bytes] = []
            pos, end = 0, len(data)
            while pos < end:
                if remaining:
                    take = min(remaining, end - pos)
                    pieces.append(data[pos : pos + take])
                    pos += take
                    remaining -= take
                    if remaining:
                        break
                    crlf = True
                if crlf:
                    if end - pos < 2:
                        break
                    if data[pos : pos + 2] != b"\r\n":
                        raise protocol_error("chunk data not followed by CRLF", request=request)
                    pos += 2
                    crlf = False
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    if end - pos > MAX_SIZE_LINE:
                        raise protocol_error("chunk size line too long", request=request)
                    break
                line, pos = data[pos:eol], eol + 2
                if trailers:  # skip trailer fields up to the blank line
                    if not line:
                        if pieces:
                            yield b"".join(pieces)
                        self._close()
                        return
                    continue
                try:
                    size = int(line.split(b";", 1)[0], 16)
                except ValueError:
                    size = -1
                if size < 0:
                    raise protocol_error(f"bad chunk size line {line[:40]!r}", request=request)
                remaining = size
                trailers = size == 0
            if pieces:
                yield b"".join(pieces)  # a single piece is returned as is, not copied
            block = await self._read()
            if not block:
                raise protocol_error(f"{INCOMPLETE}: incomplete chunked read", request=request)
            data = data[pos:] + block if pos < end else block

    def _close(self) -> None:
        self._writer.transport.abort()

    async def aclose(self) -> None:
        """Drop the connection now (idempotent).

        ``abort()`` rather than ``close()``: close would first wait to flush
        unsent bytes; the server must learn of the hang-up immediately.
        """
        self._close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


class OllamaTransport(httpx.AsyncBaseTransport):
    """Pooled httpx transport for plain requests, own sockets for marked streams.

    Args:
        inner: the transport for everything but plain-http streams; by
            default a fresh ``httpx.AsyncHTTPTransport()``.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.extensions.get("ollama_stream") and request.url.scheme == "http":
            return await self._stream(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _stream(self, request: httpx.Request) -> httpx.Response:
        timeouts = _timeouts(request)
        host, port = request.url.host, request.url.port or 80
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(host, port, limit=HEAD_LIMIT)
        except TimeoutError:
            raise httpx.ConnectTimeout("timed out connecting", request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from None
        try:
            await self._send(request, writer, timeouts.get("write"))
            return await self._receive(request, reader, writer, timeouts.get("read"))
        except BaseException:
            writer.transport.abort()
            raise

    @staticmethod
    async def _send(
        request: httpx.Request, writer: asyncio.StreamWriter, timeout: float | None
    ) -> None:
        body = await request.aread()
        target = request.url.raw_path.decode("ascii")
        lines = [f"{request.method} {target} HTTP/1.1".encode()]
        for name, value in request.headers.raw:
            # The body goes whole (never chunked), and the connection dies with the reply.
            if name.lower() not in (b"connection", b"content-length", b"transfer-encoding"):
                lines.append(name + b": " + value)
        if body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d" % len(body))
        lines.append(b"Connection: close")
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        try:
            async with asyncio.timeout(timeout):
                await writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("timed out sending the request", request=request) from None
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from None

    @staticmethod
    async def _receive(
        request: httpx.Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        timeout: float | None,
    ) -> httpx.Response:
        while True:
            try:
                async with asyncio.timeout(timeout):
                    head = await reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                raise _read_error(exc, request) from None
            status, reason, headers = _parse_head(head, request)
            if not 100 <= status < 200 or status == 101:
                break  # 1xx interim replies (100 Continue) are skipped
        response_headers = httpx.Headers(headers)
        encoding = response_headers.get("transfer-encoding", "").lower()
        length = response_headers.get("content-length")
        framing, size = "eof", 0
        if request.method == "HEAD" or status in (204, 304):
            framing = "none"
        elif "chunked" in encoding:
            framing = "chunked"
        elif length is not None:
            if not length.strip().isdigit():
                raise httpx.RemoteProtocolError(f"bad Content-Length {length!r}", request=request)
            framing, size = "length", int(length)
        stream = _SocketStream(request, reader, writer, framing, size)
        return httpx.Response(
            status,
            headers=headers,
            stream=stream,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )


def _read_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for a failed read (the client maps httpx errors only)."""
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout("timed out waiting for the reply", request=request)
    if isinstance(exc, asyncio.IncompleteReadError):
        message = "server disconnected without sending a response"
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, asyncio.LimitOverrunError):
        return httpx.RemoteProtocolError("response head too long", request=request)
    return httpx.ReadError(str(exc) or type(exc).__name__, request=request)


def _parse_head(
    head: bytes, request: httpx.Request
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """Status code, reason and raw header pairs of an HTTP/1.x response head."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError(f"bad status line {lines[0][:60]!r}", request=request)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise httpx.RemoteProtocolError(f"bad header line {line[:60]!r}", request=request)
        headers.append((name, value.strip()))
    return int(parts[1]), parts[2] if len(parts) > 2 else b"", headers


__all__ = ["OllamaTransport"]
