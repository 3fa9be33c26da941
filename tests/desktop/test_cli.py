"""The command line, run as a user runs it: `python -m launcher ...` in a child process."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from launcher import __version__
from launcher.cli import Options, configure_logging, parse, parser
from tests.conftest import REPO
from tests.desktop.processes import launcher_env, run_launcher, running_launcher, wait_for
from tests.ollama_server import OllamaTestServer


def test_version_is_the_package_version(tmp_path: Path) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert __version__ == project["version"]
    env = launcher_env(tmp_path)
    env.pop("QT_QPA_PLATFORM")
    env.pop("DISPLAY", None)  # --version needs no display
    proc = run_launcher(["--version"], env)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"ollama-launcher {__version__}"


def test_help_lists_every_option(tmp_path: Path) -> None:
    proc = run_launcher(["--help"], launcher_env(tmp_path))
    assert proc.returncode == 0
    for option in ("--version", "--host URL", "--verbose", "--self-test", "--minimized"):
        assert option in proc.stdout


def test_self_test_passes_with_no_server_and_no_display(tmp_path: Path) -> None:
    env = launcher_env(tmp_path)
    env.pop("QT_QPA_PLATFORM")  # it goes offscreen by itself
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = run_launcher(["--self-test"], env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "self-test passed"
    for what in (
        "imports",
        "resource launcher/data/icons/ollama-launcher.svg",
        "application icon loads",
        "main window built",
        "status with no server",
        "orderly shutdown",
    ):
        assert any(line.startswith("ok") and what in line for line in lines), what
    assert "Traceback" not in proc.stderr
    # What a normal start would meet here is said, but does not fail the self-test.
    assert any(line.startswith("note") and "No display" in line for line in lines)
    # It used a temporary home: the user's (here: the test's) folders are untouched.
    assert not (tmp_path / "config").exists() and not (tmp_path / "data").exists()


def test_a_host_that_is_not_http_is_refused_with_a_message(tmp_path: Path) -> None:
    proc = run_launcher(["--host", "ftp://example.com"], launcher_env(tmp_path))
    assert proc.returncode == 2
    assert "only http:// and https:// addresses are supported" in proc.stderr


def test_options() -> None:
    assert parse([]) == Options()
    # No arguments skips the parser: its defaults must be the same as Options' own.
    defaults = vars(parser().parse_args([]))
    assert defaults == Options()._asdict()
    assert parse(["--host", " gpu-box:11434 ", "-vv", "--minimized"]) == Options(
        host="gpu-box:11434", verbose=2, minimized=True
    )


def test_terminal_logging_is_quiet_by_default_and_httpx_only_at_debug() -> None:
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        configure_logging(0)
        assert root.level == logging.WARNING
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        configure_logging(1)
        assert logging.getLogger("launcher").isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)  # no line per poll
        configure_logging(2)
        assert logging.getLogger("httpx").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name in ("httpx", "httpcore", "qasync", "asyncio"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_host_opens_the_launcher_on_that_host(
    tmp_path: Path, ollama_server: OllamaTestServer
) -> None:
    env = launcher_env(tmp_path)
    env.pop("OLLAMA_HOST", None)
    url = f"http://127.0.0.1:{ollama_server.port}"
    with running_launcher(["--host", url], env, tmp_path / "app.log") as app:
        wait_for(
            lambda: ollama_server.requests_to("/api/version"),
            20,
            "the launcher never asked the --host server",
        )
        assert app.poll() is None
