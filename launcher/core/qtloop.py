"""The asyncio loop the app runs on: qasync's Qt event loop, with its per-read costs removed.

qasync runs asyncio on Qt's event loop. Three of its habits cost the launcher dearly
while a reply streams, because httpx (through anyio) reads one chunk per network read
and a model sends a chunk every 10-50 ms:

- every ``call_soon`` starts and kills a Qt timer (``startTimer(0)``): at least one per
  read, to wake the task that waits for it;
- every ``pause_reading``/``resume_reading`` (anyio does both around each read) destroys
  the fd's ``QSocketNotifier`` and builds a new one, with a new signal connection;
- a cancelled ``call_later`` keeps its Qt timer until the original delay has passed.
  httpx's read timeout (10 minutes) arms one per read, so a 10,000-chunk reply at model
  pace left about 9,700 live Qt timers, each holding its handle, for ten minutes: 3.3 MB
  more resident memory per such reply, and a timer list Qt walks.

Measured on 9,735 chunks paced 1 ms apart (one read each): 4.2 s of CPU and +3.3 MB with
qasync's loop, 2.9 s and +0.1 MB with this one.

`QtEventLoop` keeps qasync's behaviour (callbacks run from Qt's event loop, in order,
one pass at a time) with one queue drained by one zero timer, one notifier per fd that
is enabled and disabled instead of rebuilt, and timers killed when their handle is
cancelled. `run()` runs a coroutine on it, as ``qasync.run`` does.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, QTimerEvent

T = TypeVar("T")

Callback = Callable[..., object]


class _Timers(QObject):
    """Qt timers for asyncio handles: one per delayed handle, one for the ready queue.

    Takes the place of qasync's ``_SimpleTimer`` (the loop calls ``add_callback``,
    ``stop`` and ``set_debug`` on it)."""

    def __init__(self) -> None:
        super().__init__()
        self._delayed: dict[int, asyncio.Handle] = {}  # Qt timer id -> handle
        self._ids: dict[int, int] = {}  # id(handle) -> Qt timer id
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._ready_timer = 0  # the armed zero timer draining `_ready`, or 0
        self._stopped = False

    def add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
        if delay <= 0:
            self._ready.append(handle)
            if not self._ready_timer and not self._stopped:
                self._ready_timer = self.startTimer(0)
            return handle
        timer = self.startTimer(int(delay * 1000))
        self._delayed[timer] = handle
        self._ids[id(handle)] = timer
        return handle

    def cancelled(self, handle: asyncio.Handle) -> None:
        """End the Qt timer of a delayed handle at once (qasync left it to expire)."""
        timer = self._ids.pop(id(handle), 0)
        if timer:
            del self._delayed[timer]
            self.killTimer(timer)

    def timerEvent(self, event: QTimerEvent) -> None:
        timer = event.timerId()
        self.killTimer(timer)
        if timer == self._ready_timer:
            self._ready_timer = 0
            if not self._stopped:
                self._run_ready()
            return
        handle = self._delayed.pop(timer, None)
        if handle is None:
            return
        del self._ids[id(handle)]
        if not handle._cancelled and not self._stopped:
            handle._run()

    def _run_ready(self) -> None:
        """Run the handles that were ready when this pass began; later ones wait for the
        next pass, after Qt has looked at its other events (as qasync's timers did)."""
        ready = self._ready
        count = len(ready)
        while count and ready:  # a nested event loop (a modal dialog) may drain it first
            count -= 1
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()

    def stop(self) -> None:
        self._stopped = True
        for timer in (*self._delayed, self._ready_timer):
            if timer:
                self.killTimer(timer)
        self._delayed.clear()
        self._ids.clear()
        self._ready.clear()
        self._ready_timer = 0

    def set_debug(self, enabled: bool) -> None:
        """qasync's timer logs in debug mode; this one has nothing to add."""


class _Watch:
    """One direction of one file descriptor: its notifier, kept while the fd is open."""

    __slots__ = ("args", "callback", "notifier")

    def __init__(self, notifier: QSocketNotifier) -> None:
        self.notifier = notifier
        self.callback: Callback | None = None
        self.args: tuple[object, ...] = ()


class QtEventLoop(qasync.QEventLoop):  # type: ignore[misc]  # qasync has no type hints
    """qasync's loop, cheaper per network read and without lingering cancelled timers."""

    def __init__(self, app: QCoreApplication | None = None, **kwargs: Any) -> None:
        # Before qasync's set-up, which already watches the loop's self-pipe.
        self._watches: dict[QSocketNotifier.Type, dict[int, _Watch]] = {
            QSocketNotifier.Type.Read: {},
            QSocketNotifier.Type.Write: {},
        }
        super().__init__(app, **kwargs)
        self._timer = _Timers()  # in place of qasync's

    # ---- callbacks and timers ---------------------------------------------

    def call_soon(
        self, callback: Callback, *args: object, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context=context)
        self._timer.add_callback(handle)
        return handle

    def call_later(
        self,
        delay: float,
        callback: Callback,
        *args: object,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        # A TimerHandle tells the loop when it is cancelled (_timer_handle_cancelled).
        handle = asyncio.TimerHandle(self.time() + delay, callback, args, self, context=context)
        self._timer.add_callback(handle, delay)
        return handle

    def call_at(
        self,
        when: float,
        callback: Callback,
        *args: object,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        return self.call_later(when - self.time(), callback, *args, context=context)

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        self._timer.cancelled(handle)

    # ---- file descriptors -------------------------------------------------

    def _add_reader(self, fd: Any, callback: Callback, *args: object) -> None:
        self._watch(QSocketNotifier.Type.Read, fd, callback, args)

    def _remove_reader(self, fd: Any) -> bool:
        return self._unwatch(QSocketNotifier.Type.Read, fd)

    def _add_writer(self, fd: Any, callback: Callback, *args: object) -> None:
        self._watch(QSocketNotifier.Type.Write, fd, callback, args)

    def _remove_writer(self, fd: Any) -> bool:
        return self._unwatch(QSocketNotifier.Type.Write, fd)

    def _watch(
        self, kind: QSocketNotifier.Type, fd: Any, callback: Callback, args: tuple[object, ...]
    ) -> None:
        self._check_closed()
        number = fd if isinstance(fd, int) else int(fd.fileno())
        watches = self._watches[kind]
        watch = watches.get(number)
        if watch is None:
            notifier = QSocketNotifier(number, kind)
            watch = watches[number] = _Watch(notifier)
            notifier.activated.connect(functools.partial(self._fd_ready, watch))
        watch.callback, watch.args = callback, args
        watch.notifier.setEnabled(True)

    def _unwatch(self, kind: QSocketNotifier.Type, fd: Any) -> bool:
        if self.is_closed():
            return False
        number = fd if isinstance(fd, int) else int(fd.fileno())
        watch = self._watches[kind].get(number)
        if watch is None or watch.callback is None:
            return False
        # Kept, disabled, for the next add on this fd number: anyio pauses and resumes
        # reading around every read. (A later socket with the same number reuses it:
        # a notifier watches a number, and is registered again when enabled.)
        watch.notifier.setEnabled(False)
        watch.callback, watch.args = None, ()
        return True

    def _fd_ready(self, watch: _Watch, *_: object) -> None:
        """The fd is ready: run its callback now, as one loop callback (its errors go to
        the exception handler). Level-triggered, so it fires again while still ready."""
        callback = watch.callback
        if callback is None:  # removed after Qt saw it ready
            watch.notifier.setEnabled(False)
            return
        asyncio.Handle(callback, watch.args, self)._run()

    def run_forever(self) -> Any:
        """qasync's, with asyncio's async-generator hooks installed, as asyncio's own
        loops do (qasync does not): an async generator left suspended (httpx's body
        iterators, once a stream is closed early) is then closed by `aclose()` in a task
        of this loop, or by `shutdown_asyncgens()`, instead of being finalised by the
        garbage collector outside any task, where httpcore's clean-up cannot run
        ("Exception ignored in: <async_generator ... HTTP11ConnectionByteStream ...>")."""
        hooks = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(
            firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook
        )
        try:
            return super().run_forever()
        finally:
            sys.set_asyncgen_hooks(*hooks)

    def close(self) -> None:
        if self.is_running() or self.is_closed():
            super().close()  # raises for a running loop, as asyncio's do
            return
        for watches in self._watches.values():
            for watch in watches.values():
                watch.notifier.setEnabled(False)
                watch.callback, watch.args = None, ()
            watches.clear()
        super().close()


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to its end on a `QtEventLoop` over the existing QApplication."""
    with asyncio.Runner(loop_factory=QtEventLoop) as runner:
        return runner.run(main)
