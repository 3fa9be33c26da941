"""Checks made before Qt starts, so a missing display or library gets a clear line, not an abort.

Qt aborts (exit 134, "Reinstalling the application may fix this problem") when
its platform plugin cannot start, and often blames the wrong library. These
checks run first and name what is missing and which package provides it. The
rules are pure functions of the environment and of "can this library be
loaded", so they are tested without a display.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

EXIT_CODE = 2  # what `main` returns when a check fails

# Platforms that need no display and no X or Wayland library.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"})


class Package(NamedTuple):
    """A library Qt's xcb plugin loads, and the package that has it on each family."""

    soname: str
    debian: str
    fedora: str
    arch: str


# What libqxcb.so and libQt6XcbQpa.so load (read from their `ldd`), beyond libc.
XCB_LIBRARIES: tuple[Package, ...] = (
    Package("libxcb.so.1", "libxcb1", "libxcb", "libxcb"),
    Package("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    Package("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    Package("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    Package("libxcb-image.so.0", "libxcb-image0", "xcb-util-image", "xcb-util-image"),
    Package(
        "libxcb-render-util.so.0",
        "libxcb-render-util0",
        "xcb-util-renderutil",
        "xcb-util-renderutil",
    ),
    Package("libxcb-util.so.1", "libxcb-util1", "xcb-util", "xcb-util"),
    Package("libxcb-randr.so.0", "libxcb-randr0", "libxcb", "libxcb"),
    Package("libxcb-shape.so.0", "libxcb-shape0", "libxcb", "libxcb"),
    Package("libxcb-shm.so.0", "libxcb-shm0", "libxcb", "libxcb"),
    Package("libxcb-sync.so.1", "libxcb-sync1", "libxcb", "libxcb"),
    Package("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb", "libxcb"),
    Package("libxcb-render.so.0", "libxcb-render0", "libxcb", "libxcb"),
    Package("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb", "libxcb"),
    Package("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb", "libx11"),
    Package("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    Package("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    Package("libEGL.so.1", "libegl1", "libglvnd-egl", "libglvnd"),
    Package("libGL.so.1", "libgl1", "libglvnd-glx", "libglvnd"),
    Package("libfontconfig.so.1", "libfontconfig1", "fontconfig", "fontconfig"),
    Package("libdbus-1.so.3", "libdbus-1-3", "dbus-libs", "dbus"),
    Package("libglib-2.0.so.0", "libglib2.0-0", "glib2", "glib2"),
)

FAMILY_LABELS = {"debian": "Debian/Ubuntu", "fedora": "Fedora", "arch": "Arch"}


class Problem(NamedTuple):
    """One missing piece: what it is, and what to do about it (one line for a person)."""

    what: str
    fix: str

    @property
    def line(self) -> str:
        return f"{self.what}: {self.fix}"


def requested_platform(environ: Mapping[str, str]) -> str:
    """The first Qt platform asked for in QT_QPA_PLATFORM ("" for Qt's own choice)."""
    raw = environ.get("QT_QPA_PLATFORM", "").strip()
    first = raw.replace(";", ":").split(":", 1)[0]
    return first.strip().lower()


def family(os_release: Mapping[str, str]) -> str | None:
    """`debian`, `fedora` or `arch` from /etc/os-release's ID and ID_LIKE; None if unknown."""
    ids = f"{os_release.get('ID', '')} {os_release.get('ID_LIKE', '')}".lower().split()
    for name, members in (
        ("debian", {"debian", "ubuntu"}),
        ("fedora", {"fedora", "rhel", "centos"}),
        ("arch", {"arch", "archlinux", "manjaro"}),
    ):
        if members.intersection(ids):
            return name
    return None


def _install_hint(packages: list[Package], distro: str | None) -> str:
    if distro is not None:
        names = sorted({getattr(p, distro) for p in packages})
        command = {
            "debian": "sudo apt install",
            "fedora": "sudo dnf install",
            "arch": "sudo pacman -S",
        }[distro]
        return f"install it with `{command} {' '.join(names)}`"
    parts = [
        f"{FAMILY_LABELS[d]}: {' '.join(sorted({getattr(p, d) for p in packages}))}"
        for d in ("debian", "fedora", "arch")
    ]
    return "install the package that provides it (" + "; ".join(parts) + ")"


def _has_display(environ: Mapping[str, str]) -> bool:
    return bool(environ.get("DISPLAY", "").strip() or environ.get("WAYLAND_DISPLAY", "").strip())


def _uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will use its X11 (xcb) plugin: asked for, or chosen by itself outside
    a Wayland session."""
    qpa = requested_platform(environ)
    x11 = bool(environ.get("DISPLAY", "").strip())
    wayland = bool(environ.get("WAYLAND_DISPLAY", "").strip())
    wayland_session = wayland and environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    return qpa == "xcb" or (qpa == "" and x11 and not wayland_session)


def check(
    environ: Mapping[str, str],
    platform: str,
    have_library: Callable[[str], bool],
    os_release: Mapping[str, str] | None = None,
) -> list[Problem]:
    """What stops Qt from starting here; an empty list when nothing does.

    Args:
        environ: the process environment (DISPLAY, WAYLAND_DISPLAY, QT_QPA_PLATFORM).
        platform: `sys.platform`.
        have_library: whether a shared library (by soname) can be loaded.
        os_release: /etc/os-release as a mapping, to name the right package.
    """
    if platform in ("win32", "darwin", "cygwin"):
        return []  # Qt's platform plugin there needs nothing from the system
    qpa = requested_platform(environ)
    if qpa in HEADLESS_PLATFORMS:
        return []
    if not _has_display(environ):
        return [
            Problem(
                "No display",
                "DISPLAY and WAYLAND_DISPLAY are not set, so there is no screen to open a "
                "window on. Start Ollama Launcher from your desktop session (to check the "
                "installation without a screen: ollama-launcher --self-test).",
            )
        ]
    if not _uses_xcb(environ):
        return []
    missing = [p for p in XCB_LIBRARIES if not have_library(p.soname)]
    if not missing:
        return []
    distro = family(os_release or {})
    by_package: dict[str, list[Package]] = {}
    for pkg in missing:
        key = getattr(pkg, distro) if distro else pkg.debian
        by_package.setdefault(key, []).append(pkg)
    return [
        Problem(
            "Missing " + ", ".join(p.soname for p in group) + " (needed by Qt's X11 platform)",
            _install_hint(group, distro),
        )
        for group in by_package.values()
    ]


def can_load(soname: str) -> bool:
    """Whether the dynamic loader finds and loads this library (as Qt will)."""
    import ctypes  # here: only X11 starts load libraries this way (ctypes costs ~3 ms)

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def read_os_release(path: Path = Path("/etc/os-release")) -> dict[str, str]:
    """/etc/os-release as a mapping (empty when absent or unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    result: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            result[key.strip()] = value.strip().strip('"').strip("'")
    return result


def dlopen_error_library(message: str, target: str) -> str | None:
    """The missing library named in a dlopen error (`libfoo.so.1: cannot open shared
    object file`), unless it is the target itself."""
    match = re.match(r"\s*([^:\s]+\.so[^:\s]*): cannot open shared object file", message)
    if match is None or match.group(1) == target:
        return None
    return match.group(1)


def xcb_plugin_unresolved() -> list[str]:
    """What Qt's X11 support library lacks, by loading it as Qt is about to (the dynamic
    loader names the first missing library): catches one the table does not know."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.origin:
        return []
    target = Path(spec.origin).parent / "Qt" / "lib" / "libQt6XcbQpa.so.6"
    if not target.exists():
        return []
    import ctypes

    try:
        ctypes.CDLL(str(target))
    except OSError as exc:
        missing = dlopen_error_library(str(exc), str(target))
        return [missing] if missing else []
    return []


def run(environ: Mapping[str, str]) -> list[Problem]:
    """The checks against this machine."""
    known = {p.soname for p in XCB_LIBRARIES}
    problems = check(environ, sys.platform, can_load, read_os_release())
    if problems or sys.platform != "linux" or not _uses_xcb(environ):
        return problems
    return [
        Problem(
            f"Missing {name} (needed by Qt's X11 platform)",
            "install the package that provides it (your package manager can search for "
            f"the file name: `apt-file search {name}`, `dnf provides '*/{name}'`)",
        )
        for name in xcb_plugin_unresolved()
        if name not in known
    ]


def report(problems: list[Problem]) -> str:
    """What to print (stderr) when the launcher cannot start."""
    lines = ["Ollama Launcher cannot start:"]
    lines += [f"  - {p.line}" for p in problems]
    return "\n".join(lines)
