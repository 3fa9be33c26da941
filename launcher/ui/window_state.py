"""What the window remembers between runs: geometry, splitter sizes, last tab, sidebar, theme.

Kept in a QSettings INI file next to our settings file (`window.ini` in the
config folder), not in `settings.json`: it is per-machine layout, rewritten on
every close, and losing it costs nothing but a default layout.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QByteArray, QSettings

from launcher.dirs import config_dir

FILE_NAME = "window.ini"


class WindowState(NamedTuple):
    """The remembered layout; empty geometry means "never saved" (use the defaults).

    A read-only record (a NamedTuple: `dataclasses` is not loaded before the first paint)."""

    geometry: QByteArray = QByteArray()
    splitter: QByteArray = QByteArray()
    tab: int = 0
    sidebar: bool = True
    theme: str = "system"


def _store() -> QSettings:
    return QSettings(str(config_dir() / FILE_NAME), QSettings.Format.IniFormat)


def load_state() -> WindowState:
    """The saved state, or the defaults for anything missing or unreadable."""
    store = _store()
    geometry = store.value("window/geometry")
    splitter = store.value("window/splitter")
    try:
        tab = int(str(store.value("window/tab", 0)))
    except ValueError:
        tab = 0
    theme = str(store.value("window/theme", "system"))
    return WindowState(
        geometry=geometry if isinstance(geometry, QByteArray) else QByteArray(),
        splitter=splitter if isinstance(splitter, QByteArray) else QByteArray(),
        tab=tab,
        sidebar=str(store.value("window/sidebar", "true")).lower() != "false",
        theme=theme if theme in ("system", "light", "dark") else "system",
    )


def save_state(state: WindowState) -> None:
    """Write the state (QSettings writes it to disk on sync; the file is small)."""
    store = _store()
    store.setValue("window/geometry", state.geometry)
    store.setValue("window/splitter", state.splitter)
    store.setValue("window/tab", state.tab)
    store.setValue("window/sidebar", "true" if state.sidebar else "false")
    store.setValue("window/theme", state.theme)
    store.sync()
