"""What the model lists remember: the last known models of each host, and saved pulls that
go back to the host they were queued for."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from launcher.core.downloads import DownloadManager, JobState, SavedPull
from launcher.core.models import HOST_UNREACHABLE, SERVER_STOPPED, ModelCatalog
from launcher.core.pullqueue import QueueFile
from launcher.ollama import OllamaClient
from tests.conftest import free_port
from tests.ollama_server import OllamaTestServer
from tests.waiting import wait_until


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """Collect this test's Qt objects on this thread, never on a test server's."""
    yield
    gc.collect()


async def test_catalog_keeps_each_hosts_last_list(
    ollama_server: OllamaTestServer, qloop: Any
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with OllamaClient(ollama_server.url) as live, OllamaClient(dead) as gone:
        catalog = ModelCatalog(live, host_id="a")
        stale: list[str] = []
        catalog.staleChanged.connect(stale.append)
        await catalog.refresh()
        assert catalog.names() == ["llama3.2:latest"] and catalog.stale == ""
        # Another host that has never answered: nothing known, and it says why.
        catalog.client, catalog.host_id = gone, "b"
        catalog.clear()
        assert catalog.names() == []
        await catalog.refresh()
        assert catalog.stale == SERVER_STOPPED  # a loopback host: our own server is stopped
        # Back to the first host: its list is there at once, before it answers again.
        catalog.client, catalog.host_id = live, "a"
        catalog.clear()
        assert catalog.names() == ["llama3.2:latest"]
        # The server stops: the list stays, marked.
        ollama_server.stop()
        await catalog.refresh()
        assert catalog.names() == ["llama3.2:latest"]
        assert catalog.stale == SERVER_STOPPED
        assert stale == [SERVER_STOPPED, "", SERVER_STOPPED]
    assert HOST_UNREACHABLE == "host unreachable"


async def test_saved_pulls_resume_on_the_host_they_were_queued_for(
    ollama_server: OllamaTestServer, qloop: Any, tmp_path: Path
) -> None:
    other = OllamaTestServer()
    other.add_pull("far-model", size=2_000_000, interval=0.01)
    other.start()
    ollama_server.add_pull("near-model", size=2_000_000, interval=0.01)
    queue = tmp_path / "downloads.json"
    await QueueFile(queue).save(
        [SavedPull("near-model", "local"), SavedPull("far-model", "remote", update=False)]
    )
    try:
        async with OllamaClient(ollama_server.url) as near, OllamaClient(other.url) as far:
            manager = DownloadManager(
                near,
                host_id="local",
                client_for_host=lambda host: far if host == "remote" else None,
                queue_file=queue,
            )
            offered: list[list[SavedPull]] = []
            manager.resumable.connect(offered.append)
            await manager.restore()
            assert [p.model for p in offered[0]] == ["near-model", "far-model"]
            jobs = manager.resume_saved()
            await wait_until(lambda: all(j.state is JobState.DONE for j in jobs), 10)
            assert [r.body["model"] for r in ollama_server.requests_to("/api/pull")] == [
                "near-model"
            ]
            assert [r.body["model"] for r in other.requests_to("/api/pull")] == ["far-model"]
            # Done: nothing is left to offer at the next start.
            await manager.aclose()
            assert await QueueFile(queue).load() == []
    finally:
        other.stop()
