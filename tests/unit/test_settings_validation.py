"""Settings files with wrong values: each field falls back to its safe default, by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from launcher.config import (
    DEFAULT_LISTEN,
    LocalServerSettings,
    RemoteHost,
    Settings,
    host_profiles,
    load_settings,
    save_settings,
)

WRONG_BOOLS = ["false", "true", "no", 0, 1, 1.0, [], {}, [False]]


def _load(tmp_path: Path, data: Any) -> Settings:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(data))
    return load_settings(path)


@pytest.mark.parametrize("value", WRONG_BOOLS)
def test_allow_network_is_on_only_for_true(tmp_path: Path, value: object) -> None:
    settings = _load(tmp_path, {"local": {"allow_network": value}})
    assert settings.local.allow_network is False
    assert settings.local.child_host() == DEFAULT_LISTEN
    assert len(settings.problems) == 1
    assert "local.allow_network" in settings.problems[0]
    assert "off is used instead" in settings.problems[0]


@pytest.mark.parametrize(
    "value", [11434, "", "   ", "192.168.1.5:11434", "http://[bad", None, ["x"]]
)
def test_listen_must_be_a_loopback_address(tmp_path: Path, value: object) -> None:
    settings = _load(tmp_path, {"local": {"listen": value, "allow_network": False}})
    assert settings.local.listen == DEFAULT_LISTEN
    assert host_profiles(settings, {})[0].child_host == DEFAULT_LISTEN
    assert len(settings.problems) == (0 if value is None else 1)


def test_an_unspecified_listen_address_still_gives_a_loopback_child(tmp_path: Path) -> None:
    settings = _load(tmp_path, {"local": {"listen": "0.0.0.0:11434"}})
    assert settings.local.child_host() == "127.0.0.1:11434"  # OLLAMA_HOST's own rule


def test_good_values_load_without_problems(tmp_path: Path) -> None:
    settings = Settings(
        local=LocalServerSettings(
            listen="127.0.0.1:4000",
            allow_network=True,
            models_dir="/srv/models",
            binary="/opt/ollama",
            extra_env={"OLLAMA_DEBUG": "1"},
            keep_running_after_quit=True,
            auto_start=False,
            https_proxy="http://proxy:3128",
            noprune=False,
            tuning={"OLLAMA_CONTEXT_LENGTH": "8192"},
        ),
        remotes=[
            RemoteHost("a", "A", "http://gpu:11434", "socks5://p:1080", "/ca.pem", False),
            RemoteHost("b", "B", "https://b.example", "none"),
        ],
        selected="a",
        keep_in_tray=True,
        guard={"max_chars": 5000},
        enter_sends=False,
        notifications={"downloads": False, "server": True, "replies": False},
        start_at_login=True,
        download_stall_seconds=120,
        markdown_folder="/home/me/notes",
    )
    path = tmp_path / "settings.json"
    save_settings(settings, path)
    assert "problems" not in json.loads(path.read_text())
    loaded = load_settings(path)
    assert loaded == settings
    assert loaded.problems == []


@pytest.mark.parametrize(
    ("data", "read", "expected", "field"),
    [
        ({"local": "yes"}, lambda s: s.local, LocalServerSettings(), "(local)"),
        ({"local": {"models_dir": 5}}, lambda s: s.local.models_dir, "", "local.models_dir"),
        ({"local": {"binary": ["x"]}}, lambda s: s.local.binary, "", "local.binary"),
        (
            {"local": {"keep_running_after_quit": "true"}},
            lambda s: s.local.keep_running_after_quit,
            False,
            "keep_running_after_quit",
        ),
        ({"local": {"auto_start": "no"}}, lambda s: s.local.auto_start, True, "auto_start"),
        ({"local": {"noprune": 0}}, lambda s: s.local.noprune, True, "local.noprune"),
        (
            {"local": {"https_proxy": "ftp://x"}},
            lambda s: s.local.https_proxy,
            "",
            "local.https_proxy",
        ),
        ({"local": {"extra_env": "A=1"}}, lambda s: s.local.extra_env, {}, "local.extra_env"),
        (
            {"local": {"extra_env": {"GOOD": "1", "BAD NAME": "2", "N": None}}},
            lambda s: s.local.extra_env,
            {"GOOD": "1"},
            "local.extra_env",
        ),
        ({"local": {"tuning": [1]}}, lambda s: s.local.tuning, {}, "local.tuning"),
        ({"remotes": {"a": 1}}, lambda s: s.remotes, [], "(remotes)"),
        ({"selected": 3}, lambda s: s.selected, "local", "selected"),
        ({"keep_in_tray": "yes"}, lambda s: s.keep_in_tray, True, "keep_in_tray"),  # on by default
        ({"guard": [1, 2]}, lambda s: s.guard, {}, "(guard)"),
        ({"guard": {"enabled": "false"}}, lambda s: s.guard, {}, "guard.enabled"),
        (
            {"guard": {"max_chars": "lots", "max_period": 500}},
            lambda s: s.guard,
            {"max_period": 500},
            "guard.max_chars",
        ),
        ({"enter_sends": "false"}, lambda s: s.enter_sends, True, "enter_sends"),
        (
            {"notifications": {"downloads": "off", "server": False}},
            lambda s: s.notifications,
            {"downloads": True, "server": False, "replies": True},
            "notifications.downloads",
        ),
        ({"notifications": 1}, lambda s: s.notifications["server"], True, "notifications"),
        ({"start_at_login": 1}, lambda s: s.start_at_login, False, "start_at_login"),
        ({"download_stall_seconds": "30"}, lambda s: s.download_stall_seconds, 30, "stall"),
        ({"download_stall_seconds": 0}, lambda s: s.download_stall_seconds, 30, "stall"),
        ({"download_stall_seconds": 10**9}, lambda s: s.download_stall_seconds, 30, "stall"),
        ({"download_stall_seconds": True}, lambda s: s.download_stall_seconds, 30, "stall"),
        ({"markdown_folder": 7}, lambda s: s.markdown_folder, "", "markdown_folder"),
    ],
)
def test_each_wrong_field_falls_back_alone_and_is_named(
    tmp_path: Path, data: dict[str, Any], read: Any, expected: object, field: str
) -> None:
    settings = _load(tmp_path, {**data, "keep_in_tray": data.get("keep_in_tray", True)})
    assert read(settings) == expected
    assert settings.problems, "the user is told"
    assert field in settings.problems[0]
    if "keep_in_tray" not in data:
        assert settings.keep_in_tray is True  # the other fields are kept


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("gpu", "remotes[0]"),
        ({"url": "http://gpu:11434"}, "remotes[0].id"),
        ({"id": "local", "url": "http://gpu:11434"}, "remotes[0].id"),
        ({"id": "a", "url": 5}, "remotes[0].url"),
        ({"id": "a", "url": "ftp://gpu"}, "remotes[0].url"),
        ({"id": "a", "url": "http://gpu box"}, "remotes[0].url"),
    ],
)
def test_a_remote_host_without_id_or_address_is_dropped_alone(
    tmp_path: Path, entry: object, field: str
) -> None:
    good = {"id": "ok", "name": "OK", "url": "http://ok:11434"}
    settings = _load(tmp_path, {"remotes": [entry, good]})
    assert [r.id for r in settings.remotes] == ["ok"]
    assert len(settings.problems) == 1 and field in settings.problems[0]


@pytest.mark.parametrize(
    ("extra", "read", "expected", "field"),
    [
        ({"verify_tls": "false"}, lambda r: r.verify_tls, True, "verify_tls"),
        ({"verify_tls": 0}, lambda r: r.verify_tls, True, "verify_tls"),
        ({"proxy": "sometimes"}, lambda r: r.proxy, "system", "proxy"),
        ({"proxy": 8080}, lambda r: r.proxy, "system", "proxy"),
        ({"ca_file": 1}, lambda r: r.ca_file, "", "ca_file"),
        ({"name": ["x"]}, lambda r: r.name, "http://gpu:11434", "name"),
    ],
)
def test_remote_host_fields(
    tmp_path: Path, extra: dict[str, Any], read: Any, expected: object, field: str
) -> None:
    entry = {"id": "a", "name": "A", "url": "http://gpu:11434", **extra}
    settings = _load(tmp_path, {"remotes": [entry]})
    assert read(settings.remotes[0]) == expected
    assert len(settings.problems) == 1 and f"remotes[0].{field}" in settings.problems[0]


def test_verify_tls_is_off_only_for_exactly_false(tmp_path: Path) -> None:
    entry = {"id": "a", "url": "https://gpu", "verify_tls": False}
    assert _load(tmp_path, {"remotes": [entry]}).remotes[0].verify_tls is False
    entry["verify_tls"] = None
    assert _load(tmp_path, {"remotes": [entry]}).remotes[0].verify_tls is True


def test_duplicate_remote_ids_keep_the_first(tmp_path: Path) -> None:
    remotes = [{"id": "a", "url": "http://one"}, {"id": "a", "url": "http://two"}]
    settings = _load(tmp_path, {"remotes": remotes})
    assert [r.url for r in settings.remotes] == ["http://one"]
    assert "used twice" in settings.problems[0]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"a string"'])
def test_a_file_that_is_not_settings_is_moved_aside_and_said(tmp_path: Path, text: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(text)
    settings = load_settings(path)
    assert settings == Settings()
    assert (tmp_path / "settings.broken.json").read_text() == text
    assert "settings.broken.json" in settings.problems[0]
    assert "Error" not in settings.problems[0]


def test_problems_are_plain_sentences(tmp_path: Path) -> None:
    settings = _load(tmp_path, {"local": {"allow_network": "false", "listen": 11434}})
    assert settings.problems == [
        "Settings: local.listen was ignored (11434 is not an address); "
        "127.0.0.1:11434 is used instead.",
        'Settings: local.allow_network was ignored ("false" is not true or false); '
        "off is used instead.",
    ]
