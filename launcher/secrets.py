"""API keys for remote hosts: in the system keyring when there is one, else for this session.

Why a class of our own around `keyring`: the launcher must know whether a key
will survive a restart (the settings dialog says so when it will not), must
never let a keyring failure crash a slot or put a key in a log line, and must
not block the Qt thread. Every method that may touch the keyring (`available`
on first use, `get` on a cache miss, `set`, `delete`, `load`) can block on
D-Bus or an unlock prompt, so callers on a user path run them with
`in_thread` (a daemon thread: quitting never waits for it); `peek` reads the
in-memory copy only and is always cheap. The store is thread-safe for that reason.

A keyring that does not answer (a locked Secret Service waiting on a password
prompt nobody sees) costs at most `timeout` seconds once: the call is left
behind in its daemon thread, the key is "not available now" (`responding` is
False), and later calls fail at once until the stuck one returns.

Keys are kept in memory once read or set (the launcher needs them for every
request to their host anyway), and never appear in `repr`, logs or exceptions
raised from here: a failure is logged with the host id and the exception's
type only, because a backend's message could quote what it was given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

SERVICE = "ollama-launcher"
#: How long one keyring call may take before the key counts as "not available now".
KEYRING_TIMEOUT = 5.0

T = TypeVar("T")

log = logging.getLogger(__name__)


def usable_backend() -> Any | None:
    """The configured keyring backend if it really persists secrets, else None.

    `keyring` always returns some backend: `fail.Keyring` (priority 0) when
    nothing is installed, `null.Keyring` (priority -1) when configured off, a
    chainer with no members (priority below 0). Only a priority above 0 means
    a backend that stores.
    """
    try:
        import keyring
        from keyring.backends import fail
        from keyring.backends.chainer import ChainerBackend

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return None
        if isinstance(backend, ChainerBackend) and not backend.backends:
            return None
        if float(backend.priority) <= 0:
            return None
    except Exception as exc:  # a broken backend must not stop the launcher
        log.warning("the system keyring cannot be used (%s)", type(exc).__name__)
        return None
    return backend


class KeyringNotAnswering(Exception):
    """The keyring did not answer within the timeout (or an earlier call is still stuck)."""


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking keyring job in a daemon thread and await its result.

    Unlike `asyncio.to_thread`, nothing joins this thread: a quit never waits for a
    keyring that hangs (the process just ends).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def run() -> None:
        try:
            result: tuple[bool, Any] = (True, fn(*args))
        except BaseException as exc:  # handed to the awaiting coroutine
            result = (False, exc)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(deliver, *result)

    threading.Thread(target=run, name="launcher-keyring", daemon=True).start()
    return await future


class SecretStore:
    """API keys per host id.

    Args:
        service: the keyring service name the keys are stored under.
        timeout: seconds one keyring call may take (see the module docstring).

    Attributes:
        available: whether keys persist (a usable keyring backend exists).
            The first access detects the backend, which may block: call it
            off the Qt thread the first time (see `probe`).
        responding: False while a keyring call is stuck past the timeout.
    """

    def __init__(self, service: str = SERVICE, timeout: float = KEYRING_TIMEOUT) -> None:
        self._service = service
        self._timeout = timeout
        self._lock = threading.RLock()
        self._resolved = False
        self._backend: Any | None = None
        self._keys: dict[str, str | None] = {}  # None: known to have no key
        self._stuck = 0  # keyring calls still running past their timeout

    @property
    def responding(self) -> bool:
        with self._lock:
            return self._stuck == 0

    def _bounded(self, fn: Callable[[], T]) -> T:
        """Run one keyring call in a daemon thread, waiting at most `timeout`.

        Raises:
            KeyringNotAnswering: it took too long, or an earlier call is still stuck.
        """
        with self._lock:
            if self._stuck:
                raise KeyringNotAnswering()
        outcome: list[tuple[bool, Any]] = []
        finished = threading.Event()

        def run() -> None:
            try:
                outcome.append((True, fn()))
            except BaseException as exc:
                outcome.append((False, exc))
            with self._lock:
                if finished.is_set():  # we had given up on it: it is no longer stuck
                    self._stuck -= 1
                finished.set()

        threading.Thread(target=run, name="launcher-keyring-call", daemon=True).start()
        if not finished.wait(self._timeout):
            with self._lock:
                if not finished.is_set():
                    finished.set()
                    self._stuck += 1
                    log.warning("the system keyring did not answer in %.0f s", self._timeout)
                    raise KeyringNotAnswering()
        ok, value = outcome[0]
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def __repr__(self) -> str:
        if not self._resolved:
            where = "unresolved"
        elif self._backend is None:
            where = "session only"
        else:
            where = type(self._backend).__name__
        held = sum(1 for key in self._keys.values() if key)
        return f"SecretStore(service={self._service!r}, backend={where}, keys_held={held})"

    def _keyring(self) -> Any | None:
        """The backend, detected on first use (bounded: a hang means "none for now")."""
        with self._lock:
            if self._resolved:
                return self._backend
        try:
            backend = self._bounded(usable_backend)
        except KeyringNotAnswering:
            return None  # not cached: it may answer later
        with self._lock:
            if not self._resolved:
                self._backend = backend
                self._resolved = True
            return self._backend

    @property
    def available(self) -> bool:
        return self._keyring() is not None

    def probe(self) -> bool:
        """Detect the backend now (blocking); same as `available`, meant for a thread."""
        return self.available

    def peek(self, host_id: str) -> str | None:
        """The key held in memory, without touching the keyring (never blocks)."""
        with self._lock:
            return self._keys.get(host_id)

    def get(self, host_id: str) -> str | None:
        """The key for a host: from memory, else from the keyring (may block)."""
        with self._lock:
            if host_id in self._keys:
                return self._keys[host_id]
        key: str | None = None
        backend = self._keyring()
        if backend is not None:
            try:
                value = self._bounded(lambda: backend.get_password(self._service, host_id))
            except KeyringNotAnswering:
                return None  # "not available now"; not cached, a later read may succeed
            except Exception as exc:
                log.warning(
                    "could not read the API key of host %s from the keyring (%s)",
                    host_id,
                    type(exc).__name__,
                )
                return None  # not cached: a later read may succeed (keyring unlocked)
            key = value if isinstance(value, str) and value else None
        with self._lock:
            self._keys.setdefault(host_id, key)
            return self._keys[host_id]

    def load(self, host_ids: Iterable[str]) -> None:
        """Read the keys of several hosts into memory (may block: run in a thread)."""
        for host_id in host_ids:
            self.get(host_id)

    def set(self, host_id: str, key: str) -> bool:
        """Keep a key; True when it was persisted in the keyring, False when it
        lives in memory only (no keyring, or the keyring refused it)."""
        if not key:
            self.delete(host_id)
            return True
        with self._lock:
            self._keys[host_id] = key
        backend = self._keyring()
        if backend is None:
            return False
        try:
            self._bounded(lambda: backend.set_password(self._service, host_id, key))
        except Exception as exc:
            log.warning(
                "could not store the API key of host %s in the keyring (%s); "
                "it is kept for this session only",
                host_id,
                type(exc).__name__,
            )
            return False
        return True

    def delete(self, host_id: str) -> None:
        """Forget a host's key, in memory and in the keyring."""
        with self._lock:
            self._keys[host_id] = None
        backend = self._keyring()
        if backend is None:
            return
        try:
            self._bounded(lambda: backend.delete_password(self._service, host_id))
        except KeyringNotAnswering:
            log.warning(
                "could not delete the API key of host %s: the keyring did not answer", host_id
            )
            return
        except Exception as exc:
            from keyring.errors import PasswordDeleteError

            if not isinstance(exc, PasswordDeleteError):  # "there was none" is fine
                log.warning(
                    "could not delete the API key of host %s from the keyring (%s)",
                    host_id,
                    type(exc).__name__,
                )
