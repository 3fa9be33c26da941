"""A remote host's Proxy and CA file, set in the settings dialog, reach the client.

The remote host ``ollama.remote.test`` has no DNS entry: only the test proxy knows it (it
routes the name to a test server on 127.0.0.1), so the host answers only through the
proxy. Changing the setting rebuilds the host's client at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from launcher.config import settings_path
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.ollama_server.proxy import ForwardProxy
from tests.ui.helpers import control, status_of
from tests.ui.settings_helpers import add_remote, choose_host, open_settings, press_ok, type_into
from tests.waiting import wait_until

REMOTE = "ollama.remote.test"


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with ForwardProxy() as started:
        yield started


async def test_proxy_and_ca_file_fields_reach_the_client(
    external: OllamaTestServer,
    proxy: ForwardProxy,
    make_window: Callable[[], MainWindow],
    qtbot: Any,
) -> None:
    proxy.route(REMOTE, 11434, ("127.0.0.1", external.port))
    window = make_window()
    await wait_until(lambda: status_of(window).startswith("Running"), 5)
    assert proxy.seen == []  # the local server is never proxied

    dialog = await open_settings(window)
    add_remote(qtbot, dialog, "Behind proxy", f"http://{REMOTE}:11434")
    type_into(qtbot, control(dialog, "Proxy"), proxy.url)
    type_into(qtbot, control(dialog, "CA file"), "/etc/ssl/corp-ca.pem")
    await press_ok(window, dialog)
    saved = json.loads(settings_path().read_text())["remotes"][0]
    assert saved["proxy"] == proxy.url and saved["ca_file"] == "/etc/ssl/corp-ca.pem"
    assert saved["verify_tls"] is True

    choose_host(window, "Behind proxy")
    await wait_until(lambda: status_of(window).startswith("Running"), 10)
    assert any(s.target == f"http://{REMOTE}:11434/api/version" for s in proxy.seen)

    # "none": the rebuilt client goes direct; the name does not resolve, so the host,
    # which the proxy still reaches, now shows as down.
    dialog = await open_settings(window)
    dialog.tabs.setCurrentWidget(dialog.remote_page)
    type_into(qtbot, control(dialog, "Proxy"), "none")
    await press_ok(window, dialog)
    await wait_until(lambda: status_of(window).startswith("Unreachable"), 15)
