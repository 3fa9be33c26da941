"""One long-lived Ollama client per host, rebuilt when the host's address, key or TLS changes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from launcher.config import HostProfile
from launcher.ollama import OllamaClient

log = logging.getLogger(__name__)


class HostClients:
    """The clients of every host, so a host's connection pool is reused across switches.

    A client that is replaced (its host's URL, key, proxy or TLS settings changed) or
    whose host was removed is kept aside, not closed: a download or a reply may still be
    using it. `every()` includes those, for closing them all at quit.

    Args:
        api_key: the key a host's requests carry (None: none; never another host's).
    """

    def __init__(self, api_key: Callable[[HostProfile], str | None]) -> None:
        self._api_key = api_key
        self._clients: dict[str, OllamaClient] = {}
        self._keys: dict[str, str] = {}  # the key each client was built with
        self._retired: list[OllamaClient] = []  # replaced clients: closed at quit

    def get(self, profile: HostProfile) -> OllamaClient:
        """The host's client; a new one when its URL, key, proxy or TLS settings changed."""
        key = self._api_key(profile) or ""
        client = self._clients.get(profile.id)
        reach = (profile.proxy, profile.ca_file, profile.verify_tls)
        if (
            client is None
            or client.is_closed
            or client.base_url != profile.base_url
            or self._keys.get(profile.id) != key
            or (client.reach.proxy, client.reach.ca_file, client.reach.verify_tls) != reach
        ):
            if client is not None and not client.is_closed:
                self._retired.append(client)
            # "" rather than None: no key must not fall back to OLLAMA_API_KEY.
            client = OllamaClient(
                profile.base_url,
                api_key=key,
                proxy=profile.proxy,
                ca_file=profile.ca_file,
                verify_tls=profile.verify_tls,
            )
            if not profile.verify_tls and profile.base_url.startswith("https://"):
                log.warning("Certificate checks are off for %s (verify_tls)", profile.name)
            self._clients[profile.id] = client
            self._keys[profile.id] = key
        return client

    def keep_only(self, host_ids: Iterable[str]) -> None:
        """Put aside the clients of hosts that are gone (closed at quit)."""
        kept = set(host_ids)
        for host_id in [i for i in self._clients if i not in kept]:
            self._retired.append(self._clients.pop(host_id))
            self._keys.pop(host_id, None)

    def current(self) -> list[OllamaClient]:
        """The client of each known host."""
        return list(self._clients.values())

    def every(self) -> list[OllamaClient]:
        """Every client ever made and not yet dropped: the current ones and those put aside."""
        return [*self._clients.values(), *self._retired]
