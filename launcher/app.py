"""Start-up and shutdown: the QApplication, the qasync loop, and the wired main window."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from launcher import __version__
from launcher.config import load_settings
from launcher.core.launcher import Launcher
from launcher.core.lifecycle import ExitOnSignal
from launcher.ui.main_window import MainWindow

EXIT_GRACE_SECONDS = 2.0  # after the orderly shutdown, the interpreter's own exit


def build_main_window() -> MainWindow:
    """The fully wired main window, not yet shown.

    Needs a QApplication and a running qasync loop. Reads configuration the
    way the app does: the environment, then the stored settings.
    """
    launcher = Launcher(load_settings())
    window = MainWindow(launcher)
    launcher.start()
    return window


async def _run_app() -> int:
    window = build_main_window()
    closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished() -> None:
        if not closed.done():
            closed.set_result(0)

    window.shutdownFinished.connect(finished)
    window.show()
    # SIGTERM, SIGINT, SIGHUP: quit as the window's close does; a second signal, or a
    # shutdown still running after 10 s, ends our server's group and leaves at once.
    exits = ExitOnSignal(window.quit, window.launcher.supervisor.kill_now)
    exits.install(asyncio.get_running_loop())
    result: int = await closed
    # The interpreter's exit joins worker threads; one stuck in the keyring would hold
    # it forever. (After a signal, its 10 s deadline also still stands.)
    exits.leave_within(EXIT_GRACE_SECONDS, result)
    return result


def main() -> int:
    """`ollama-launcher` and `python -m launcher`."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    import qasync

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Ollama Launcher")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("ollama-launcher")
    app.setDesktopFileName("ollama-launcher")
    icon = Path(__file__).resolve().parent.parent / "resources" / "icons" / "ollama-launcher.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    app.setQuitOnLastWindowClosed(False)  # we quit after the orderly shutdown instead
    return int(qasync.run(_run_app()))


if __name__ == "__main__":
    sys.exit(main())
