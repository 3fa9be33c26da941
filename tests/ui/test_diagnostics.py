"""The Diagnostics panel through the real window: our server, an external one, a taken port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from launcher.ui.diagnostics_view import DiagnosticsPanel, open_diagnostics
from launcher.ui.main_window import MainWindow
from tests.conftest import REPO, free_port
from tests.ollama_server import OllamaTestServer
from tests.ollama_server.foreign import foreign_process
from tests.ui.helpers import control, status_of
from tests.waiting import wait_until

GPU_A = (
    'time=2025-10-26T17:15:21.5Z level=INFO source=types.go:130 msg="inference compute" '
    "id=GPU-452cac9f-6960-839c-4fb3-0cec83699196 library=cuda variant=v12 compute=6.1 "
    'driver=12.7 name="NVIDIA GeForce GT 1030" total="3.9 GiB" available="3.9 GiB"'
)
GPU_B = (
    'time=2025-10-26T17:15:21.5Z level=INFO source=types.go:130 msg="inference compute" '
    'id=GPU-0d4e1a7c-1111-2222-3333-444455556666 library=rocm variant="" compute=gfx1100 '
    'driver=6.2 name="AMD Radeon RX 7900 XTX" total="24.0 GiB" available="23.1 GiB"'
)


def config_line(port: int, context: str = "8192") -> str:
    return (
        'time=2025-10-26T17:15:20.1Z level=INFO source=routes.go:1475 msg="server config" '
        f'env="map[CUDA_VISIBLE_DEVICES: HTTPS_PROXY: OLLAMA_CONTEXT_LENGTH:{context} '
        "OLLAMA_FLASH_ATTENTION:false OLLAMA_HOST:http://127.0.0.1:"
        f"{port} OLLAMA_KEEP_ALIVE:5m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_NOPRUNE:true "
        'OLLAMA_NUM_PARALLEL:0 OLLAMA_ORIGINS:[http://localhost app://*]]"'
    )


def all_text(widget: QWidget) -> str:
    """The text of a widget and its descendants, as a screen reader would find it."""
    parts = [w.text() for w in widget.findChildren(QLabel) if w.isVisibleTo(widget)]
    return "\n".join(parts)


def shown(window: MainWindow, name: str) -> list[Any]:
    """Descendants with this accessible name that are not hidden (the window itself may be)."""
    return [
        w
        for w in window.findChildren(QWidget)
        if w.accessibleName() == name and w.isVisibleTo(window.diagnostics)
    ]


async def started(window: MainWindow) -> None:
    await wait_until(lambda: control(window, "Start server").isEnabled(), 10)
    control(window, "Start server").click()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)


async def test_our_server_shows_each_gpu_and_the_effective_context_length(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    info = fake_ollama()
    window = make_window()
    await started(window)
    panel = control(window, "Diagnostics")
    # The lines the real server prints (the fake binary may not print GPUs yet).
    window.launcher.log.append(config_line(info["port"], "8192"))
    window.launcher.log.append(
        "time=2025-10-26T17:15:20.2Z level=INFO source=routes.go:1528 "
        f'msg="Listening on 127.0.0.1:{info["port"]} (version 0.12.3)"'
    )
    window.launcher.log.append(GPU_A)
    window.launcher.log.append(GPU_B)
    await wait_until(lambda: "AMD Radeon RX 7900 XTX" in all_text(panel), 5)
    text = all_text(panel)
    assert "NVIDIA GeForce GT 1030" in text and "3.9 GiB total" in text
    assert "rocm" in text and "23.1 GiB free" in text
    assert "OLLAMA_CONTEXT_LENGTH=8192" in control(window, "Diagnostics server").text()
    assert control(window, "Value of OLLAMA_CONTEXT_LENGTH").text() == "8192"
    assert "Ollama 0.12.3" in text and "started by the launcher" in text
    assert not shown(window, "Restart server to apply")


async def test_cpu_only_with_the_reason(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    info = fake_ollama()
    window = make_window()
    await started(window)
    panel = control(window, "Diagnostics")
    window.launcher.log.append(config_line(info["port"]))
    window.launcher.log.append(
        'level=INFO source=gpu.go:377 msg="no compatible GPUs were discovered"'
    )
    window.launcher.log.append(
        'level=INFO source=types.go:131 msg="inference compute" id=0 library=cpu variant="" '
        'compute="" driver=0.0 name="" total="31.3 GiB" available="30.4 GiB"'
    )
    await wait_until(lambda: "CPU only" in all_text(panel), 5)
    assert "no compatible GPUs were discovered" in all_text(panel)


async def test_a_setting_that_differs_from_our_request_is_highlighted_and_restart_applies(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    info = fake_ollama()
    window = make_window()
    launcher = window.launcher
    settings = launcher.settings
    settings.local.tuning = {"OLLAMA_CONTEXT_LENGTH": "16384"}
    launcher.apply_settings(settings)
    await started(window)
    first_pid = launcher.supervisor.pid
    launcher.log.append(config_line(info["port"], "4096"))
    await wait_until(lambda: shown(window, "Asked for OLLAMA_CONTEXT_LENGTH"), 5)
    assert "asked for 16384" in shown(window, "Asked for OLLAMA_CONTEXT_LENGTH")[0].text()
    assert shown(window, "Value of OLLAMA_CONTEXT_LENGTH")[0].text() == "4096"
    (restart,) = shown(window, "Restart server to apply")
    restart.click()  # nothing runs: no question, a restart
    await wait_until(
        lambda: (
            launcher.supervisor.pid not in (None, first_pid)
            and status_of(window).startswith("Running")
        ),
        15,
    )


async def test_restart_asks_first_while_a_reply_is_written(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama({"reply": {"text": "word " * 400, "chunk_interval": 0.05}})
    window = make_window()
    launcher = window.launcher
    await started(window)
    pid = launcher.supervisor.pid
    await wait_until(lambda: window.chat.model_combo.count() > 0, 5)
    window.chat.message.setPlainText("Tell me a long story")
    window.chat.send_button.click()
    await wait_until(lambda: launcher.chat.busy, 5)
    panel = window.diagnostics
    panel.restart_to_apply()
    box = panel.question
    assert isinstance(box, QMessageBox) and "reply is being written" in box.text()
    assert control(box, "Restart server to apply") and control(box, "Not now")
    box.button(QMessageBox.StandardButton.No).click()
    await wait_until(lambda: panel.question is None, 5)
    assert launcher.supervisor.pid == pid and launcher.chat.busy  # untouched
    launcher.chat.stop()


async def test_external_server_shows_what_its_api_tells(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    client = window.launcher.client_for(window.launcher.profile)
    await client.chat_once("llama3.2", [{"role": "user", "content": "hi"}])  # loads it
    panel = control(window, "Diagnostics")
    control(window, "Refresh diagnostics").click()
    await wait_until(lambda: "llama3.2" in control(window, "Server API").text(), 5)
    text = all_text(panel)
    assert "version 0.12.3" in text and "not started by the launcher" in text
    assert "/api/ps" in text


async def test_copy_diagnostics_has_the_version_and_never_a_key(
    external: OllamaTestServer,
    make_window: Callable[[], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "sk-test-key-5b0e9c1d2f"
    monkeypatch.setenv("OLLAMA_API_KEY", key)
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    window.launcher.log.append(f"[proxy] Authorization: Bearer {key}")
    window.launcher.log.append(f"something logged the key {key} by mistake")
    control(window, "Refresh diagnostics").click()
    await wait_until(lambda: "0.12.3" in control(window, "Diagnostics server").text(), 5)
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    control(window, "Copy diagnostics").click()
    text = clipboard.text()
    assert "Ollama version: 0.12.3" in text
    assert f"Host: {external.url}" in text or f"127.0.0.1:{external.port}" in text
    assert "Python: " in text and "Qt: " in text and "OS: " in text
    assert key not in text and "[redacted]" in text
    assert "copied" in control(window, "Diagnostics message").text()


async def test_save_diagnostics_writes_the_file_or_says_why_not(
    external: OllamaTestServer, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    panel = window.diagnostics
    target = tmp_path / "diag.txt"
    await panel.save_to(target)
    assert "Ollama version: 0.12.3" in await asyncio.to_thread(target.read_text)
    assert str(target) in control(window, "Diagnostics message").text()
    await panel.save_to(tmp_path / "missing" / "diag.txt")
    message = control(window, "Diagnostics message").text()
    assert "could not" in message and "Errno" not in message


async def test_a_taken_port_names_the_process_holding_it(
    make_window: Callable[[], MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    with foreign_process(port) as proc:
        window = make_window()
        await wait_until(lambda: status_of(window).startswith("Port in use"), 5)
        holder = control(window, "Port holder")
        await wait_until(lambda: f"pid {proc.pid}" in holder.text(), 10)
        assert "not Ollama" in holder.text()
        assert not shown(window, "Use it as is")
        assert proc.poll() is None
    assert REPO.exists()


FAKE_CLI = REPO / "tests" / "ollama_server" / "fake_cli.py"


@pytest.mark.skipif(
    '"gpus"' not in FAKE_CLI.read_text(encoding="utf-8"),
    reason="the fake binary does not print inference compute lines for configured GPUs yet",
)
async def test_contract_fake_binary_gpus_and_context_length_reach_the_panel(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    gpus = [
        {
            "name": "NVIDIA GeForce RTX 4090",
            "library": "cuda",
            "id": "GPU-11111111-2222-3333-4444-555555555555",
            "total": "23.6 GiB",
            "available": "23.1 GiB",
            "variant": "v12",
            "compute": "8.9",
            "driver": "12.8",
        },
        {
            "name": "NVIDIA GeForce GT 1030",
            "library": "cuda",
            "id": "GPU-452cac9f-6960-839c-4fb3-0cec83699196",
            "total": "3.9 GiB",
            "available": "3.9 GiB",
            "variant": "v12",
            "compute": "6.1",
            "driver": "12.8",
        },
    ]
    fake_ollama({"gpus": gpus})
    window = make_window()
    settings = window.launcher.settings
    settings.local.tuning = {"OLLAMA_CONTEXT_LENGTH": "12288"}
    window.launcher.apply_settings(settings)
    await started(window)
    panel = control(window, "Diagnostics")
    await wait_until(lambda: "NVIDIA GeForce GT 1030" in all_text(panel), 10)
    text = all_text(panel)
    assert "NVIDIA GeForce RTX 4090" in text
    assert shown(window, "Value of OLLAMA_CONTEXT_LENGTH")[0].text() == "12288"
    assert not shown(window, "Restart server to apply")


async def test_start_failing_on_a_taken_port_names_the_holder(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    info = fake_ollama()
    with foreign_process(info["port"], raw=True) as proc:
        window = make_window()
        await wait_until(lambda: control(window, "Start server").isEnabled(), 10)
        control(window, "Start server").click()
        await wait_until(lambda: status_of(window).startswith("Crashed"), 10)
        assert "address already in use" in status_of(window)
        holder = control(window, "Port holder")
        await wait_until(lambda: f"pid {proc.pid}" in holder.text(), 10)
        assert "not Ollama" in holder.text() and "Settings" in holder.text()
        log = control(window, "Server log")
        await wait_until(lambda: "Another program holds this port" in log.toPlainText(), 5)
        assert proc.poll() is None  # never touched


async def test_open_diagnostics_shows_the_tab_or_a_window_of_its_own(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = make_window()
    window.tabs.setCurrentIndex(0)
    open_diagnostics(window, window.launcher)  # what the menu's Server > Diagnostics calls
    assert window.tabs.currentWidget() is window.diagnostics
    host = QWidget()
    try:
        open_diagnostics(host, window.launcher)
        (panel,) = host.findChildren(DiagnosticsPanel)
        assert panel.isWindow() and panel.accessibleName() == "Diagnostics"
        await wait_until(lambda: "0.12.3" in panel.server.text(), 5)
        panel.close()
    finally:
        host.deleteLater()


async def test_the_api_is_asked_on_demand_not_per_poll(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = make_window()  # built, not shown: nobody looks at the tab
    await wait_until(lambda: "0.12.3" in window.diagnostics.server.text(), 5)
    polls = window.launcher.monitor.polls
    await wait_until(lambda: window.launcher.monitor.polls >= polls + 2, 10)  # two more polls
    assert external.requests_to("/api/ps") == []
    control(window, "Refresh diagnostics").click()
    await wait_until(lambda: len(external.requests_to("/api/ps")) == 1, 5)
    polls = window.launcher.monitor.polls
    await wait_until(lambda: window.launcher.monitor.polls >= polls + 2, 10)
    assert len(external.requests_to("/api/ps")) == 1


async def test_opening_the_tab_asks_the_external_server_what_it_runs(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = make_window()
    window.show()
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    assert external.requests_to("/api/ps") == []  # the Chat tab is in front
    client = window.launcher.client_for(window.launcher.profile)
    await client.chat_once("llama3.2", [{"role": "user", "content": "hi"}])
    window.tabs.setCurrentWidget(window.diagnostics)
    api = control(window, "Server API")
    await wait_until(lambda: "llama3.2" in api.text(), 5)
    assert "GET /api/ps" in api.text()


async def test_restart_asks_first_while_a_model_downloads(
    fake_ollama: Callable[..., dict[str, Any]], make_window: Callable[[], MainWindow]
) -> None:
    fake_ollama({"pulls": {"qwen3:0.6b": {"size": 400_000_000, "interval": 0.05}}})
    window = make_window()
    launcher = window.launcher
    await started(window)
    pid = launcher.supervisor.pid
    job = launcher.downloads.pull("qwen3:0.6b")
    assert job is not None
    await wait_until(lambda: launcher.downloads.busy, 5)
    panel = window.diagnostics
    panel.restart_to_apply()
    box = panel.question
    assert isinstance(box, QMessageBox) and "downloading" in box.text()
    control(box, "Not now").click()
    await wait_until(lambda: panel.question is None, 5)
    assert launcher.supervisor.pid == pid and launcher.downloads.busy
    launcher.downloads.cancel(job)
