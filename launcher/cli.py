"""The command line: arguments, terminal logging, and the checks made before Qt is imported.

`--version` and `--help` answer without loading Qt, and the preflight checks
run before Qt can abort, so both work on a machine without a display.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NamedTuple

from launcher import __version__


class Options(NamedTuple):
    """What the command line asked for (a NamedTuple: `dataclasses` is not loaded before
    the window's first paint).

    Attributes:
        host: open on this Ollama (an `OLLAMA_HOST`-style address), or None.
        verbose: 0 warnings only, 1 the launcher's INFO lines, 2 DEBUG (with httpx).
        self_test: check the installation offscreen and exit.
        minimized: start hidden in the tray (start at login uses this).
    """

    host: str | None = None
    verbose: int = 0
    self_test: bool = False
    minimized: bool = False


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ollama-launcher",
        description="Run and use Ollama without a terminal: server status and start/stop, "
        "chat, model downloads.",
        epilog="A second launch brings the running launcher to the front (with --host, "
        "switched to that host) and exits.",
    )
    p.add_argument("--version", action="version", version=f"ollama-launcher {__version__}")
    p.add_argument(
        "--host",
        metavar="URL",
        help="open on this Ollama, e.g. http://gpu-box:11434 (same rules as OLLAMA_HOST)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log to the terminal: -v the launcher's INFO lines, -vv DEBUG (with HTTP requests)",
    )
    p.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation without a screen (imports, resources, the window "
        "against no server), print what was checked, and exit",
    )
    p.add_argument(
        "--minimized",
        action="store_true",
        help="start hidden in the system tray (used by start at login)",
    )
    return p


def parse(argv: Sequence[str] | None = None) -> Options:
    """Parse the arguments (argparse exits for --help, --version and errors)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        # The usual start (the desktop entry passes nothing): the defaults, without
        # building the parser and loading its translations (~5 ms before the first paint).
        return Options()
    ns = parser().parse_args(args)
    host = ns.host.strip() if ns.host else None
    if host is not None:
        from launcher.ollama import resolve_host

        url = resolve_host(host)
        if not url.startswith(("http://", "https://")):
            parser().error(f"--host {host!r}: only http:// and https:// addresses are supported")
    return Options(host=host, verbose=ns.verbose, self_test=ns.self_test, minimized=ns.minimized)


def configure_logging(verbose: int) -> None:
    """Terminal logging: warnings by default, so a running launcher stays quiet.

    httpx logs every request at INFO, which would be a line per status poll:
    it only speaks at -vv.
    """
    level = (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    quiet = logging.DEBUG if verbose >= 2 else logging.WARNING
    for name in ("httpx", "httpcore", "qasync", "asyncio"):
        logging.getLogger(name).setLevel(quiet)


def main(argv: Sequence[str] | None = None) -> int:
    """`ollama-launcher` and `python -m launcher`."""
    options = parse(sys.argv[1:] if argv is None else argv)
    configure_logging(options.verbose)
    from launcher import preflight

    if options.self_test:
        # What a normal start would meet here, said but not fatal: the self-test itself
        # needs no screen and builds the window offscreen.
        on_screen = preflight.run(os.environ)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from launcher.selftest import self_test

        return self_test(screen_problems=on_screen)
    problems = preflight.run(os.environ)
    if problems:
        print(preflight.report(problems), file=sys.stderr)
        return preflight.EXIT_CODE
    from launcher.app import run

    return run(options)
