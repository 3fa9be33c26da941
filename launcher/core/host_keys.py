"""Remote hosts' API keys read and written in a worker thread: the keyring can block on D-Bus."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from launcher.secrets import SecretStore, in_thread


async def store_keys(
    secrets: SecretStore, keys: Mapping[str, str], removed: Iterable[str]
) -> list[str]:
    """Forget the keys of `removed` hosts and store `keys` (host id -> key, "" removes it).

    Returns the ids of hosts whose key is kept for this session only (no keyring).
    """
    gone = list(removed)

    def store() -> list[str]:
        for host_id in gone:
            secrets.delete(host_id)
        return [host_id for host_id, key in keys.items() if not secrets.set(host_id, key)]

    return await in_thread(store)


async def read_keys(secrets: SecretStore, host_ids: list[str]) -> tuple[bool, dict[str, str]]:
    """Whether keys persist, and each host's key (for the settings dialog)."""

    def read() -> bool:
        # Return no key from the thread: executors may log results (qasync
        # does, at DEBUG). The keys are taken from memory below.
        secrets.load(host_ids)
        return secrets.available

    available = await in_thread(read)
    return available, {i: secrets.peek(i) or "" for i in host_ids}
