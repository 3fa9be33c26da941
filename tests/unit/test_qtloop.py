"""The app's event loop (launcher.core.qtloop): asyncio's contract on Qt's event loop,
without qasync's per-read costs (a notifier rebuilt per read, cancelled timers kept)."""

from __future__ import annotations

import asyncio
import gc
import socket
from typing import Any

from PySide6.QtCore import QAbstractEventDispatcher, QCoreApplication, QTimer

from launcher.core.qtloop import QtEventLoop, run
from launcher.ollama.client import OllamaClient
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.waiting import wait_until


def qt_timers(loop: QtEventLoop) -> int:
    """The Qt timers the loop holds registered right now."""
    dispatcher = QAbstractEventDispatcher.instance()
    assert dispatcher is not None
    return len(dispatcher.registeredTimers(loop._timer))


async def test_cancelled_timers_end_at_once(qloop: Any) -> None:
    """A 10-minute timeout that is cancelled leaves no Qt timer behind (qasync kept each
    one, and its handle, for the ten minutes)."""
    before = qt_timers(qloop)
    for _ in range(200):
        handle = qloop.call_later(600, lambda: None)
        handle.cancel()
        async with asyncio.timeout(600):  # asyncio's own: armed, then cancelled on exit
            await asyncio.sleep(0)
    assert qt_timers(qloop) <= before


async def test_a_streamed_reply_leaves_no_timers_behind(
    qloop: Any, ollama_server: OllamaTestServer
) -> None:
    """httpx arms its read timeout (10 minutes here) for every read of a stream; each is
    cancelled when the read ends. The chunks are paced so that each is a read of its own."""
    server = ollama_server
    server.reply = ReplySpec(tokens=[f"w{i} " for i in range(150)], chunk_interval=0.002)
    before = qt_timers(qloop)
    async with OllamaClient(server.url) as client:
        async with client.chat("llama3.2", [{"role": "user", "content": "hi"}]) as stream:
            text = "".join([chunk.content async for chunk in stream])
        assert text.split() == [f"w{i}" for i in range(150)]
        assert qt_timers(qloop) <= before + 2  # the pool's keep-alive at most


async def test_timers_fire_in_order_and_cancelled_ones_never(qloop: Any) -> None:
    fired: list[str] = []
    qloop.call_later(0.03, fired.append, "late")
    qloop.call_later(0.01, fired.append, "early")
    qloop.call_later(0.02, fired.append, "cancelled").cancel()
    qloop.call_at(qloop.time() + 0.015, fired.append, "at")
    await wait_until(lambda: len(fired) == 3, 5, "the timers")
    await asyncio.sleep(0.05)
    assert fired == ["early", "at", "late"]


async def test_soon_callbacks_run_in_order_and_never_starve_qt(qloop: Any) -> None:
    """call_soon runs in FIFO order; a callback that keeps rescheduling itself still lets
    Qt's own events (here a zero timer) through between passes."""
    order: list[int] = []
    for i in range(5):
        qloop.call_soon(order.append, i)
    skipped = qloop.call_soon(order.append, 99)
    skipped.cancel()
    spins = 0
    qt_ran = asyncio.Event()

    def spin() -> None:
        nonlocal spins
        spins += 1
        if not qt_ran.is_set():
            qloop.call_soon(spin)

    qloop.call_soon(spin)
    QTimer.singleShot(0, qt_ran.set)
    await asyncio.wait_for(qt_ran.wait(), 5)
    assert order == [0, 1, 2, 3, 4]
    assert spins >= 1


async def test_a_nested_event_loop_in_a_callback_runs_every_handle_once(qloop: Any) -> None:
    """A callback that runs Qt's event loop itself (a modal dialog opened from a signal
    handler does) drains the queue from inside; the outer pass then finds it emptier."""
    ran: list[str] = []

    def nested() -> None:
        qloop.call_soon(ran.append, "queued inside")
        QCoreApplication.processEvents()
        ran.append("nested done")

    qloop.call_soon(nested)
    qloop.call_soon(ran.append, "after")
    await wait_until(lambda: len(ran) == 3, 5, "every callback")
    await asyncio.sleep(0.02)  # and none twice
    assert sorted(ran) == ["after", "nested done", "queued inside"]


async def test_readers_follow_add_remove_and_reused_descriptors(qloop: Any) -> None:
    """A reader is called while its fd is readable, never after it is removed, and a new
    socket that gets a closed one's number is watched as itself."""
    for round_ in range(3):  # closed pairs free their numbers for the next round
        await _read_add_remove(qloop, b"one %d" % round_)


async def _read_add_remove(qloop: Any, first: bytes) -> None:
    left, right = socket.socketpair()
    left.setblocking(False)
    got: list[bytes] = []
    try:
        qloop.add_reader(left.fileno(), lambda: got.append(left.recv(100)))
        right.send(first)
        await wait_until(lambda: got == [first], 5, "the first read")
        assert qloop.remove_reader(left.fileno())
        assert not qloop.remove_reader(left.fileno())  # already removed
        right.send(b"unread")
        await asyncio.sleep(0.02)  # a chance to be called wrongly
        assert got == [first]
        qloop.add_reader(left.fileno(), lambda: got.append(left.recv(100)))
        await wait_until(lambda: len(got) == 2, 5, "the read after adding again")
        assert got[1] == b"unread"
        qloop.remove_reader(left.fileno())
    finally:
        left.close()
        right.close()


async def test_asyncio_streams_over_many_connections(qloop: Any) -> None:
    """Open, echo and close connections one after another (each reuses the numbers the
    previous one freed) and several at once."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(100):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def talk(word: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(word)
        await writer.drain()
        answer = await reader.readexactly(len(word))
        writer.close()
        await writer.wait_closed()
        return answer

    try:
        for i in range(20):
            assert await talk(b"hello %d" % i) == b"hello %d" % i
        words = [b"at once %d" % i for i in range(10)]
        assert await asyncio.gather(*(talk(w) for w in words)) == words
    finally:
        server.close()
        await server.wait_closed()


async def test_an_abandoned_async_generator_is_closed_in_a_task(qloop: Any) -> None:
    """httpx leaves its body iterators suspended when a stream is closed early; their
    clean-up awaits (httpcore's shielded close). Left to the garbage collector without
    the loop's hooks, that clean-up ran outside any task and failed."""
    cleaned: list[bool] = []

    async def body() -> Any:
        try:
            yield 1
            yield 2
        finally:
            await asyncio.sleep(0)  # clean-up that awaits
            cleaned.append(asyncio.current_task() is not None)

    iterator = body()
    assert await iterator.__anext__() == 1
    del iterator  # suspended at its first yield, and dropped
    gc.collect()
    await wait_until(lambda: cleaned, 5, "the generator's clean-up")
    assert cleaned == [True]


def test_the_loop_closes_what_is_left_of_its_async_generators_at_the_end(qapp: Any) -> None:
    cleaned: list[str] = []

    async def body() -> Any:
        try:
            yield 1
        finally:
            await asyncio.sleep(0)
            cleaned.append("closed")

    kept: list[Any] = []

    async def main() -> None:
        iterator = body()
        await iterator.__anext__()
        kept.append(iterator)  # still referenced when the loop ends

    run(main())  # asyncio.Runner: shutdown_asyncgens() before the loop closes
    assert cleaned == ["closed"]


def test_a_closed_loop_lets_go_of_its_descriptors(qapp: Any) -> None:
    loop = QtEventLoop(qapp)
    left, right = socket.socketpair()
    try:
        loop.add_reader(left.fileno(), lambda: None)
        loop.close()
        assert loop.is_closed()
        assert not loop.remove_reader(left.fileno())
    finally:
        left.close()
        right.close()
