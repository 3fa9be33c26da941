"""The built wheel carries its resources: installed in a fresh venv, the icon loads from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import PySide6

from tests.conftest import REPO

CHECK = """
import sys
from pathlib import Path
import launcher
from launcher import assets
from PySide6.QtGui import QGuiApplication, QPixmap
where = Path(launcher.__file__).resolve()
assert where.is_relative_to(Path(sys.prefix).resolve()), where
app = QGuiApplication([])
pixmap = QPixmap()
assert pixmap.loadFromData(assets.icon_svg(), "SVG"), "the icon does not load"
assert assets.read_bytes(assets.DESKTOP_ENTRY).startswith(b"[Desktop Entry]")
assert b"<component" in assets.read_bytes(assets.METAINFO)
print("icon", pixmap.width(), pixmap.height(), "from", launcher.__file__)
"""


def test_the_wheel_contains_the_resources_and_they_load_when_installed(tmp_path: Path) -> None:
    # Built from a clean copy of the sources: a stale build/ folder cannot leak into it.
    source = tmp_path / "source"
    shutil.copytree(
        REPO / "launcher", source / "launcher", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "-w", str(wheels), "--no-deps", "-q"],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("ollama_launcher-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "launcher/data/icons/ollama-launcher.svg" in names
    assert "launcher/data/ollama-launcher.desktop" in names
    assert "launcher/data/io.github.ollama_launcher.OllamaLauncher.metainfo.xml" in names
    assert not any(n.startswith(("tests/", "resources/")) for n in names)

    # A fresh venv; its dependencies are borrowed from this one (quick, and offline).
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = Path(PySide6.__file__).resolve().parent.parent
    Path(site, "borrowed-dependencies.pth").write_text(f"{deps}\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    outside = tmp_path / "elsewhere"  # not the checkout: nothing found beside the source
    outside.mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    check = subprocess.run(
        [str(python), "-c", CHECK],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("icon 64 64 from ")
    script = env_dir / ("Scripts/ollama-launcher.exe" if os.name == "nt" else "bin/ollama-launcher")
    assert script.exists(), "the ollama-launcher command was not installed"
    version = subprocess.run(
        [str(script), "--version"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("ollama-launcher ")
    assert sysconfig.get_paths()["purelib"] != site
