"""Shared fixtures: an isolated home for every test, the Ollama test server, a qasync loop.

Every test gets its own config and data folders (so no test sees the user's
settings or another test's conversations) and a clean Ollama environment.
Unhandled exceptions in asyncio callbacks and tasks fail the test, as Qt
warnings and exceptions in slots do (pytest-qt, see pyproject).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import socket
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from launcher.core.gcguard import MainThreadCollector
from tests.ollama_server import OllamaTestServer

# No screen (CI, ssh): Qt's offscreen platform, so the README's test command works as is.
if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
FAKE_BIN_DIR = REPO / "tests" / "ollama_server" / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def collect_on_main_thread() -> Iterator[None]:
    """Cyclic garbage is collected on this (the Qt) thread only, as the app does
    (`launcher.core.gcguard`): a collection that a worker thread happens to trigger
    would destroy the previous test's QObjects there and crash Qt later."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own config/data/state dirs; no OLLAMA_* from the developer's shell; no ollama on PATH."""
    monkeypatch.setenv("OLLAMA_LAUNCHER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OLLAMA_LAUNCHER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OLLAMA_LAUNCHER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for name in list(os.environ):
        if name.startswith("OLLAMA_") and not name.startswith("OLLAMA_LAUNCHER_"):
            monkeypatch.delenv(name)
    paths = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    clean = [p for p in paths if not (Path(p) / "ollama").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(clean))
    return tmp_path


@pytest.fixture
def ollama_server() -> Iterator[OllamaTestServer]:
    """A running protocol-faithful Ollama on 127.0.0.1 and a free port, with one model."""
    server = OllamaTestServer()
    server.add_model("llama3.2")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class LoopErrors:
    """Collects what asyncio would otherwise only log: exceptions nobody handled."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(context)

    def check(self) -> None:
        if self.errors:
            details = "; ".join(f"{c.get('message')}: {c.get('exception')!r}" for c in self.errors)
            pytest.fail(f"unhandled exception in the event loop: {details}")


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run a coroutine on a fresh asyncio loop, failing on stray loop errors."""
    errors = LoopErrors()

    async def main() -> T:
        asyncio.get_running_loop().set_exception_handler(errors)
        return await asyncio.wait_for(coro, timeout)

    result = asyncio.run(main())
    errors.check()
    return result


def _test_loop_class() -> type:
    from launcher.core.qtloop import QtEventLoop

    class TestEventLoop(QtEventLoop):
        """The app's loop, marked as the running loop for the whole test.

        qasync steps asyncio callbacks whenever Qt processes events. In the app
        that is always inside its one `run_until_complete`; in a test, Qt also
        processes events between runs (qasync's last pass after a run, and
        pytest-qt around each test phase), while the status poll is alive, and
        httpx would then find no running loop. So the marker stays set from
        the fixture's start to its end.
        """

        def _after_run_forever(self) -> None:
            super()._after_run_forever()
            asyncio.events._set_running_loop(self)

    return TestEventLoop


@pytest.fixture
def qloop(qapp: Any) -> Iterator[Any]:
    """A qasync event loop over the test QApplication, the app's real set-up."""
    qapp.setQuitOnLastWindowClosed(False)  # as the app: it quits after its own shutdown
    loop = _test_loop_class()(qapp)
    errors = LoopErrors()
    loop.set_exception_handler(errors)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    collector = MainThreadCollector()
    collector.start()
    try:
        yield loop
    finally:
        collector.stop(enable=False)
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        loop.close()
        errors.check()


@pytest.fixture
def qrun(qloop: Any) -> Any:
    """Run a coroutine to completion inside the qasync loop (Qt events flow meanwhile)."""

    def runner(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return loop_run(qloop, coro, timeout)

    return runner


def loop_run(loop: Any, coro: Coroutine[Any, Any, T], timeout: float) -> T:
    result: T = loop.run_until_complete(asyncio.wait_for(coro, timeout))
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests as ONE coroutine: in the qasync loop when the test
    uses `qloop` (directly or through a fixture), else in a plain asyncio loop.

    One run per test matters with qasync: between two runs Qt may process
    events, and asyncio callbacks would then run with no running loop.
    """
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    timeout = 90.0
    if "qloop" in pyfuncitem.funcargs:
        loop_run(pyfuncitem.funcargs["qloop"], function(**kwargs), timeout)
    else:
        run(function(**kwargs), timeout)
    return True
