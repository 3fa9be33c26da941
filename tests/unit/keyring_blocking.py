"""A keyring backend that never answers until released: a locked Secret Service waiting on a
password prompt nobody sees. Installed with `blocking_installed()`, or in a child process with
``PYTHON_KEYRING_BACKEND=tests.unit.keyring_blocking.BlockingKeyring`` (then each call is
noted in the file named by ``BLOCKING_KEYRING_MARK``); nothing of ours is patched.

`keyring` offers every loaded backend class to its auto-detection, so this one says it is
not viable unless armed: otherwise a later test's default keyring would include it and hang.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from keyring.compat import properties

from tests.unit.keyring_backends import MemoryKeyring, installed


class BlockingKeyring(MemoryKeyring):
    """Every call waits until `release()`; `calls` counts the calls that started."""

    armed = bool(os.environ.get("BLOCKING_KEYRING_MARK"))

    @properties.classproperty
    def priority(cls) -> int:
        if not cls.armed:
            raise RuntimeError("only used when installed on purpose")
        return 1

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.calls = 0

    def _wait(self) -> None:
        self.calls += 1
        mark = os.environ.get("BLOCKING_KEYRING_MARK")
        if mark:
            with open(mark, "a") as handle:
                handle.write("called\n")
        self.gate.wait()

    def release(self) -> None:
        self.gate.set()

    def get_password(self, service: str, username: str) -> str | None:
        self._wait()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._wait()
        super().delete_password(service, username)


@contextmanager
def blocking_installed() -> Iterator[BlockingKeyring]:
    """A BlockingKeyring as the keyring for the block; released and disarmed after it."""
    backend = BlockingKeyring()
    with installed(backend):
        BlockingKeyring.armed = True
        try:
            yield backend
        finally:
            BlockingKeyring.armed = False
            backend.release()
