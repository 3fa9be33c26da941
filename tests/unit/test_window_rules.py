"""The Qt-free rules behind the window: log line kinds, list dates, first-run guidance."""

from __future__ import annotations

from datetime import datetime

import pytest

from launcher.core.guidance import DOWNLOAD_URL, install_command, status_explanation
from launcher.core.logfilter import LineKind, classify, matches, visible
from launcher.core.status import ServerState, ServerStatus
from launcher.core.when import short_date

GIN = '[GIN] 2026/12/01 - 14:02:11 | {status} |      1.2ms |       {peer} | {method:<7} "{path}"'


def gin(method: str, path: str, status: int = 200, peer: str = "127.0.0.1") -> str:
    return GIN.format(status=status, peer=peer, method=method, path=path)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (gin("GET", "/api/version"), LineKind.POLL),
        (gin("GET", "/api/ps"), LineKind.POLL),
        (gin("HEAD", "/"), LineKind.POLL),
        (gin("GET", "/api/version", peer="::1"), LineKind.POLL),
        # Someone else polling, or a real request: shown.
        (gin("GET", "/api/version", peer="192.168.1.7"), LineKind.NORMAL),
        (gin("POST", "/api/chat"), LineKind.NORMAL),
        (gin("GET", "/api/tags"), LineKind.NORMAL),
        # A failing poll is news: never hidden.
        (gin("GET", "/api/ps", status=500), LineKind.ERROR),
        (gin("POST", "/api/pull", status=404), LineKind.WARNING),
        ("time=2026-12-01T14:02:11Z level=WARN source=x.go:1 msg=low vram", LineKind.WARNING),
        ("time=2026-12-01T14:02:11Z level=ERROR source=x.go:1 msg=boom", LineKind.ERROR),
        ("time=2026-12-01T14:02:11Z level=INFO source=x.go:1 msg=Listening", LineKind.NORMAL),
        ("panic: runtime error: index out of range", LineKind.ERROR),
        ("Error: listen tcp 127.0.0.1:11434: bind: address already in use", LineKind.ERROR),
        ("llama_model_loader: loaded meta data", LineKind.NORMAL),
    ],
)
def test_log_lines_are_classified(line: str, kind: LineKind) -> None:
    assert classify(line) is kind


def test_polls_are_hidden_unless_asked_for_and_search_ignores_case() -> None:
    poll = gin("GET", "/api/version")
    assert not visible(poll, show_polls=False)
    assert visible(poll, show_polls=True)
    assert visible(gin("POST", "/api/chat"), show_polls=False)
    assert matches("level=WARN msg=Low VRAM", "low vram")
    assert not matches("level=INFO", "warn")


@pytest.mark.parametrize(
    ("when", "label"),
    [
        (datetime(2026, 12, 1, 14, 2), "Today 14:02"),
        (datetime(2026, 12, 1, 0, 0), "Today 00:00"),
        (datetime(2026, 11, 30, 23, 59), "Yesterday"),
        (datetime(2026, 3, 12, 9, 0), "12 Mar"),
        (datetime(2025, 3, 12, 9, 0), "12 Mar 2025"),
    ],
)
def test_list_dates_read_as_a_person_says_them(when: datetime, label: str) -> None:
    assert short_date(when, datetime(2026, 12, 1, 18, 30)) == label


def test_first_run_guidance_says_how_to_get_ollama_on_each_system() -> None:
    status = ServerStatus(ServerState.NOT_INSTALLED, "get Ollama", tooltip="no binary found")
    for platform, command in (
        ("linux", "curl -fsSL https://ollama.com/install.sh | sh"),
        ("darwin", "brew install ollama"),
        ("win32", "winget install Ollama.Ollama"),
    ):
        assert install_command(platform) == command
        explanation = status_explanation(status, platform=platform)
        assert explanation is not None
        assert explanation.headline.startswith("Ollama isn't installed on this computer.")
        assert DOWNLOAD_URL in explanation.headline and command in explanation.headline
        assert explanation.details == "no binary found"
    assert install_command("sunos5") == ""


def test_guidance_names_the_host_and_stays_quiet_when_all_is_well() -> None:
    stopped = status_explanation(ServerStatus(ServerState.STOPPED), "http://127.0.0.1:23456")
    assert stopped is not None
    assert stopped.headline == "Ollama isn't running on 127.0.0.1:23456 — Start it."
    assert stopped.action == "Start server"
    unreachable = status_explanation(
        ServerStatus(ServerState.UNREACHABLE, tooltip="[Errno 111] Connect call failed"),
        "http://gpu-box:11434",
    )
    assert unreachable is not None
    assert "gpu-box:11434" in unreachable.headline
    assert "Errno" not in unreachable.headline and "Errno" in unreachable.details
    for state in (ServerState.RUNNING, ServerState.STARTING, ServerState.CHECKING):
        assert status_explanation(ServerStatus(state), "http://127.0.0.1:11434") is None


def test_the_theme_follows_the_system_unless_the_user_chose() -> None:
    from PySide6.QtCore import Qt

    from launcher.ui.theme import ThemeMode, effective_scheme

    dark, light, unknown = Qt.ColorScheme.Dark, Qt.ColorScheme.Light, Qt.ColorScheme.Unknown
    assert effective_scheme(ThemeMode.SYSTEM, dark) == dark
    assert effective_scheme(ThemeMode.SYSTEM, light) == light
    assert effective_scheme(ThemeMode.SYSTEM, unknown) == light
    assert effective_scheme(ThemeMode.LIGHT, dark) == light
    assert effective_scheme(ThemeMode.DARK, light) == dark
