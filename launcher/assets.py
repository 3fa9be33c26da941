"""The files shipped inside the package (icon, desktop entry, AppStream metainfo).

They are package data read through `importlib.resources`, so they are found
the same way from a checkout, an installed wheel, a zip or a PyInstaller
bundle, never by a path relative to the source tree.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

ICON = "icons/ollama-launcher.svg"
DESKTOP_ENTRY = "ollama-launcher.desktop"
METAINFO = "io.github.ollama_launcher.OllamaLauncher.metainfo.xml"
APP_ID = "io.github.ollama_launcher.OllamaLauncher"


def data_file(name: str) -> Traversable:
    """A shipped file, by its path under `launcher/data/`."""
    node = resources.files("launcher").joinpath("data")
    for part in name.split("/"):
        node = node.joinpath(part)
    return node


def read_bytes(name: str) -> bytes:
    """The content of a shipped file; FileNotFoundError names it when it is missing."""
    node = data_file(name)
    if not node.is_file():
        raise FileNotFoundError(f"launcher/data/{name} is missing from the installed package")
    return node.read_bytes()


def icon_svg() -> bytes:
    """The application icon (SVG)."""
    return read_bytes(ICON)
