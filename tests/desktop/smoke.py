"""Xvfb smoke test: the real launcher under a window manager and a system tray host.

    python -m tests.desktop.smoke [--screenshot resources/tray-menu.png]

Starts its own Xvfb, openbox and trayer (Debian: xvfb openbox trayer xdotool
x11-utils imagemagick), the fake `ollama` on PATH, and the launcher in a
temporary home; then, as a user would: the tray icon appears, its menu starts
and stops the server, closing the window keeps the launcher in the tray with a
one-time notice, a second launch brings the window back and exits 0, and Quit
in the tray menu ends it. Exit 0 when all of that held; 77 when a needed
program is missing (so CI can say "skipped" rather than fail).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAKE_BIN = REPO / "tests" / "ollama_server" / "bin"
NEEDED = ("Xvfb", "openbox", "trayer", "xdotool", "xwininfo", "xprop")
SKIPPED = 77
ICON_LINE = re.compile(
    r'"Ollama Launcher": \(.*\)\s+(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)'
)


def step(text: str) -> None:
    print(f"smoke: {text}", flush=True)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out ({timeout:.0f} s) waiting for: {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_display() -> str:
    for number in range(90, 140):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return f":{number}"
    raise RuntimeError("no free X display number between :90 and :139")


@contextmanager
def background(
    args: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def x(env: dict[str, str], *args: str) -> str:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=15).stdout


def tray_icon(env: dict[str, str]) -> tuple[int, int] | None:
    """The centre of the launcher's icon in the tray (a small embedded window)."""
    for line in x(env, "xwininfo", "-root", "-tree").splitlines():
        match = ICON_LINE.search(line)
        embedded = len(line) - len(line.lstrip()) > 5  # inside the tray, not a top level
        if match and embedded:
            w, h, ax, ay = (int(g) for g in match.groups())
            if 8 <= w <= 64 and 8 <= h <= 64 and ax >= 0 and ay >= 0:
                return ax + w // 2, ay + h // 2
    return None


def main_window_visible(env: dict[str, str]) -> bool:
    ids = x(env, "xdotool", "search", "--onlyvisible", "--name", "^Ollama Launcher$").split()
    for wid in ids:
        geometry = x(env, "xdotool", "getwindowgeometry", wid)
        match = re.search(r"Geometry: (\d+)x(\d+)", geometry)
        if match and int(match.group(1)) > 200:
            return True
    return False


def server_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version", timeout=1) as reply:
            return bool(json.load(reply).get("version"))
    except OSError:
        return False


TOP_LINE = re.compile(
    r'^\s+(0x[0-9a-f]+) "Ollama Launcher": \("ollama-launcher" "Ollama Launcher"\)\s+'
    r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)"
)


def our_popup(env: dict[str, str], kind: str) -> tuple[int, int, int, int] | None:
    """A top-level window of ours of this _NET_WM_WINDOW_TYPE (POPUP_MENU: the tray
    menu; TOOLTIP: a tray message balloon): width, height, x, y."""
    for line in x(env, "xwininfo", "-root", "-children").splitlines():
        match = TOP_LINE.match(line)
        if match:
            wid, *numbers = match.groups()
            if f"_NET_WM_WINDOW_TYPE_{kind}" in x(env, "xprop", "-id", wid, "_NET_WM_WINDOW_TYPE"):
                w, h, left, top = (int(n) for n in numbers)
                return w, h, left, top
    return None


def menu_geometry(env: dict[str, str]) -> tuple[int, int, int, int] | None:
    return our_popup(env, "POPUP_MENU")


def open_menu(env: dict[str, str], icon: tuple[int, int]) -> tuple[int, int, int, int]:
    """Right-click the tray icon until its menu is open (a click that lands while the
    freshly embedded icon is not yet taking input is lost, so it is repeated)."""
    for _attempt in range(3):
        x(env, "xdotool", "mousemove", str(icon[0]), str(icon[1]), "click", "3")
        try:
            wait_for(lambda: menu_geometry(env), 3, "the tray menu to open")
        except AssertionError:
            continue
        geometry = menu_geometry(env)
        if geometry is not None:
            return geometry
    raise AssertionError("the tray menu did not open after three right-clicks")


def press_in_menu(env: dict[str, str], key: str) -> None:
    """Press a menu item's mnemonic in the open tray menu. A key sent while the fresh
    popup does not yet hold the keyboard is lost and the menu stays open: then it is
    sent again (an item that was chosen closes the menu)."""
    for _attempt in range(5):
        x(env, "xdotool", "key", key)
        try:
            wait_for(lambda: menu_geometry(env) is None, 1, "the menu to close")
            return
        except AssertionError:
            continue
    raise AssertionError(f"the tray menu ignored the key {key!r} five times")


def run(screenshot: Path | None) -> int:
    missing = [p for p in NEEDED if shutil.which(p) is None]
    if missing:
        print(f"smoke: SKIPPED, not installed: {', '.join(missing)}")
        return SKIPPED
    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="ollama-launcher-smoke-"))
    display = os.environ.get("SMOKE_DISPLAY") or free_display()
    if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
        raise AssertionError(f"display {display} is in use: the smoke test starts its own X server")
    port = free_port()
    env = {
        **os.environ,
        "DISPLAY": display,
        "PATH": f"{FAKE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "OLLAMA_HOST": f"127.0.0.1:{port}",
        "OLLAMA_LAUNCHER_CONFIG_DIR": str(home / "config"),
        "OLLAMA_LAUNCHER_DATA_DIR": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "xdg-config"),
        "XDG_RUNTIME_DIR": str(home),
        "FAKE_OLLAMA_READY_DELAY": "0.3",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    (home / "config").mkdir()
    # Start the server from the tray, not by itself.
    (home / "config" / "settings.json").write_text(json.dumps({"local": {"auto_start": False}}))
    log = home / "smoke.log"
    launcher = [sys.executable, "-m", "launcher", "-v"]
    xvfb_args = ["Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"]
    with background(xvfb_args, env, log) as xvfb:
        wait_for(lambda: Path(f"/tmp/.X11-unix/X{display[1:]}").exists(), 10, "Xvfb")
        assert xvfb.poll() is None, f"Xvfb could not start on {display}"
        with (
            background(["openbox"], env, log),
            background(
                [
                    "trayer",
                    "--edge",
                    "top",
                    "--align",
                    "right",
                    "--widthtype",
                    "request",
                    "--height",
                    "28",
                    "--SetDockType",
                    "true",
                    "--transparent",
                    "false",
                ],
                env,
                log,
            ),
        ):
            wait_for(
                lambda: '"panel": ("panel" "trayer")' in x(env, "xwininfo", "-root", "-tree"),
                10,
                "the trayer panel",
            )
            with background(launcher, {**env}, home / "app.log") as app:
                icon_at: list[tuple[int, int]] = []

                def icon_found() -> bool:
                    found = tray_icon(env)
                    if found:
                        icon_at.append(found)
                    return found is not None

                wait_for(icon_found, 20, "the tray icon to appear")
                icon = icon_at[-1]
                step(f"tray icon at {icon}")
                wait_for(lambda: main_window_visible(env), 10, "the main window")

                w, h, left, top = open_menu(env, icon)
                if screenshot is not None:
                    time.sleep(0.3)  # let the menu paint before the capture (not a sync)
                    crop = f"{1400 - left + 40}x{top + h + 40}+{left - 40}+0"
                    subprocess.run(
                        ["import", "-window", "root", "-crop", crop, str(screenshot)],
                        env=env,
                        check=False,
                        timeout=15,
                    )
                    step(f"screenshot of the tray menu: {screenshot}")
                press_in_menu(env, "s")  # &Start server
                wait_for(lambda: server_answers(port), 15, "the server started from the tray")
                step("Start server in the tray menu: the server answers")

                wait_for(lambda: menu_geometry(env) is None, 5, "the menu to close")
                open_menu(env, icon)
                press_in_menu(env, "t")  # S&top server
                wait_for(lambda: not server_answers(port), 15, "the server stopped from the tray")
                step("Stop server in the tray menu: the server is gone")

                wid = x(env, "xdotool", "search", "--onlyvisible", "--name", "^Ollama Launcher$")
                for w in wid.split():
                    x(env, "xdotool", "windowactivate", "--sync", w)
                x(env, "xdotool", "key", "alt+F4")
                wait_for(lambda: not main_window_visible(env), 10, "the window to hide")
                wait_for(lambda: our_popup(env, "TOOLTIP"), 5, "the one-time notice balloon")
                marker = home / "config" / "tray-notice-shown"
                wait_for(marker.exists, 5, "the one-time notice remembered")
                assert app.poll() is None, "closing the window quit the launcher"
                step("closing the window keeps it in the tray, with the one-time notice")

                t0 = time.monotonic()
                second = subprocess.run(
                    launcher[:3], env=env, capture_output=True, text=True, timeout=15
                )
                took = time.monotonic() - t0
                assert second.returncode == 0, second.stdout + second.stderr
                assert took < 5, f"the second launch took {took:.1f} s"
                wait_for(lambda: main_window_visible(env), 10, "the second launch to raise it")
                assert app.poll() is None
                step(f"a second launch brought the window back and exited 0 in {took:.1f} s")

                open_menu(env, icon)
                press_in_menu(env, "q")  # &Quit
                app.wait(20)
                step(f"Quit in the tray menu: the launcher exited with {app.returncode}")
                assert app.returncode == 0
                app_log = (home / "app.log").read_text(errors="replace")
                assert "Traceback" not in app_log, app_log

            # Start at login runs it with --minimized: only the tray icon, no window.
            with background([*launcher, "--minimized"], env, home / "minimized.log") as app:
                wait_for(lambda: tray_icon(env), 20, "the tray icon (--minimized)")
                assert not main_window_visible(env), "--minimized showed the window"
                open_menu(env, tray_icon(env) or icon)
                press_in_menu(env, "o")  # &Open Ollama Launcher
                wait_for(lambda: main_window_visible(env), 10, "Open in the tray menu")
                open_menu(env, tray_icon(env) or icon)
                press_in_menu(env, "q")
                app.wait(20)
                assert app.returncode == 0
                step("--minimized starts in the tray only; Open in its menu shows the window")

            # The display goes away under a running launcher (the session ends).
            orphan_log = (home / "orphan.log").open("wb")
            orphan = subprocess.Popen(launcher, env=env, stdout=orphan_log, stderr=orphan_log)
            wait_for(lambda: main_window_visible(env), 20, "the window before the X server ends")
    # (Xvfb has ended here.)
    try:
        orphan.wait(20)
    finally:
        if orphan.poll() is None:
            orphan.kill()
        orphan_log.close()
    said = (home / "orphan.log").read_text(errors="replace")
    # It ends, and not as if all were well. Who notices first decides the words: Qt
    # (then our one line, exit 1) or Xlib itself ("XIO: fatal IO error", exit 1).
    assert orphan.returncode not in (0, None), f"exit code {orphan.returncode}: {said}"
    assert "connection to the display was lost" in said or "XIO" in said, said
    step(f"the X server went away: the launcher ended with exit code {orphan.returncode}")
    step(f"passed in {time.monotonic() - started:.1f} s")
    with suppress(OSError):
        shutil.rmtree(home)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--screenshot", type=Path, help="save the open tray menu here (PNG)")
    args = parser.parse_args()
    try:
        return run(args.screenshot)
    except AssertionError as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
