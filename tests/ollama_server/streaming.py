"""One streamed (NDJSON, chunked) reply and its ``StreamRecord``.

Why: every stream (chat, generate, pull) must be recorded the same way — when it started,
when its first and last chunks went out, when the client hung up — so a test can assert
that closing the connection really stopped the work. The close time comes from the read
side of the connection (see ``http11``), not from a failed write.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .http11 import Exchange
from .specs import StreamRecord

StreamListener = Callable[[str, StreamRecord], None]


class StreamOut:
    """A 200 ``application/x-ndjson`` stream (headers sent with the first line), recorded."""

    def __init__(
        self,
        exchange: Exchange,
        path: str,
        model: str | None,
        records: list[StreamRecord],
        listener: StreamListener | None,
    ) -> None:
        self.exchange = exchange
        self.listener = listener
        self.record = StreamRecord(path=path, model=model, started_at=time.monotonic())
        records.append(self.record)
        exchange.on_client_close(self._client_closed)
        self._notify("started")

    def _start(self) -> None:
        # Like Go, the 200 and the headers go out with the first line, not before: a model
        # that takes seconds to load keeps the client waiting for the headers.
        if self.exchange.status is None:
            self.exchange.start_stream(200, "application/x-ndjson")

    def _notify(self, event: str) -> None:
        if self.listener is not None:
            self.listener(event, self.record)

    def _client_closed(self, at: float) -> None:
        if not self.record.finished and self.record.client_closed_at is None:
            self.record.client_closed_at = at
            self._notify("client_closed")

    @property
    def gone(self) -> bool:
        return self.exchange.gone

    def send(self, lines: list[bytes]) -> None:
        """Each line (JSON + ``\\n``) goes out as its own HTTP chunk. The record is updated
        before the bytes leave, so a client that has read them can trust the record."""
        if not lines:
            return
        record = self.record
        if self.exchange.gone:
            record.chunks_after_close += len(lines)
            return
        now = time.monotonic()
        if record.first_chunk_at is None:
            record.first_chunk_at = now
        record.last_chunk_at = now
        record.chunks_sent += len(lines)
        self._start()
        self.exchange.write_chunks(lines)

    def finish(self, last: bytes) -> None:
        """The natural end: the done / success / error line, then the terminating chunk."""
        if self.exchange.gone:
            self.send([last])  # counted as after close; never written
            return
        self.record.finished = True
        self._notify("finished")
        self.send([last])
        self.exchange.end_stream()

    def die(self) -> None:
        """Drop the connection mid-reply, without the terminating chunk."""
        self.record.aborted_by_server = True
        self._notify("aborted")
        self.exchange.abort()
