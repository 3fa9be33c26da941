"""Start-up and shutdown: the QApplication, the qasync loop, and the wired main window."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping

from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from launcher import __version__
from launcher.cli import Options
from launcher.config import config_dir, load_settings
from launcher.core import autostart
from launcher.core.explain import explain
from launcher.core.gcguard import MainThreadCollector
from launcher.core.instance import Activation, SingleInstance, socket_name
from launcher.core.launcher import Launcher
from launcher.core.lifecycle import ExitOnSignal
from launcher.ui.main_window import MainWindow
from launcher.ui.tray import app_icon, bring_to_front

log = logging.getLogger(__name__)

EXIT_GRACE_SECONDS = 2.0  # after the orderly shutdown, the interpreter's own exit


def build_main_window(host: str | None = None, *, deferred: bool = False) -> MainWindow:
    """The fully wired main window, not yet shown.

    Needs a QApplication and a running qasync loop. Reads configuration the
    way the app does: the environment, then the stored settings. `host`
    (from `--host`) takes the place of `OLLAMA_HOST`.

    `deferred` (the app): the Models, Server log and Diagnostics pages and the
    tray are built after the window's first paint (or `window.pages.start()`),
    and only then does the launcher start (first poll, conversations,
    downloads), in the same order as without it. Without it, everything is
    built and started before this returns.
    """
    environ: Mapping[str, str] | None = None
    if host:
        environ = {**os.environ, "OLLAMA_HOST": host}
    launcher = Launcher(load_settings(), environ=environ)
    window = MainWindow(launcher, deferred=deferred)
    if window.windowIcon().isNull():
        window.setWindowIcon(app_icon())
    launcher.profilesChanged.connect(lambda _profiles: sync_autostart(window))

    def start() -> None:
        launcher.start()
        if launcher.settings.start_at_login:
            sync_autostart(window)  # rewrite the entry: the installation may have moved

    if deferred:
        window.pages.after(start)
    else:
        start()
    return window


def sync_autostart(window: MainWindow) -> None:
    """Make start at login follow the setting (in a worker thread: it writes a file
    or the registry); a failure is said in the status bar."""
    launcher = window.launcher
    wanted = launcher.settings.start_at_login

    async def write() -> None:
        try:
            await asyncio.to_thread(autostart.apply, wanted, autostart.for_platform())
        except OSError as exc:
            explanation = explain(exc)
            log.warning("start at login: %s (%s)", explanation.headline, explanation.details)
            verb = "turned on" if wanted else "turned off"
            window.statusBar().showMessage(
                f"Start at login could not be {verb}. {explanation.headline}"
            )

    launcher.tasks.spawn(write())


def activate(window: MainWindow, activation: Activation) -> None:
    """A later launch asked for us: come to the front, on its host if it named one."""
    if activation.host:
        window.launcher.open_host(activation.host)
    bring_to_front(window)


async def _run_app(options: Options, instance: SingleInstance | None = None) -> int:
    window = build_main_window(options.host, deferred=True)
    # Cyclic garbage is freed on this thread only: a collection run by a worker thread
    # would destroy QObjects there (see launcher.core.gcguard).
    collector = MainThreadCollector(window)
    collector.start()
    closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished() -> None:
        if not closed.done():
            closed.set_result(0)

    window.shutdownFinished.connect(finished)
    if instance is not None:
        instance.activated.connect(lambda activation: activate(window, activation))
        window.shutdownFinished.connect(instance.close)
    if not options.minimized:
        window.show()  # the rest is built after its first paint
    else:
        window.pages.start()  # nothing to paint first: build the rest now
        if not QSystemTrayIcon.isSystemTrayAvailable():
            window.showMinimized()  # no tray to hide in: at least not in the way
    # SIGTERM, SIGINT, SIGHUP: quit as the window's close does; a second signal, or a
    # shutdown still running after 10 s, ends our server's group and leaves at once.
    exits = ExitOnSignal(window.quit, window.launcher.supervisor.kill_now)
    exits.install(asyncio.get_running_loop())
    result: int = await closed
    collector.stop(enable=False)
    # The interpreter's exit joins worker threads; one stuck in the keyring would hold
    # it forever. (After a signal, its 10 s deadline also still stands.)
    exits.leave_within(EXIT_GRACE_SECONDS, result)
    return result


def application() -> QApplication:
    """The QApplication, named and with its icon (created once)."""
    existing = QApplication.instance()
    # argv[0] names the X11 window class: "ollama-launcher", as the desktop entry says.
    app = existing if isinstance(existing, QApplication) else QApplication(["ollama-launcher"])
    app.setApplicationName("Ollama Launcher")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("ollama-launcher")
    app.setDesktopFileName("ollama-launcher")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # we quit after the orderly shutdown instead
    return app


def run(options: Options) -> int:
    """Run the launcher until it quits; a second launch hands over to the first."""
    from launcher.core import qtloop

    application()
    instance = SingleInstance(socket_name(config_dir()))
    if not instance.claim():
        if instance.hand_over(Activation(options.host)):
            print("Ollama Launcher is already running: brought it to the front.")
            return 0
        print(
            "Ollama Launcher seems to be running already but does not answer. "
            "Quit it (or end its process) and start it again.",
            file=sys.stderr,
        )
        return 1
    try:
        return int(qtloop.run(_run_app(options, instance)))
    except RuntimeError as exc:
        if "Event loop stopped" not in str(exc):
            raise
        # Qt ended its event loop under us: the display went away (X server gone,
        # session ended). Say so in a line instead of a traceback.
        log.debug("event loop ended early", exc_info=True)
        print("Ollama Launcher stopped: the connection to the display was lost.", file=sys.stderr)
        return 1
    finally:
        instance.close()


def main() -> int:
    """Kept for callers of the old entry point: the command line lives in launcher.cli."""
    from launcher.cli import main as cli_main

    return cli_main()
