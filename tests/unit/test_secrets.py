"""SecretStore: keys persist in a usable keyring, live for the session otherwise, never leak."""

from __future__ import annotations

import logging

import pytest
from keyring.backends import fail, null

from launcher.secrets import SERVICE, SecretStore
from tests.unit.keyring_backends import MemoryKeyring, RefusingKeyring, installed

KEY = "sk-unit-7d1e0c55a9"


def test_keys_persist_in_a_usable_keyring() -> None:
    with installed(MemoryKeyring()) as backend:
        store = SecretStore()
        assert store.available
        assert store.set("gpu", KEY) is True
        assert backend.secrets == {(SERVICE, "gpu"): KEY}  # type: ignore[attr-defined]
        # A new session reads it back from the keyring.
        assert SecretStore().get("gpu") == KEY
        store.delete("gpu")
        assert backend.secrets == {}  # type: ignore[attr-defined]
        assert store.get("gpu") is None
        assert SecretStore().get("gpu") is None
        store.delete("never-had-one")  # no error


NO_KEYRINGS = [fail.Keyring(), null.Keyring()]  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("backend", NO_KEYRINGS, ids=["fail", "null"])
def test_without_a_keyring_keys_last_the_session(backend: object) -> None:
    with installed(backend):  # type: ignore[arg-type]
        store = SecretStore()
        assert not store.available
        assert store.set("gpu", KEY) is False
        assert store.get("gpu") == KEY
        assert store.peek("gpu") == KEY
        assert SecretStore().get("gpu") is None  # gone with the session


def test_a_refusing_keyring_keeps_the_key_for_the_session_and_never_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with installed(RefusingKeyring()):
        store = SecretStore()
        assert store.available
        assert store.set("gpu", KEY) is False
        assert store.get("gpu") == KEY
    assert "could not store the API key of host gpu" in caplog.text
    assert KEY not in caplog.text


def test_repr_and_peek_hold_no_secret() -> None:
    with installed(MemoryKeyring()):
        store = SecretStore()
        assert store.peek("gpu") is None  # not loaded: peek never reads the keyring
        store.set("gpu", KEY)
        store.load(["other"])
        assert KEY not in repr(store)
        assert "keys_held=1" in repr(store)
        assert store.set("gpu", "") is True  # an empty key removes it
        assert store.get("gpu") is None
