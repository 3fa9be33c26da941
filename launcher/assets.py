"""The files shipped inside the package (icon, desktop entry, AppStream metainfo, UI icons).

They are package data, found next to the package's modules when the package is
on disk (a checkout, an installed wheel, the PyInstaller bundle, which keeps
them at the same place under the bundle's folder), else through
`importlib.resources` (a zip): never by a path relative to the source tree.
The direct path comes first because `importlib.resources` costs milliseconds
to import, and the window's first paint needs the icon.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

ICON = "icons/ollama-launcher.svg"
DESKTOP_ENTRY = "ollama-launcher.desktop"
METAINFO = "io.github.ollama_launcher.OllamaLauncher.metainfo.xml"
APP_ID = "io.github.ollama_launcher.OllamaLauncher"


def shipped(*parts: str) -> Traversable:
    """A file or folder inside the `launcher` package, e.g. `shipped("ui", "icons")`."""
    on_disk = Path(__file__).parent.joinpath(*parts)
    if on_disk.exists():
        return on_disk
    from importlib import resources

    node = resources.files("launcher")
    for part in parts:
        node = node.joinpath(part)
    return node


def data_file(name: str) -> Traversable:
    """A shipped file, by its path under `launcher/data/`."""
    return shipped("data", *name.split("/"))


def read_bytes(name: str) -> bytes:
    """The content of a shipped file; FileNotFoundError names it when it is missing."""
    node = data_file(name)
    if not node.is_file():
        raise FileNotFoundError(f"launcher/data/{name} is missing from the installed package")
    return node.read_bytes()


def icon_svg() -> bytes:
    """The application icon (SVG)."""
    return read_bytes(ICON)
