"""A model import started before a host switch finishes on its own host, and says which."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from launcher.config import RemoteHost, Settings, save_settings
from launcher.core.explain import host_label
from launcher.core.modelimport import BuildJob
from launcher.ui.main_window import MainWindow
from launcher.ui.modelbuild_panel import describe
from tests.ollama_server import OllamaTestServer
from tests.ui.settings_helpers import choose_host
from tests.ui.test_modelbuild import choose_file, make_gguf, names, ok, opened
from tests.waiting import wait_until


@pytest.fixture
def other_server() -> Iterator[OllamaTestServer]:
    server = OllamaTestServer(version="0.13.0")
    server.add_model("qwen3")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_an_import_goes_on_on_its_host_after_a_switch_and_names_it(
    external: OllamaTestServer,
    other_server: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    tmp_path: Path,
) -> None:
    save_settings(Settings(remotes=[RemoteHost("gpu", "GPU box", other_server.url)]))
    path, digest = make_gguf(tmp_path, 4 * (1 << 20))
    window, panel = await opened(make_window)
    here = host_label(external.url)
    lines: list[str] = []

    def started(job: BuildJob) -> None:
        def changed() -> None:
            if job.stage == "uploading" and not job.elsewhere:
                choose_host(window, "GPU box")  # mid-upload, the user looks at another host
            lines.append(describe(job))  # the progress row's text, repainted from this

        job.changed.connect(changed)

    panel.builder.jobStarted.connect(started)
    dialog = await choose_file(window, path)
    dialog.name.setText("mymodel")
    ok(dialog)
    job = panel.builder.job
    assert job is not None
    await wait_until(lambda: job.outcome is not None, 10)
    assert job.outcome is not None and job.outcome.ok
    assert job.outcome.message == f"Created mymodel on {here} (not the host shown now)."
    await wait_until(lambda: panel.message.text() == job.outcome.message, 5)  # type: ignore[union-attr]
    assert any(line.startswith(f"Importing mymodel to {here}… ") for line in lines)
    # The work went to the host it started on, and nothing of it to the other one.
    assert external.blobs == {digest: path.stat().st_size}
    assert [r.body["model"] for r in external.requests_to("/api/create")] == ["mymodel"]
    assert other_server.requests_to("/api/create") == []
    assert not [r for r in other_server.requests if "/blobs/" in r.path]
    # The list shown is the other host's, unmixed: no mymodel there, none selected.
    await wait_until(lambda: names(window.models.table) == ["qwen3:latest"], 5)
    assert window.models.selected_model() != "mymodel:latest"
    # Back on the first host, the model is in its list.
    choose_host(window, "This computer")
    await wait_until(lambda: "mymodel:latest" in names(window.models.table), 5)


async def test_an_import_on_the_current_host_does_not_name_it(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    path, _digest = make_gguf(tmp_path, 1 << 20)
    window, panel = await opened(make_window)
    dialog = await choose_file(window, path)
    dialog.name.setText("plain")
    ok(dialog)
    await wait_until(lambda: panel.message.text() == "plain is imported.", 10)
    job = panel.builder.job
    assert job is not None and not job.elsewhere and job.headline() == ""
