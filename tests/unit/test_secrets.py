"""SecretStore: keys persist in a usable keyring, live for the session otherwise, never leak."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

import pytest
from keyring.backends import fail, null

from launcher.config import RemoteHost, Settings, load_settings
from launcher.core.launcher import Launcher
from launcher.secrets import SERVICE, SecretStore, in_thread
from tests.unit.keyring_backends import MemoryKeyring, RefusingKeyring, installed
from tests.unit.keyring_blocking import blocking_installed

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


def test_a_keyring_that_never_answers_costs_one_timeout_then_fails_fast() -> None:
    with blocking_installed() as backend:
        backend.secrets[(SERVICE, "gpu")] = KEY
        store = SecretStore(timeout=0.2)
        try:
            assert store.available  # detecting the backend does not call it
            assert store.get("gpu") is None  # "not available now"
            assert not store.responding
            assert store.get("gpu") is None  # fails at once: no second stuck call
            assert store.set("other", "sk-other-123456789") is False  # session only
            assert store.peek("other") == "sk-other-123456789"
            assert backend.calls == 1
        finally:
            backend.release()
        deadline = time.monotonic() + 5
        while not store.responding:  # the stuck call returns once the keyring answers
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert store.get("gpu") == KEY  # not cached as missing: read again now


def test_in_thread_leaves_the_loop_free_while_the_keyring_hangs() -> None:
    async def scenario() -> tuple[str | None, int]:
        store = SecretStore(timeout=0.3)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        try:
            key = await in_thread(store.get, "gpu")
        finally:
            ticker.cancel()
        return key, ticks

    with blocking_installed():
        key, ticks = asyncio.run(scenario())
    assert key is None
    assert ticks > 3  # the loop kept running while the keyring hung


def test_the_settings_paths_keep_working_while_the_keyring_hangs(qrun: Any) -> None:
    remote = RemoteHost("gpu", "GPU box", "http://gpu.invalid:11434")
    launchers: list[Launcher] = []

    async def scenario() -> None:
        launcher = Launcher(
            Settings(remotes=[remote]), environ={}, secrets=SecretStore(timeout=0.3)
        )
        launchers.append(launcher)
        _, keys = await launcher.read_keys()
        assert keys == {"gpu": ""}  # not available now
        assert not launcher.secrets.responding
        new = Settings(remotes=[remote])
        kept = await launcher.update_settings(new, {"gpu": "sk-new-0123456789abcdef"})
        assert kept == ["GPU box"]  # for this session only, and said so
        profile = next(p for p in launcher.profiles if p.id == "gpu")
        assert launcher.api_key_for(profile) == "sk-new-0123456789abcdef"
        assert load_settings().remotes == [remote]  # the file was written anyway
        await launcher.shutdown()

    with blocking_installed():
        qrun(scenario())
    launchers.clear()
    gc.collect()  # the Qt objects go on this (GUI) thread
