"""The main window: host switcher, status, Start/Stop, menus, and the Chat, Models and Log tabs.

It holds no protocol or process logic: it observes the Launcher and sends it
commands. It never resizes itself (long texts are elided, the central area
has a fixed small minimum), remembers its layout (`window_state`), and closing
it quits the app in order: streams and downloads are cancelled, a server we
started is stopped, connections are closed.

It is built in two steps, so that the app paints it before the launcher's core is
even imported: `MainWindow()` is the shell (`shell.WindowShell`: title, geometry,
theme, a skeleton), `attach(launcher)` builds the real controls into it. This
module's own imports stay light for that reason; the parts are imported in
`attach`. Attached `deferred` (as the app does), the pages nobody sees at first
and the tray come after the next paint (`deferred_pages`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from launcher.ui.deferred_pages import DeferredPages
from launcher.ui.shell import MIN_CENTRAL as MIN_CENTRAL
from launcher.ui.theme import ThemeMode, icon
from launcher.ui.window_pages import WindowPages
from launcher.ui.window_state import WindowState, save_state

if TYPE_CHECKING:  # imported by `attach` or when first opened: not before the first paint
    import asyncio  # by then the loop runs: imported where used

    from launcher.config import HostProfile
    from launcher.core.launcher import Launcher
    from launcher.core.status import ServerStatus
    from launcher.ui.chat_view import ChatPanel
    from launcher.ui.history_wiring import HistoryWiring
    from launcher.ui.notice import ServerNotice
    from launcher.ui.server_bar import ServerBar
    from launcher.ui.settings_dialog import SettingsDialog
    from launcher.ui.sidebar import ConversationsSidebar


class MainWindow(WindowPages):
    """The launcher window: `MainWindow()` is its shell, `attach(launcher)` makes it work
    (`MainWindow(launcher)` does both).

    Signals:
        shutdownFinished(): the orderly shutdown after a close request is done.
    """

    shutdownFinished = Signal()

    def __init__(
        self,
        launcher: Launcher | None = None,
        parent: QWidget | None = None,
        *,
        deferred: bool = False,
    ) -> None:
        super().__init__(parent)  # the shell: title, geometry, theme, skeleton
        self._shutdown_task: asyncio.Task[None] | None = None
        self._shutdown_done = False
        self._quit_requested = False
        self._tray = None
        if launcher is not None:
            self.attach(launcher, deferred=deferred)

    def attach(self, launcher: Launcher, *, deferred: bool = False) -> None:
        """Build the real controls for `launcher` into this window, in place of the skeleton.

        `deferred`: the Models, Server log and Diagnostics pages, the menu icons and
        the tray come after the window's next paint (or `pages.start()`)."""
        from launcher.ui.chat_view import ChatPanel
        from launcher.ui.history_wiring import HistoryWiring
        from launcher.ui.menus import WindowMenus
        from launcher.ui.notice import ServerNotice
        from launcher.ui.server_bar import ServerBar
        from launcher.ui.sidebar import ConversationsSidebar

        if self.is_attached():
            raise RuntimeError("attach() once: a window shows one launcher")
        self.drop_skeleton()
        self.launcher = launcher
        # Qt owns the launcher from now on, so it is destroyed with the window on
        # the GUI thread, never by Python's cycle collector on some other thread.
        launcher.setParent(self)

        self.bar: ServerBar = ServerBar(self)
        self.host_combo = self.bar.host_combo
        self.status_indicator = self.bar.status_indicator
        self.start_button = self.bar.start_button
        self.stop_server_button = self.bar.stop_server_button
        self.settings_button = self.bar.settings_button
        self.settings_dialog: SettingsDialog | None = None
        self._settings_opening = False

        self.chat: ChatPanel = ChatPanel(launcher.chat, self)
        self.sidebar: ConversationsSidebar = ConversationsSidebar(self)
        chat_page = QSplitter(Qt.Orientation.Horizontal, self)
        chat_page.addWidget(self.sidebar)
        chat_page.addWidget(self.chat)
        chat_page.setStretchFactor(0, 1)
        chat_page.setStretchFactor(1, 4)
        chat_page.setSizes([230, 750])
        chat_page.setCollapsible(0, False)  # hidden with Ctrl+B, never squeezed to nothing
        chat_page.setCollapsible(1, False)
        self.splitter = chat_page
        self.notice: ServerNotice = ServerNotice(self)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Sections")
        self.tabs.tabBar().setAccessibleName("Section tabs")
        self.tabs.addTab(chat_page, "&Chat")
        self.pages = DeferredPages(self.tabs, self)
        self.pages.built.connect(self._on_page_built)
        self.pages.add("models", "M&odels", self._build_models, defer=deferred)
        self.pages.add("log", "Server &log", self._build_log, defer=deferred)
        self.pages.add("diagnostics", "&Diagnostics", self._build_diagnostics, defer=deferred)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.bar)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        central.setMinimumSize(*MIN_CENTRAL)  # children are squeezed, the window never grows
        self.setCentralWidget(central)
        self.history_wiring: HistoryWiring = HistoryWiring(
            launcher, self.sidebar, self.chat, self.statusBar(), self
        )

        self.setTabOrder(self.host_combo, self.settings_button)
        self.setTabOrder(self.settings_button, self.status_indicator)
        self.setTabOrder(self.status_indicator, self.start_button)
        self.setTabOrder(self.start_button, self.stop_server_button)
        self.setTabOrder(self.stop_server_button, self.notice.action)
        self.setTabOrder(self.notice.action, self.tabs)
        self.menus = WindowMenus(self)
        # Menu icons are not seen until a menu opens: drawn after the first paint.
        self._menu_icons_later = deferred
        self.theme.changed.connect(self._on_theme)
        self.notice.actionRequested.connect(self._notice_action)
        self._restore_state(self.window_state)

        self._fill_hosts()
        self.bar.hostChosen.connect(launcher.switch_host)
        self.settings_button.clicked.connect(self.open_settings)
        launcher.profilesChanged.connect(lambda _profiles: self._fill_hosts())
        self.start_button.clicked.connect(self.start_server)
        self.stop_server_button.clicked.connect(self.stop_server)
        monitor = launcher.monitor
        monitor.statusChanged.connect(self._on_status)
        monitor.startFailed.connect(self._on_start_failed)
        launcher.supervisor.started.connect(self._update_buttons)
        launcher.supervisor.exited.connect(self._update_buttons)
        launcher.catalog.modelsChanged.connect(self.chat.set_models)
        launcher.hostChanged.connect(self._on_host_changed)
        self._on_status(monitor.status)
        for name in ("models", "log", "diagnostics"):
            if self.pages.is_built(name):
                self._on_page_built(name, self.pages.get(name))
        if self.tabs.currentIndex() == 0:
            self.chat.message.setFocus()  # type at once (the skeleton had nothing to focus)
        if deferred:
            self.pages.after(self._draw_menu_icons)
            self.pages.after(self._ensure_tray)  # the tray icon right after the pages
            self.pages.start_after_first_paint(self)
        else:
            self._tray = self._build_tray()
        if self.close_requested:  # closed while it was the shell
            QTimer.singleShot(0, self, self.close)

    # ---- layout, theme, remembered state ---------------------------------

    def _restore_state(self, state: WindowState) -> None:
        """The rest of what the shell restored (geometry, theme) before the first paint."""
        if not state.splitter.isEmpty():
            self.splitter.restoreState(state.splitter)
        self.tabs.setCurrentIndex(min(max(state.tab, 0), self.tabs.count() - 1))
        self.set_sidebar_visible(state.sidebar)
        # The shell applied the theme already: only the menu's check mark and the icons.
        self.menus.theme_actions[self.theme.mode].setChecked(True)
        self._on_theme(self.theme.scheme)

    def save_state(self) -> None:
        """Remember size, position, splitter, tab, sidebar and theme for the next run."""
        save_state(
            WindowState(
                geometry=self.saveGeometry(),
                splitter=self.splitter.saveState(),
                tab=self.tabs.currentIndex(),
                sidebar=not self.sidebar.isHidden(),
                theme=self.theme.mode.value,
            )
        )

    def set_sidebar_visible(self, visible: bool) -> None:
        """Show or hide the conversations list (View > Show conversations sidebar, Ctrl+B)."""
        self.sidebar.setVisible(visible)
        self.menus.toggle_sidebar.setChecked(visible)

    def set_theme(self, mode: ThemeMode) -> None:
        """System, Light or Dark (View > Theme)."""
        self.menus.theme_actions[mode].setChecked(True)
        self.theme.set_mode(mode)

    def _on_theme(self, _scheme: object) -> None:
        if not self._menu_icons_later:
            self.menus.refresh_icons()
        buttons = [
            (self.start_button, "start"),
            (self.stop_server_button, "stop"),
            (self.settings_button, "settings"),
            (self.notice.copy_command, "copy"),
        ]
        if self.pages.is_built("log"):
            buttons += [(self.log_view.copy_button, "copy"), (self.log_view.save_button, "save")]
        for button, art in buttons:
            button.setIcon(icon(art))

    # ---- menu commands --------------------------------------------------

    def new_chat(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.history_wiring.new_chat()

    def _notice_action(self, action: str) -> None:
        if action == "Start server":
            self.start_server()
        elif action == "Settings":
            self.open_settings()
        elif action == "Retry":
            self.launcher.monitor.wake()
        elif action == "Open download page":
            from PySide6.QtCore import QUrl
            from PySide6.QtGui import QDesktopServices

            from launcher.core.guidance import DOWNLOAD_URL

            QDesktopServices.openUrl(QUrl(DOWNLOAD_URL))

    # ---- hosts ----------------------------------------------------------

    def _fill_hosts(self) -> None:
        self.bar.fill_hosts(self.launcher.profiles, self.launcher.profile.id)

    def _on_host_changed(self, profile: HostProfile) -> None:
        self.bar.select_host(profile.id)
        self.chat.set_models([])
        # Messages about the previous host would now be wrong (the Models page clears
        # its own "Deleted gemma3:1b." when its list changes host).
        self.statusBar().clearMessage()
        self._update_buttons()

    # ---- settings -------------------------------------------------------

    def open_settings(self) -> None:
        """Open the settings dialog (window-modal, opened, never exec'd).

        The API keys and whether the keyring persists them are read first, in
        a worker thread: the keyring may block on D-Bus.
        """
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        if not self._settings_opening:
            self._settings_opening = True
            self.launcher.tasks.spawn(self._open_settings())

    async def _open_settings(self) -> None:
        from launcher.ui.settings_dialog import SettingsDialog

        try:
            available, keys = await self.launcher.read_keys()
        finally:
            self._settings_opening = False
        dialog = SettingsDialog(self.launcher, keys, available, self)
        dialog.applied.connect(self._on_settings_applied)
        dialog.finished.connect(self._on_settings_closed)
        self.settings_dialog = dialog
        dialog.open()

    def _on_settings_applied(self, session_only: list[str]) -> None:
        if session_only:
            self.statusBar().showMessage(
                "Settings saved. No system keyring: the API key of "
                + ", ".join(session_only)
                + " is kept for this session only."
            )
        else:
            self.statusBar().showMessage("Settings saved.", 5000)

    def _on_settings_closed(self) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    # ---- server ---------------------------------------------------------

    def start_server(self) -> None:
        if self.launcher.monitor.can_start:
            self.launcher.tasks.spawn(self.launcher.monitor.start_server())
            self._update_buttons()

    def stop_server(self) -> None:
        if self.launcher.monitor.can_stop:
            self.launcher.tasks.spawn(self.launcher.monitor.stop_server())
            self._update_buttons()

    def restart_server(self) -> None:
        """Server > Restart: stop the server we started, then start it again."""
        if self.launcher.monitor.can_stop:
            self.launcher.tasks.spawn(self._restart())
            self._update_buttons()

    async def _restart(self) -> None:
        await self.launcher.monitor.stop_server()
        await self.launcher.monitor.start_server()

    def _on_status(self, status: ServerStatus) -> None:
        self.status_indicator.set_status(status)
        explanation = None
        from launcher.core.guidance import status_explanation
        from launcher.core.status import ServerState

        # States whose explanation is shown in the notice above the pages (the others
        # are transient, or answered by the Start button beside the status).
        notice_states = (
            ServerState.NOT_INSTALLED,
            ServerState.CRASHED,
            ServerState.PORT_IN_USE,
            ServerState.UNREACHABLE,
        )
        if status.state in notice_states:
            host = self.launcher.monitor.profile.base_url
            explanation = status_explanation(status, host, with_command=False)
        self.notice.set_explanation(explanation, install=status.state is ServerState.NOT_INSTALLED)
        self._update_buttons()

    def _on_start_failed(self, message: str) -> None:
        self.statusBar().showMessage(message)

    def _update_buttons(self, *_: object) -> None:
        monitor = self.launcher.monitor
        managed = monitor.profile.managed
        self.bar.update_buttons(
            can_start=monitor.can_start,
            can_stop=monitor.can_stop,
            managed=managed,
            external=monitor.status.external,
        )
        menus = getattr(self, "menus", None)  # None while the window is being built
        if menus is not None:
            for action, allowed in (
                (menus.start, monitor.can_start),
                (menus.stop, monitor.can_stop),
                (menus.restart, monitor.can_stop),
            ):
                action.setEnabled(allowed)
                action.setVisible(managed)

    # ---- quitting -------------------------------------------------------

    async def shutdown(self) -> None:
        """Cancel streams and downloads, stop our server, close connections (idempotent)."""
        import asyncio

        if self._shutdown_task is None:
            self._shutdown_task = asyncio.ensure_future(self.launcher.shutdown())
        await asyncio.shield(self._shutdown_task)
        if not self._shutdown_done:
            self._shutdown_done = True
            self.shutdownFinished.emit()

    def quit(self) -> None:
        """Quit for real, even when the launcher is kept in the tray."""
        self._quit_requested = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Close only after the orderly shutdown: the first close starts it, then closes
        again. With "keep in tray" on and a tray to live in, closing only hides."""
        if not self.is_attached():
            super().closeEvent(event)  # closed once attached
            return
        if self._shutdown_done:
            event.accept()
            return
        if self._shutdown_task is None:
            self.save_state()
        tray = self._tray
        if not self._quit_requested and tray is not None and tray.hide_window():
            event.ignore()
            return
        event.ignore()
        if self._shutdown_task is None:
            import asyncio

            self.statusBar().showMessage("Shutting down…")
            self.setEnabled(False)
            task = asyncio.ensure_future(self.shutdown())
            task.add_done_callback(lambda _t: self.close())
