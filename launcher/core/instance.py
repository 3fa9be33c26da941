"""One launcher per user: the first one holds a lock and listens on a local socket, a second
launch hands over.

A second launch must not open a second window that polls too and may start a
second server. The first launch locks a file beside its socket before any window
exists (an OS lock, dropped by the kernel when the process ends, so a launcher that
crashed leaves nothing that counts), and opens the socket, its mailbox, right after
its window's first paint (QtNetwork costs milliseconds to load). A second launch finds
the lock taken, connects to that socket (waiting for it to open), asks the first to
come to the front (passing `--host` along) and exits. Where no lock file can be used
(not POSIX, a folder we may not write), the socket is the lock, as before: asked
first, then claimed; a socket nobody answers on was left by a launcher that died and
is removed.
"""

from __future__ import annotations

import getpass
import logging
import os
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QDir, QObject, Signal

if TYPE_CHECKING:  # imported where used: not needed before the first paint
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_MS = 1000
REPLY_MS = 3000
MAX_MESSAGE = 64 * 1024
#: How long a second launch waits for the first one's socket to open (it opens right
#: after the first paint, which waits at most 2 s for a window manager).
HAND_OVER_WAIT_S = 4.0
RETRY_S = 0.05


def socket_name(config_dir: Path, user: str | None = None, runtime_dir: str | None = None) -> str:
    """The socket's name: per user and per config folder (tests use their own folder).

    In the user's private runtime folder (`XDG_RUNTIME_DIR`, mode 0700) when
    there is one, so no other user can reach or squat it; else Qt's default
    place. Short on purpose: a Unix socket path is limited to about 100 bytes.
    The folder is told apart by a CRC-32 of its path: it only needs to differ
    between one user's folders (the private runtime folder is the protection), and
    `hashlib` would load OpenSSL (~4 ms) before the window's first paint.
    """
    user = user or _user()
    digest = f"{zlib.crc32(str(config_dir.resolve()).encode()):08x}"
    safe_user = "".join(ch for ch in user if ch.isalnum() or ch in "-_")[:32] or "user"
    name = f"ollama-launcher-{safe_user}-{digest}"
    runtime = os.environ.get("XDG_RUNTIME_DIR") if runtime_dir is None else runtime_dir
    if runtime and os.name == "posix" and Path(runtime).is_dir():
        path = str(Path(runtime) / name)
        if len(path.encode()) < 100:
            return path
    return name


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def lock_path(name: str) -> Path:
    """The lock file for a socket name: beside the socket (Qt puts a bare name in its
    temporary folder)."""
    if os.path.isabs(name):
        return Path(f"{name}.lock")
    return Path(QDir.tempPath()) / f"{name}.lock"


class Activation(NamedTuple):
    """What a second launch asks of the first: come to the front, maybe on another host."""

    host: str | None = None

    def encode(self) -> bytes:
        import json  # only for a hand-over: not loaded before the window's first paint

        return json.dumps({"action": "activate", "host": self.host}).encode() + b"\n"

    @staticmethod
    def decode(data: bytes) -> Activation | None:
        """None for anything that is not a well-formed activation."""
        import json

        try:
            message: Any = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(message, dict) or message.get("action") != "activate":
            return None
        host = message.get("host")
        return Activation(host if isinstance(host, str) and host.strip() else None)


class SingleInstance(QObject):
    """The per-user lock and mailbox.

    Args:
        name: the socket name (see `socket_name`).

    Signals:
        activated(object): a later launch asked us to come to the front; the
            argument is its Activation.
    """

    activated = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._lock: int | None = None  # the locked file, held open while we run
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytearray] = {}

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def claim(self) -> bool:
        """Become the one instance; False when another launcher is already running.

        With a lock file, the lock decides and the socket opens later
        (`open_mailbox`, after the first paint). Without one, the socket decides and
        is opened here."""
        locked = self._try_lock()
        return self._claim_socket() if locked is None else locked

    def _try_lock(self) -> bool | None:
        """True: the lock is ours; False: a running launcher holds it; None: no lock
        file can be used here."""
        if os.name != "posix":
            return None
        import fcntl

        path = lock_path(self.name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children
        except OSError as exc:
            log.info("single instance: no lock file %s (%s); the socket decides", path, exc)
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError as exc:  # a file system without locks
            os.close(fd)
            log.info("single instance: cannot lock %s (%s); the socket decides", path, exc)
            return None
        # The file stays when we quit: removing it would let two launches lock two files.
        self._lock = fd
        return True

    def open_mailbox(self) -> None:
        """Listen for later launches, once the lock is ours (`claim` did the rest).

        A socket file found there was left by a launcher that ended (the lock says
        none runs): it is replaced."""
        if self._lock is None or self._server is not None:
            return
        from PySide6.QtNetwork import QLocalServer

        QLocalServer.removeServer(self.name)
        self._listen()

    def _claim_socket(self) -> bool:
        """Without a lock file: asks first (Qt's listen may replace a live socket), then
        listens. A socket nobody answers on was left by a launcher that died: it is
        removed and claimed."""
        from PySide6.QtNetwork import QLocalServer

        if self._someone_answers():
            return False
        if self._listen(quiet=True):
            return True
        if self._someone_answers():  # another launch got there a moment ago
            return False
        log.info("removing the stale single-instance socket %s", self.name)
        QLocalServer.removeServer(self.name)
        self._listen()
        return True

    def _listen(self, *, quiet: bool = False) -> bool:
        """Listen on the socket; on failure, say so (unless `quiet`): we run without it."""
        from PySide6.QtNetwork import QLocalServer

        server = QLocalServer(self)
        if not server.listen(self.name):
            if not quiet:
                log.warning(
                    "single instance: cannot listen on %s (%s); running without it",
                    self.name,
                    server.errorString(),
                )
            server.deleteLater()
            return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def _someone_answers(self) -> bool:
        from PySide6.QtNetwork import QLocalSocket

        probe = QLocalSocket()
        probe.connectToServer(self.name)
        answered = probe.waitForConnected(CONNECT_MS)
        probe.abort()
        return answered

    def hand_over(self, activation: Activation) -> bool:
        """Ask the running launcher to come to the front; True once it confirmed.

        Called by a second launch before it has any window or event loop, so the
        short blocking waits here freeze nothing. The first launcher's socket opens
        just after its first paint: until then (at most HAND_OVER_WAIT_S) the
        connection is tried again.
        """
        from PySide6.QtNetwork import QLocalSocket

        deadline = time.monotonic() + HAND_OVER_WAIT_S
        sock = QLocalSocket()
        while True:
            sock.connectToServer(self.name)
            if sock.waitForConnected(CONNECT_MS):
                break
            sock.abort()
            if time.monotonic() >= deadline:
                return False
            time.sleep(RETRY_S)  # no event loop here: a short wait between tries
        sock.write(activation.encode())
        if not sock.waitForBytesWritten(REPLY_MS):
            sock.abort()
            return False
        reply = bytearray()
        while b"\n" not in reply:
            if not sock.waitForReadyRead(REPLY_MS):
                break
            reply += bytes(sock.readAll().data())
        sock.abort()
        return reply.startswith(b"ok")

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            if sock is None:
                break
            self._buffers[sock] = bytearray()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._forget(s))

    def _read(self, sock: QLocalSocket) -> None:
        buffer = self._buffers.get(sock)
        if buffer is None:
            return
        buffer += bytes(sock.readAll().data())
        if b"\n" not in buffer:
            if len(buffer) > MAX_MESSAGE:
                sock.abort()
            return
        line = bytes(buffer.split(b"\n", 1)[0])
        activation = Activation.decode(line)
        sock.write(b"ok\n" if activation is not None else b"error\n")
        sock.flush()
        sock.disconnectFromServer()
        if activation is not None:
            self.activated.emit(activation)

    def _forget(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()

    def close(self) -> None:
        """Stop listening and let go of the lock (at quit), so the next launch starts at once."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for sock in list(self._buffers):
            sock.abort()
        if self._lock is not None:
            os.close(self._lock)  # the lock goes with it
            self._lock = None
