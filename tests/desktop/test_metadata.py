"""The desktop entry and the AppStream metainfo: valid, and consistent with the package."""

from __future__ import annotations

import re
import shutil
import subprocess
from xml.etree import ElementTree

import pytest

from launcher import assets
from tests.conftest import REPO

DATA = REPO / "launcher" / "data"


def validate(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian: desktop-file-utils / appstream)")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)


def test_desktop_entry_passes_desktop_file_validate() -> None:
    proc = validate("desktop-file-validate", str(DATA / assets.DESKTOP_ENTRY))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "", proc.stdout  # not even a hint


def test_metainfo_passes_appstreamcli_validate() -> None:
    proc = validate("appstreamcli", "validate", "--no-net", str(DATA / assets.METAINFO))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_metainfo_lists_the_readme_screenshots_and_names_the_desktop_entry() -> None:
    root = ElementTree.fromstring(assets.read_bytes(assets.METAINFO))
    assert root.findtext("id") == assets.APP_ID
    assert root.findtext("launchable") == assets.DESKTOP_ENTRY
    images = [i.text or "" for i in root.iter("image")]
    assert len(images) >= 2
    for url in images:
        name = url.rsplit("/resources/", 1)[-1]
        assert (REPO / "resources" / name).is_file(), f"{url}: no such picture in resources/"
    release = root.find("releases/release")
    assert release is not None
    from launcher import __version__

    assert release.get("version") == __version__


def test_desktop_entry_matches_the_window_class_and_the_command() -> None:
    text = assets.read_bytes(assets.DESKTOP_ENTRY).decode()
    assert re.search(r"^Exec=ollama-launcher$", text, re.M)
    assert re.search(r"^StartupWMClass=ollama-launcher$", text, re.M)
    assert re.search(r"^Icon=ollama-launcher$", text, re.M)
