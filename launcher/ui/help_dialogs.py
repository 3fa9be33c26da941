"""Help > Keyboard shortcuts and Help > About.

The shortcuts list is collected from the live window (menu actions, shortcuts,
buttons with a key), so it cannot drift from what the keys really do; only the
keys handled inside text boxes are listed by hand.
"""

from __future__ import annotations

import platform

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher import __version__

#: Keys handled where the user types (event filters), not by an action or shortcut.
TYPING_KEYS = [
    ("Send the message (Shift+Enter: new line; swapped in Settings)", "Enter"),
    ("Send the message", "Ctrl+Enter"),
    ("Stop the reply, or cancel an edit", "Esc"),
    ("Rename the selected conversation", "F2"),
    ("Delete the selected conversation", "Del"),
    ("Search the Server log (in the log)", "Ctrl+F"),
]


def _native(keys: QKeySequence) -> str:
    return keys.toString(QKeySequence.SequenceFormat.NativeText)


def action_keys(action: QAction) -> str:
    """An action's key: its shortcut, or the label after a tab when another control owns it."""
    if not action.shortcut().isEmpty():
        return _native(action.shortcut())
    text = action.text()
    return text.split("\t", 1)[1] if "\t" in text else ""


def _clean(text: str) -> str:
    return text.split("\t", 1)[0].replace("&&", "\0").replace("&", "").replace("\0", "&")


def collect_shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """(what it does, keys) for every key the window answers to, without duplicates."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(what: str, keys: str) -> None:
        if keys and keys not in seen:
            seen.add(keys)
            rows.append((what, keys))

    for action in window.findChildren(QAction):
        if action.menu() is None and not action.isSeparator():
            add(_clean(action.text()), action_keys(action))
    for shortcut in window.findChildren(QShortcut):
        add(shortcut.whatsThis() or "Shortcut", _native(shortcut.key()))
    for button in window.findChildren(QAbstractButton):
        if not button.shortcut().isEmpty():
            add(button.accessibleName() or _clean(button.text()), _native(button.shortcut()))
    for what, keys in TYPING_KEYS:
        add(what, keys)
    return rows


class ShortcutsDialog(QDialog):
    """A table of every shortcut; opened with `open()`, never exec'd."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.resize(520, 520)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setAccessibleName("Shortcuts")
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (what, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str]]:
        def cell(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""

        return [(cell(r, 0), cell(r, 1)) for r in range(self.table.rowCount())]


def versions(server_version: str) -> list[tuple[str, str]]:
    """What About lists: every version a bug report needs."""
    return [
        ("Ollama Launcher", __version__),
        ("Ollama server", server_version or "not connected"),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("Python", platform.python_version()),
    ]


class AboutDialog(QDialog):
    """The versions, selectable so they can be pasted into a bug report."""

    def __init__(self, server_version: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Ollama Launcher")
        self.setAccessibleName("About Ollama Launcher")
        lines = "\n".join(f"{name}: {version}" for name, version in versions(server_version))
        intro = QLabel("Ollama Launcher runs and talks to Ollama on this computer or another.")
        intro.setWordWrap(True)
        self.versions = QLabel(lines, self)
        self.versions.setAccessibleName("Versions")
        self.versions.setTextFormat(Qt.TextFormat.PlainText)
        self.versions.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.versions)
        layout.addWidget(buttons)
