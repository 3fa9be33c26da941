"""The application icon, in a module light enough for the window's first paint.

Kept apart from `launcher.ui.tray` (which re-exports it): the tray brings the
launcher's core with it, and the window needs its icon before that is loaded.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QIcon, QPixmap

from launcher import assets

log = logging.getLogger(__name__)


def app_icon() -> QIcon:
    """The application icon, from the package data (a null icon if it cannot be read)."""
    pixmap = QPixmap()
    try:
        pixmap.loadFromData(assets.icon_svg(), "SVG")
    except OSError as exc:
        log.warning("application icon: %s", exc)
    return QIcon(pixmap)
