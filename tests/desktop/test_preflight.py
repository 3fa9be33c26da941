"""The checks made before Qt starts: the pure rules, and the real exit without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from launcher import preflight
from launcher.preflight import check
from tests.conftest import REPO

ALL = {p.soname for p in preflight.XCB_LIBRARIES}
DEBIAN = {"ID": "debian"}


def have(available: set[str]) -> Callable[[str], bool]:
    return lambda soname: soname in available


def test_everything_there_means_no_problem() -> None:
    assert check({"DISPLAY": ":0"}, "linux", have(ALL), DEBIAN) == []


def test_no_display_is_one_clear_line() -> None:
    problems = check({}, "linux", have(ALL), DEBIAN)
    assert len(problems) == 1
    assert problems[0].what == "No display"
    assert "desktop session" in problems[0].fix
    assert "--self-test" in problems[0].fix


def test_headless_platforms_need_neither_display_nor_libraries() -> None:
    for platform in ("offscreen", "minimal", "offscreen:fontengine=freetype"):
        assert check({"QT_QPA_PLATFORM": platform}, "linux", have(set()), DEBIAN) == []


def test_the_libraries_from_the_issue_are_named_with_their_debian_packages() -> None:
    """The issue's machine: libxcb-cursor0 installed, icccm4 and keysyms1 missing."""
    missing = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    problems = check({"DISPLAY": ":0"}, "linux", have(ALL - missing), {"ID": "ubuntu"})
    lines = [p.line for p in problems]
    assert len(lines) == 2, lines
    assert "libxcb-icccm.so.4" in lines[0] and "sudo apt install libxcb-icccm4" in lines[0]
    assert "libxcb-keysyms.so.1" in lines[1] and "libxcb-keysyms1" in lines[1]
    assert not any("libxcb-cursor" in line for line in lines)


def test_one_line_per_package_on_fedora_and_arch() -> None:
    missing = {"libxcb-randr.so.0", "libxcb-shape.so.0", "libxcb-icccm.so.4"}
    fedora = check({"DISPLAY": ":0"}, "linux", have(ALL - missing), {"ID": "fedora"})
    assert [p.fix for p in fedora] == [
        "install it with `sudo dnf install xcb-util-wm`",
        "install it with `sudo dnf install libxcb`",
    ]
    arch = check({"DISPLAY": ":0"}, "linux", have(ALL - missing), {"ID": "arch"})
    assert "sudo pacman -S xcb-util-wm" in arch[0].fix


def test_unknown_distribution_names_all_three_families() -> None:
    problems = check({"DISPLAY": ":0"}, "linux", have(ALL - {"libEGL.so.1"}), {"ID": "gentoo"})
    assert len(problems) == 1
    fix = problems[0].fix
    assert "Debian/Ubuntu: libegl1" in fix and "Fedora: libglvnd-egl" in fix
    assert "Arch: libglvnd" in fix


def test_wayland_session_does_not_need_the_x11_libraries() -> None:
    env = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}
    assert check(env, "linux", have(set()), DEBIAN) == []
    # ...unless X11 is asked for explicitly.
    assert check({**env, "QT_QPA_PLATFORM": "xcb"}, "linux", have(set()), DEBIAN)


def test_macos_and_windows_need_nothing_from_the_system() -> None:
    assert check({}, "darwin", have(set())) == []
    assert check({}, "win32", have(set())) == []


def test_the_real_loader_finds_what_qt_needs_here() -> None:
    """On this machine Qt's xcb plugin works, so the real check must agree."""
    assert preflight.can_load("libc.so.6")
    assert not preflight.can_load("libdoes-not-exist.so.9")
    assert preflight.run({"DISPLAY": ":99"}) == []


def test_launch_without_a_display_exits_2_with_a_clear_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.run(
        [sys.executable, "-m", "launcher"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Ollama Launcher cannot start:" in proc.stderr
    assert "No display" in proc.stderr
    assert "Traceback" not in proc.stderr and "Reinstalling" not in proc.stderr


def test_a_library_the_table_does_not_know_is_named_from_the_loader_error() -> None:
    message = "libxcb-xinput.so.0: cannot open shared object file: No such file or directory"
    assert preflight.dlopen_error_library(message, "/x/libQt6XcbQpa.so.6") == "libxcb-xinput.so.0"
    own = "/x/libQt6XcbQpa.so.6: cannot open shared object file: No such file or directory"
    assert preflight.dlopen_error_library(own, "/x/libQt6XcbQpa.so.6") is None
    assert preflight.dlopen_error_library("undefined symbol: foo", "/x/lib.so") is None
    assert preflight.xcb_plugin_unresolved() == []  # this machine has them all
