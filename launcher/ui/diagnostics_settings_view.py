"""The effective-settings grid of the Diagnostics panel: name, value, and what we asked for."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

DIFF_STYLE = "color: #b71c1c; font-weight: bold;"


def plain_label(parent: QWidget, name: str, text: str = "") -> QLabel:
    """A selectable plain-text label with an accessible name (never rich text)."""
    label = QLabel(text, parent)
    label.setAccessibleName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class EffectiveSettingsView(QWidget):
    """What the server reports it runs with; values that differ from our request in red.

    Each row's labels are named `Setting NAME`, `Value of NAME` and `Asked for NAME`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Effective settings")
        self.title = plain_label(self, "Effective settings title", "Effective settings")
        self.title.setStyleSheet("font-weight: bold;")
        self.box = QWidget(self)
        self.grid = QGridLayout(self.box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.box)
        self._shown: tuple[object, ...] | None = None

    def show_config(self, config: dict[str, str], differing: dict[str, str], ours: bool) -> None:
        """Rebuild the rows (only when something changed: the panel repaints often)."""
        key = (tuple(sorted(config.items())), tuple(sorted(differing.items())), ours)
        if key == self._shown:
            return
        self._shown = key
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        if not ours or not config:
            self.title.setText(
                "Effective settings: reported by a server the launcher starts "
                "(its `server config` log line)."
            )
            return
        self.title.setText("Effective settings (as the server reports them)")
        for row, (name, value) in enumerate(sorted(config.items())):
            value_label = plain_label(self.box, f"Value of {name}", value or "(default)")
            name_label = plain_label(self.box, f"Setting {name}", name)
            name_label.setAccessibleDescription(f"{name}={value}")  # read as one by a reader
            self.grid.addWidget(name_label, row, 0)
            self.grid.addWidget(value_label, row, 1)
            if name in differing:
                value_label.setStyleSheet(DIFF_STYLE)
                asked = plain_label(self.box, f"Asked for {name}", f"asked for {differing[name]}")
                asked.setStyleSheet(DIFF_STYLE)
                self.grid.addWidget(asked, row, 2)
        self.grid.setColumnStretch(1, 1)  # long values (origins) wrap instead of widening
