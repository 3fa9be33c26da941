"""Settings on disk, host profiles, address checks, and the loaded-models time text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from launcher.config import (
    LOCAL_ID,
    LocalServerSettings,
    RemoteHost,
    Settings,
    check_env_name,
    check_host_url,
    host_profiles,
    load_settings,
    save_settings,
)
from launcher.core.guard_settings import GuardSettings
from launcher.core.inspector import unloads_in


def test_allow_network_listens_on_every_interface() -> None:
    local = LocalServerSettings(listen="127.0.0.1:23456")
    assert local.child_host() == "127.0.0.1:23456"
    local.allow_network = True
    assert local.child_host() == "0.0.0.0:23456"
    profile = host_profiles(Settings(local=local), {})[0]
    assert profile.id == LOCAL_ID
    assert profile.child_host == "0.0.0.0:23456"
    assert profile.base_url == "http://127.0.0.1:23456"  # we still talk to it on loopback


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings(
        local=LocalServerSettings(
            listen="127.0.0.1:4000",
            models_dir="/srv/models",
            extra_env={"OLLAMA_KEEP_ALIVE": "1h"},
            keep_running_after_quit=True,
        ),
        remotes=[RemoteHost("abc", "GPU box", "http://gpu:11434")],
        selected="abc",
        guard=GuardSettings(max_chars=5000).to_dict(),
    )
    save_settings(settings, path)
    assert load_settings(path) == settings
    assert json.loads(path.read_text())["remotes"] == [
        {
            "id": "abc",
            "name": "GPU box",
            "url": "http://gpu:11434",
            "proxy": "system",
            "ca_file": "",
            "verify_tls": True,
        }
    ]
    assert not list(tmp_path.glob(".settings-*"))  # no temp file left behind


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Enter the address"),
        ("ftp://gpu", "only http:// and https://"),
        ("http://gpu box", "contains a space"),
        ("gpu:99999", "Invalid port"),
    ],
)
def test_bad_host_urls_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_host_url(text)


def test_good_host_urls_resolve() -> None:
    assert check_host_url(" gpu.local ") == "http://gpu.local:11434"
    assert check_host_url("https://ollama.example/api-proxy") == (
        "https://ollama.example:443/api-proxy"
    )
    assert check_env_name(" OLLAMA_DEBUG ") == "OLLAMA_DEBUG"
    with pytest.raises(ValueError):
        check_env_name("A=B")


def test_unload_time_is_local_and_relative() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    local = (now + timedelta(minutes=5)).astimezone().strftime("%H:%M")
    assert unloads_in(now + timedelta(minutes=5), now) == f"{local} (in 5 min)"
    assert unloads_in(now + timedelta(seconds=30), now).endswith("(in 30 s)")
    assert unloads_in(now + timedelta(days=365 * 200), now) == "never (kept loaded)"
    assert unloads_in(None, now) == "unknown"
