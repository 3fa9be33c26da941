"""Start-up and shutdown: the QApplication, the first paint, the event loop, the wired window.

Start-up is paint-first: `start_window` needs only Qt, the single-instance
socket and the window's shell (`launcher.ui.shell`), and returns once the
real main window has painted its skeleton. Only then are the launcher's core,
the HTTP client, asyncio and the event loop (`launcher.core.qtloop`, on qasync)
imported, and the window is attached (`MainWindow.attach`). This module's own
imports stay that light for it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from launcher import __version__
from launcher.cli import Options
from launcher.core.instance import Activation, SingleInstance, socket_name
from launcher.dirs import config_dir
from launcher.ui.app_icon import app_icon
from launcher.ui.main_window import MainWindow
from launcher.ui.shell import bring_to_front, show_and_paint

if TYPE_CHECKING:
    from launcher.core.launcher import Launcher

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
    window = MainWindow()
    attach_launcher(window, host, deferred=deferred)
    return window


def attach_launcher(window: MainWindow, host: str | None = None, *, deferred: bool) -> Launcher:
    """Import and build the launcher's core and attach it to `window` (see
    `build_main_window` for `host` and `deferred`); it starts after the pages."""
    from launcher.config import load_settings
    from launcher.core.launcher import Launcher

    environ: Mapping[str, str] | None = None
    if host:
        environ = {**os.environ, "OLLAMA_HOST": host}
    launcher = Launcher(load_settings(), environ=environ)
    window.attach(launcher, deferred=deferred)
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
    return launcher


def sync_autostart(window: MainWindow) -> None:
    """Make start at login follow the setting (in a worker thread: it writes a file
    or the registry); a failure is said in the status bar."""
    import asyncio

    from launcher.core import autostart
    from launcher.core.explain import explain

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


class StartedWindow:
    """What `start_window` leaves for the rest of the start: the claimed single-instance
    socket, the painted shell, and the launches that asked for us meanwhile.

    (A plain class: `dataclasses` is not loaded before the window's first paint.)"""

    def __init__(self, instance: SingleInstance, window: MainWindow) -> None:
        self.instance = instance
        self.window = window
        self.activations: list[Activation] = []

    def _early_activation(self, activation: Activation) -> None:
        self.activations.append(activation)  # its host is opened once attached
        bring_to_front(self.window)


def start_window(options: Options) -> StartedWindow | int:
    """The start up to the first paint: the QApplication, the single-instance check (a
    second launch hands over and gets its exit code here, before any window exists),
    then the real main window's shell, shown and painted (not shown with `--minimized`);
    the single-instance socket opens right after.

    Nothing of the launcher's core, httpx or asyncio is imported by then: `_run_app`
    attaches the launcher right after. The benchmark starts the same way."""
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
    started = StartedWindow(instance, MainWindow())
    instance.activated.connect(started._early_activation)
    if not options.minimized:
        show_and_paint(started.window)
    # The socket later launches hand over on opens at the event loop's next turn: the
    # first paint does not wait for QtNetwork (a later launch waits for the socket).
    QTimer.singleShot(0, instance, instance.open_mailbox)
    return started


async def _run_app(options: Options, started: StartedWindow) -> int:
    import asyncio

    from launcher.core.gcguard import MainThreadCollector
    from launcher.core.lifecycle import ExitOnSignal

    window, instance = started.window, started.instance
    attach_launcher(window, options.host, deferred=True)
    # Cyclic garbage is freed on this thread only: a collection run by a worker thread
    # would destroy QObjects there (see launcher.core.gcguard).
    collector = MainThreadCollector(window)
    collector.start()
    window.pages.after(collector.freeze)  # start-up's objects, once it is all built
    closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished() -> None:
        if not closed.done():
            closed.set_result(0)

    window.shutdownFinished.connect(finished)
    instance.activated.disconnect(started._early_activation)
    instance.activated.connect(lambda activation: activate(window, activation))
    window.shutdownFinished.connect(instance.close)
    for activation in started.activations:
        activate(window, activation)
    if not options.minimized:
        window.show()  # shown and painted already; the rest is built after its next paint
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
    started = start_window(options)
    if isinstance(started, int):
        return started
    from launcher.core import qtloop

    try:
        return int(qtloop.run(_run_app(options, started)))
    except RuntimeError as exc:
        if "Event loop stopped" not in str(exc):
            raise
        # Qt ended its event loop under us: the display went away (X server gone,
        # session ended). Say so in a line instead of a traceback.
        log.debug("event loop ended early", exc_info=True)
        print("Ollama Launcher stopped: the connection to the display was lost.", file=sys.stderr)
        return 1
    finally:
        started.instance.close()


def main() -> int:
    """Kept for callers of the old entry point: the command line lives in launcher.cli."""
    from launcher.cli import main as cli_main

    return cli_main()
