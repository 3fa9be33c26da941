"""Keyring backends for tests: one that stores in memory, one that refuses.

Installing one with `keyring.set_keyring` configures the third-party library
the way a user's keyringrc would; nothing of ours is patched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A working keyring that keeps secrets in a dict (what a real one would persist)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.secrets:
            raise PasswordDeleteError("no such password")
        del self.secrets[(service, username)]


class RefusingKeyring(MemoryKeyring):
    """A keyring that is there but refuses to store, quoting what it was given
    (a careless backend): the launcher must not pass that message on."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"locked collection, could not store {password!r}")


@contextmanager
def installed(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    """Use `backend` as the keyring for the block, then restore the previous one."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
