"""The main window's pages that are built when first needed, and the wiring of each.

Kept apart from `main_window` (which owns the layout, the server commands and
quitting): the Models, Server log and Diagnostics pages and the tray are
imported and built when first asked for, or after the first paint when the
window is built `deferred` (see `deferred_pages`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from launcher.ui.shell import WindowShell
from launcher.ui.theme import icon

if TYPE_CHECKING:
    from launcher.core.launcher import Launcher
    from launcher.ui.deferred_pages import DeferredPages
    from launcher.ui.diagnostics_view import DiagnosticsPanel
    from launcher.ui.log_view import LogView
    from launcher.ui.main_window import MainWindow
    from launcher.ui.menus import WindowMenus
    from launcher.ui.models_view import ModelsPanel
    from launcher.ui.tray import LauncherTray


class WindowPages(WindowShell):
    """The lazily built parts of the main window (a base of `MainWindow`, on its shell)."""

    launcher: Launcher
    pages: DeferredPages
    menus: WindowMenus
    _tray: LauncherTray | None
    _menu_icons_later: bool

    @property
    def models(self) -> ModelsPanel:
        from launcher.ui.models_view import ModelsPanel

        page = self.pages.get("models")
        assert isinstance(page, ModelsPanel)
        return page

    @property
    def log_view(self) -> LogView:
        from launcher.ui.log_view import LogView

        page = self.pages.get("log")
        assert isinstance(page, LogView)
        return page

    @property
    def diagnostics(self) -> DiagnosticsPanel:
        from launcher.ui.diagnostics_view import DiagnosticsPanel

        page = self.pages.get("diagnostics")
        assert isinstance(page, DiagnosticsPanel)
        return page

    @property
    def tray(self) -> LauncherTray:
        """The tray icon and its menu (built after the first paint when deferred)."""
        if self._tray is None:
            self._tray = self._build_tray()
        return self._tray

    def _draw_menu_icons(self) -> None:
        self._menu_icons_later = False
        self.menus.refresh_icons()

    def _ensure_tray(self) -> None:
        self._tray = self.tray

    def _build_tray(self) -> LauncherTray:
        from launcher.ui.tray import LauncherTray

        return LauncherTray(cast("MainWindow", self))

    def _build_models(self) -> QWidget:
        from launcher.ui.models_view import ModelsPanel

        launcher = self.launcher
        return ModelsPanel(
            launcher.downloads, launcher.catalog, launcher.tasks, self, inspector=launcher.inspector
        )

    def _build_log(self) -> QWidget:
        from launcher.ui.log_view import LogView

        return LogView(self.launcher.log, self, spawn=self.launcher.tasks.spawn)

    def _build_diagnostics(self) -> QWidget:
        from launcher.ui.diagnostics_view import DiagnosticsPanel

        return DiagnosticsPanel(self.launcher, self)

    def _on_page_built(self, name: str, page: QWidget) -> None:
        """Wire a page to the window, whenever it is built."""
        if name == "models":
            self.models.summaryChanged.connect(self._on_download_summary)
        elif name == "log":
            self.log_view.message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
            self.log_view.copy_button.setIcon(icon("copy"))
            self.log_view.save_button.setIcon(icon("save"))
        menus = getattr(self, "menus", None)  # None while the window is being built
        if menus is not None:
            self._release_shortcuts(page)

    def _release_shortcuts(self, page: QWidget) -> None:
        """A page built after the menus brings its own shortcuts: a menu command with
        the same keys now only names them (as `WindowMenus` does for pages built
        first), or the two would be ambiguous and neither would work."""
        from PySide6.QtGui import QKeySequence, QShortcut  # not before the first paint
        from PySide6.QtWidgets import QAbstractButton

        owned = {s.key().toString() for s in page.findChildren(QShortcut)}
        owned |= {b.shortcut().toString() for b in page.findChildren(QAbstractButton)}
        owned.discard("")
        for action in self.findChildren(QAction):
            keys = action.shortcut().toString()
            if keys and keys in owned:
                action.setShortcut(QKeySequence())
                action.setText(f"{action.text()}\t{keys}")

    def _on_download_summary(self, text: str, per_mille: int) -> None:
        """Keep a running download visible from every tab."""
        active = per_mille >= 0
        self.download_label.setText(text)
        self.download_label.setVisible(active)
        self.download_bar.setVisible(active)
        if active:
            self.download_bar.setValue(per_mille)
