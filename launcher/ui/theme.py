"""Light and dark: one palette per scheme, following the system unless the user chose one.

The rule that picks the scheme (`effective_scheme`) is pure; `Theme` applies it
to the application and re-applies it when the system switches. Icons are
drawn from the small SVGs in `launcher/ui/icons/` in the palette's text colour,
so they read in both schemes.
"""

from __future__ import annotations

import enum
from functools import cache

from PySide6.QtCore import QByteArray, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from launcher import assets


class ThemeMode(enum.Enum):
    """What the user chose in View > Theme."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


def effective_scheme(mode: ThemeMode, system: Qt.ColorScheme) -> Qt.ColorScheme:
    """The scheme to show: the user's choice, else the system's (light when it has none)."""
    if mode is ThemeMode.LIGHT:
        return Qt.ColorScheme.Light
    if mode is ThemeMode.DARK:
        return Qt.ColorScheme.Dark
    return Qt.ColorScheme.Dark if system == Qt.ColorScheme.Dark else Qt.ColorScheme.Light


# (window, base, alternate base, text, button, highlight, link, disabled text)
_COLOURS = {
    Qt.ColorScheme.Light: (
        "#f5f6f8",
        "#ffffff",
        "#eef0f3",
        "#1d1f23",
        "#e9ebef",
        "#2f6fd6",
        "#1f5fbf",
        "#9aa0a8",
    ),
    Qt.ColorScheme.Dark: (
        "#1f2125",
        "#26282d",
        "#2c2f35",
        "#e6e8eb",
        "#2f3238",
        "#4b8cf0",
        "#7fb0ff",
        "#6c727a",
    ),
}


def palette_for(scheme: Qt.ColorScheme) -> QPalette:
    """The application palette for one scheme."""
    window, base, alt, text, button, highlight, link, disabled = (
        QColor(c) for c in _COLOURS[scheme]
    )
    role = QPalette.ColorRole
    palette = QPalette()
    for r, colour in (
        (role.Window, window),
        (role.Base, base),
        (role.AlternateBase, alt),
        (role.ToolTipBase, base),
        (role.Button, button),
        (role.Highlight, highlight),
        (role.Link, link),
        (role.LinkVisited, link),
        (role.WindowText, text),
        (role.Text, text),
        (role.ButtonText, text),
        (role.ToolTipText, text),
        (role.PlaceholderText, disabled),
    ):
        palette.setColor(r, colour)
    palette.setColor(role.HighlightedText, QColor("#ffffff"))
    # Fusion draws frames and bevels from these: derive them from the window colour.
    dark_scheme = scheme == Qt.ColorScheme.Dark
    palette.setColor(role.Light, window.lighter(160 if dark_scheme else 110))
    palette.setColor(role.Midlight, window.lighter(130 if dark_scheme else 105))
    palette.setColor(role.Mid, window.darker(130 if dark_scheme else 125))
    palette.setColor(role.Dark, window.darker(160 if dark_scheme else 150))
    palette.setColor(role.Shadow, QColor("#000000"))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, disabled)
    return palette


#: One consistent look on top of the palette. Only what Fusion does not draw from the
#: palette already: styling a button or field here would replace its whole frame.
STYLESHEET = """
QFrame#ServerNotice {
    border: 1px solid palette(highlight);
    border-radius: 6px;
    background: palette(alternate-base);
}
QStatusBar QLabel { padding: 0 4px; }
"""


@cache
def _svg(name: str) -> str:
    return assets.shipped("ui", "icons", f"{name}.svg").read_text("utf-8")


def icon(name: str, colour: QColor | None = None) -> QIcon:
    """The named icon from `launcher/ui/icons/`, drawn in `colour` (default: the text colour)."""
    # Imported here: the window's first paint draws no icon of ours (~2.5 ms).
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgRenderer

    if colour is None:
        colour = QGuiApplication.palette().color(QPalette.ColorRole.ButtonText)
    svg = _svg(name).replace("currentColor", colour.name())
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in (16, 24, 32, 48):
        pixmap = QPixmap(QSize(size, size))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


class Theme(QObject):
    """Applies the chosen scheme to the application; follows the system in SYSTEM mode.

    Signals:
        changed(Qt.ColorScheme): the scheme now shown (redraw icons and colours).
    """

    changed = Signal(object)

    def __init__(self, mode: ThemeMode = ThemeMode.SYSTEM, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = mode
        self.scheme = Qt.ColorScheme.Light
        hints = QGuiApplication.styleHints()
        self.system = hints.colorScheme()
        hints.colorSchemeChanged.connect(self._on_system_changed)

    def _on_system_changed(self, scheme: Qt.ColorScheme) -> None:
        """The desktop switched between light and dark (the signal carries the new scheme)."""
        self.system = scheme
        if self.mode is ThemeMode.SYSTEM:
            self.apply()

    def set_mode(self, mode: ThemeMode) -> None:
        self.mode = mode
        self.apply()

    def apply(self) -> None:
        """Set the palette and style sheet for the current mode and system scheme."""
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        self.scheme = effective_scheme(self.mode, self.system)
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")  # the one style whose colours follow the palette everywhere
        app.setPalette(palette_for(self.scheme))
        app.setStyleSheet(STYLESHEET)
        self.changed.emit(self.scheme)
