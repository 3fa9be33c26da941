"""API keys for remote hosts: in the system keyring when there is one, else for this session.

Why a class of our own around `keyring`: the launcher must know whether a key
will survive a restart (the settings dialog says so when it will not), must
never let a keyring failure crash a slot or put a key in a log line, and must
not block the Qt thread. Every method that may touch the keyring (`available`
on first use, `get` on a cache miss, `set`, `delete`, `load`) can block on
D-Bus or an unlock prompt, so callers on a user path run them in a worker
thread (`asyncio.to_thread`); `peek` reads the in-memory copy only and is
always cheap. The store is thread-safe for that reason.

Keys are kept in memory once read or set (the launcher needs them for every
request to their host anyway), and never appear in `repr`, logs or exceptions
raised from here: a failure is logged with the host id and the exception's
type only, because a backend's message could quote what it was given.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

SERVICE = "ollama-launcher"

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


class SecretStore:
    """API keys per host id.

    Args:
        service: the keyring service name the keys are stored under.

    Attributes:
        available: whether keys persist (a usable keyring backend exists).
            The first access detects the backend, which may block: call it
            off the Qt thread the first time (see `probe`).
    """

    def __init__(self, service: str = SERVICE) -> None:
        self._service = service
        self._lock = threading.RLock()
        self._resolved = False
        self._backend: Any | None = None
        self._keys: dict[str, str | None] = {}  # None: known to have no key

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
        with self._lock:
            if not self._resolved:
                self._backend = usable_backend()
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
                value = backend.get_password(self._service, host_id)
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
            backend.set_password(self._service, host_id, key)
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
            backend.delete_password(self._service, host_id)
        except Exception as exc:
            from keyring.errors import PasswordDeleteError

            if not isinstance(exc, PasswordDeleteError):  # "there was none" is fine
                log.warning(
                    "could not delete the API key of host %s from the keyring (%s)",
                    host_id,
                    type(exc).__name__,
                )
