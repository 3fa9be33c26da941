"""A remote https host whose certificate checks the user turned off is a standing warning
on the status (words, sign, tooltip) and in the tray's tooltip, never only a log line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from launcher.config import settings_path
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.ollama_server.certs import self_signed
from tests.ui.helpers import control, status_of
from tests.ui.settings_helpers import choose_host
from tests.waiting import wait_until


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[OllamaTestServer]:
    server = OllamaTestServer(tls=self_signed(tmp_path).server_context())
    server.add_model("llama3.2")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def remote_settings(url: str, *, verify_tls: bool) -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    remote = {"id": "lab", "name": "Lab", "url": url, "verify_tls": verify_tls}
    settings = {"remotes": [remote], "selected": "lab", "local": {"auto_start": False}}
    settings_path().write_text(json.dumps(settings), encoding="utf-8")


async def test_certificate_checks_off_is_a_warning_on_the_status_and_in_the_tray(
    self_signed_server: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    url = self_signed_server.url
    remote_settings(url, verify_tls=False)
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    warning = control(window, "Server status warning")
    assert status_of(window).endswith("certificate checks off")
    assert not warning.isHidden()
    assert f"Certificate checks are off for {url}" in warning.toolTip()
    assert f"Certificate checks are off for {url}" in control(window, "Server status").toolTip()
    assert "Settings" in warning.toolTip()  # what to do about it
    assert "certificate checks off" in window.tray.icon.toolTip()

    # Another host: no warning (it belongs to the host, not to the launcher).
    choose_host(window, "This computer")
    await wait_until(lambda: not status_of(window).startswith("Running"), 10)
    assert warning.isHidden()
    assert "certificate" not in status_of(window)
    assert "certificate" not in window.tray.icon.toolTip()
    # And back: the warning again, even while the host is still being checked.
    choose_host(window, "Lab")
    await wait_until(lambda: not warning.isHidden(), 5)
    assert "certificate checks off" in status_of(window)


async def test_a_checked_certificate_gives_no_warning(
    self_signed_server: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    remote_settings(self_signed_server.url, verify_tls=True)
    window = make_window()
    # Checked, the self-signed certificate is refused: down, and no "checks off".
    await wait_until(lambda: status_of(window).startswith("Unreachable"), 10)
    assert control(window, "Server status warning").isHidden()
    assert "certificate checks off" not in status_of(window)
    assert self_signed_server.requests == []
