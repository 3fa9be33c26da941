"""The menu bar: File, Edit, View, Server, Models, Help, as actions on the main window.

Every action has a text and, for the common ones, a shortcut; the Keyboard
shortcuts dialog reads them from here. Where a chat button already owns a key
(Ctrl+R regenerates, …), the menu shows the key after a tab instead of
registering it twice (two owners of one key make Qt fire neither).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QMenu, QWidget

from launcher.ui.help_dialogs import AboutDialog, ShortcutsDialog, collect_shortcuts
from launcher.ui.theme import ThemeMode, icon

if TYPE_CHECKING:
    from launcher.ui.main_window import MainWindow

#: Optional panels other parts of the app may provide: (module, menu text).
RESTORE_MODULE = "launcher.ui.backups_dialog"
DIAGNOSTICS_MODULE = "launcher.ui.diagnostics_view"


def available(module: str) -> bool:
    """Whether an optional module is installed (its menu entry is shown only then)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class WindowMenus:
    """Builds the menu bar of `window` and keeps its actions as attributes."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.dialog: ShortcutsDialog | AboutDialog | None = None
        self._icons: list[tuple[QAction, str]] = []
        self._owned: list[QKeySequence] | None = None
        bar = window.menuBar()
        bar.setAccessibleName("Menu bar")

        file = self._menu("&File")
        self.new_chat = self._add(file, "&New chat", window.new_chat, "Ctrl+N", "new-chat")
        file.addSeparator()
        self.import_chat = self._add(
            file, "&Import conversation…", window.sidebar.importRequested.emit
        )
        self.export_markdown = self._add(
            file, "Export as &Markdown…", lambda: window.sidebar.export_current("markdown")
        )
        self.export_json = self._add(
            file, "Export as &JSON…", lambda: window.sidebar.export_current("json")
        )
        self.restore: QAction | None = None
        if available(RESTORE_MODULE):
            self.restore = self._add(file, "&Restore from backup…", self._open_restore)
        file.addSeparator()
        self.settings = self._add(file, "&Settings…", window.open_settings, "Ctrl+,", "settings")
        file.addSeparator()
        self.quit = self._add(file, "&Quit", window.quit, "Ctrl+Q", "quit")

        edit = self._menu("&Edit")
        self.copy_reply = self._add(
            edit, "&Copy last reply", lambda: self._chat("copy_last_reply"), "Ctrl+Shift+C", "copy"
        )
        self.edit_last = self._add(
            edit, "&Edit last message", lambda: self._chat("edit_last"), "Ctrl+E"
        )
        self.regenerate = self._add(
            edit, "&Regenerate reply", lambda: self._chat("regenerate"), "Ctrl+R", "restart"
        )
        self.continue_reply = self._add(
            edit, "C&ontinue reply", lambda: self._chat("continue_reply"), "Ctrl+Shift+Return"
        )
        self.stop_reply = self._add(edit, "&Stop reply", lambda: self._chat("stop"), "", "stop")
        edit.aboutToShow.connect(self._sync_edit)

        view = self._menu("&View")
        names = ("&Chat", "M&odels", "Server &log", "&Diagnostics")
        arts = ("", "", "log", "")
        self.tab_actions = [
            self._add(view, name, lambda i=i: window.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}", art)
            for i, (name, art) in enumerate(zip(names, arts, strict=True))
        ]
        self.show_log = self.tab_actions[2]
        view.addSeparator()
        self.toggle_sidebar = self._add(
            view,
            "Show conversations &sidebar",
            lambda: window.set_sidebar_visible(self.toggle_sidebar.isChecked()),
            "Ctrl+B",
            "sidebar",
        )
        self.toggle_sidebar.setCheckable(True)
        self.toggle_sidebar.setChecked(True)
        theme = view.addMenu("&Theme")
        theme.setAccessibleName("Theme")
        group = QActionGroup(window)
        self.theme_actions: dict[ThemeMode, QAction] = {}
        for mode, text in (
            (ThemeMode.SYSTEM, "Follow the &system"),
            (ThemeMode.LIGHT, "&Light"),
            (ThemeMode.DARK, "&Dark"),
        ):
            action = self._add(theme, text, lambda m=mode: window.set_theme(m))
            action.setCheckable(True)
            group.addAction(action)
            self.theme_actions[mode] = action

        server = self._menu("&Server")
        self.start = self._add(
            server, "&Start server", window.start_server, "Ctrl+Shift+S", "start"
        )
        self.stop = self._add(server, "S&top server", window.stop_server, "Ctrl+Shift+X", "stop")
        self.restart = self._add(
            server, "&Restart server", window.restart_server, "Ctrl+Shift+R", "restart"
        )
        server.addSeparator()
        server.addAction(self.show_log)
        self.diagnostics: QAction | None = None
        if available(DIAGNOSTICS_MODULE):
            self.diagnostics = self._add(server, "&Diagnostics…", self.open_diagnostics)

        models = self._menu("&Models")
        self.pull = self._add(models, "&Pull a model…", self.ask_pull, "Ctrl+Shift+P", "download")
        self.refresh = self._add(
            models, "&Refresh", window.launcher.refresh_models, "F5", "refresh"
        )
        models.addSeparator()  # Models you build (the Models page's own buttons)
        self.import_gguf = self._add(
            models, "&Import GGUF…", lambda: self._build("import_button"), "Ctrl+I"
        )
        self.new_model_from = self._add(
            models, "&New model from…", lambda: self._build("derive_button"), "Ctrl+Shift+M"
        )

        help_menu = self._menu("&Help")
        self.shortcuts = self._add(
            help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1", "help"
        )
        self.about = self._add(help_menu, "&About Ollama Launcher", self.show_about)
        self._owned = None  # pages may gain keys later: look again next time

    def ask_pull(self) -> None:
        """Models > Pull: the Models page, with the cursor in the name box."""
        self.window.tabs.setCurrentWidget(self.window.models)
        field = getattr(self.window.models, "pull_name", None)
        if isinstance(field, QWidget):
            field.setFocus()

    def _build(self, button: str) -> None:
        """Models > Import GGUF / New model from: the Models page, then its button."""
        self.window.tabs.setCurrentWidget(self.window.models)
        target = getattr(getattr(self.window.models, "build_panel", None), button, None)
        if isinstance(target, QAbstractButton):
            target.click()

    def open_diagnostics(self) -> None:
        """Server > Diagnostics, when the diagnostics panel is installed."""
        module = importlib.import_module(DIAGNOSTICS_MODULE)
        opener = getattr(module, "open_diagnostics", None)
        if callable(opener):
            opener(self.window, self.window.launcher)

    def show_shortcuts(self) -> None:
        self._show_dialog(ShortcutsDialog(collect_shortcuts(self.window), self.window))

    def show_about(self) -> None:
        self._show_dialog(AboutDialog(self.window.launcher.monitor.status.version, self.window))

    def _show_dialog(self, dialog: ShortcutsDialog | AboutDialog) -> None:
        """One help dialog at a time, opened (never exec'd), forgotten once closed."""
        if self.dialog is not None:
            self.dialog.close()
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self, dialog: ShortcutsDialog | AboutDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _menu(self, title: str) -> QMenu:
        menu = self.window.menuBar().addMenu(title)
        menu.setAccessibleName(title.replace("&", ""))
        return menu

    def _add(
        self, menu: QMenu, text: str, slot: Callable[..., object], keys: str = "", art: str = ""
    ) -> QAction:
        action = QAction(text, self.window)
        if keys:
            if self._owned_by_button(QKeySequence(keys)):
                action.setText(f"{text}\t{keys}")  # the key works through its button
            else:
                action.setShortcut(QKeySequence(keys))
        if art:
            self._icons.append((action, art))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _owned_by_button(self, keys: QKeySequence) -> bool:
        """Whether a button or shortcut of a page already answers to `keys` (the
        window's keys are collected once per menu built: two searches of every
        widget per command were a noticeable part of start-up)."""
        if self._owned is None:
            window = self.window
            self._owned = [b.shortcut() for b in window.findChildren(QAbstractButton)]
            self._owned += [s.key() for s in window.findChildren(QShortcut)]
        return keys in self._owned

    def refresh_icons(self) -> None:
        """Redraw the icons in the current palette's colours (after a theme change)."""
        for action, art in self._icons:
            action.setIcon(icon(art))

    def _chat(self, method: str) -> None:
        slot = getattr(self.window.chat, method, None)
        if callable(slot):
            self.window.tabs.setCurrentIndex(0)
            slot()

    def _sync_edit(self) -> None:
        """Enable the Edit actions as their chat buttons are enabled right now."""
        chat = self.window.chat
        for action, name in (
            (self.copy_reply, "copy_button"),
            (self.edit_last, "edit_button"),
            (self.regenerate, "regenerate_button"),
            (self.continue_reply, "continue_button"),
            (self.stop_reply, "stop_button"),
        ):
            button = getattr(chat, name, None)
            action.setEnabled(not isinstance(button, QAbstractButton) or button.isEnabled())

    def _open_restore(self) -> None:
        module = importlib.import_module(RESTORE_MODULE)
        module.open_restore_dialog(self.window, self.window.launcher)
