"""The fake ``ollama`` binary (``tests/ollama_server/bin/ollama`` calls ``main``).

Why: the launcher starts, watches and stops a real ``ollama serve`` process; its tests need
a stand-in that behaves like one as a *process* — binds ``OLLAMA_HOST`` first and answers
only after "GPU discovery", logs to stderr in Ollama's format, fails with Go's message
when the port is taken, exits 0 on SIGTERM/SIGINT, can crash — while serving the same
faithful HTTP API as ``OllamaTestServer``. Standard library only: runs under any
``python3 >= 3.11``.

Commands: ``ollama serve``, ``ollama --version`` / ``-v``; anything else exits 1.

Environment:

* ``OLLAMA_HOST`` — parsed as the real server does (default ``127.0.0.1:11434``;
  ``host:port``, ``:port`` = all interfaces, bare host = port 11434, ``http://`` prefix).
* ``OLLAMA_KEEP_ALIVE`` — default keep-alive of a loaded model (``5m``).
* ``FAKE_OLLAMA_VERSION`` — the version served and printed (default ``0.12.3``).
* ``FAKE_OLLAMA_READY_DELAY`` — seconds between binding and answering (default ``0.3``).
* ``FAKE_OLLAMA_CRASH_AFTER`` — seconds after start: print a Go ``panic:`` and exit 2.
* ``FAKE_OLLAMA_HANG_ON_STOP=1`` — SIGTERM/SIGINT are logged, then the shutdown hangs
  forever (as a server stuck unloading a model): only SIGKILL ends it.
* ``FAKE_OLLAMA_RUNNERS`` — on by default (``0`` turns it off): a child "runner"
  process (a sleeping python, argv ``-c … runner --ollama-engine --model NAME --port N``)
  per loaded model, started on the model's first chat/generate, sharing the server's
  stdout/stderr and process group and logging like a runner; stopped at keep-alive
  expiry, on unload (``keep_alive: 0``) and on SIGTERM/SIGINT; left behind by a crash
  (``FAKE_OLLAMA_CRASH_AFTER``) or a SIGKILL of the server, as real runners are. Each
  exits by itself after 600 s. See ``fake_runners.py``.
* The server's own variables shape the first log line, exactly as Ollama prints it
  (``fake_logs.server_config``): ``msg="server config" env="map[CUDA_VISIBLE_DEVICES:…
  HTTPS_PROXY:… OLLAMA_CONTEXT_LENGTH:4096 OLLAMA_FLASH_ATTENTION:false OLLAMA_HOST:http://…
  OLLAMA_KEEP_ALIVE:5m0s OLLAMA_KV_CACHE_TYPE: OLLAMA_MAX_LOADED_MODELS:0
  OLLAMA_MODELS:… OLLAMA_NOPRUNE:false OLLAMA_NUM_PARALLEL:0 OLLAMA_ORIGINS:[…] …]"``
  (keys sorted; booleans parsed as Go's envconfig does).
* ``OLLAMA_CONTEXT_LENGTH`` (default 4096) or a request's ``options.num_ctx``: a chat or
  generate whose prompt is longer (estimated at 4 characters per token) logs
  ``level=WARN source=runner.go:159 msg="truncating input prompt" limit=N prompt=M keep=4 new=N``.
* ``CUDA_VISIBLE_DEVICES`` / ``ROCR_VISIBLE_DEVICES`` — filter the configured ``gpus``
  (by index or id) as the real discovery does.
* ``FAKE_OLLAMA_CONFIG`` — path to a JSON file::

      {
        "version": "0.12.3",                      # FAKE_OLLAMA_VERSION wins over this
        "models": [ModelSpec, ...],               # absent: one model "llama3.2:latest";
                                                  # [] : no model at all
        "reply": ReplySpec,                       # how chat/generate answer
        "replies": {"qwen3:latest": ReplySpec},   # per model
        "pulls": {"qwen3:0.6b": PullSpec},        # what /api/pull can download
        "busy": false,                            # chat/generate answer 503
        "gpus": [GPU, ...],                       # after discovery, one line each:
        #   msg="inference compute" id=… library=… variant=… compute=… driver=…
        #   name="…" total="3.9 GiB" available="3.9 GiB"
        # absent or []: msg="no compatible GPUs were discovered", then the line
        #   msg="inference compute" id=cpu library=cpu … name=cpu … total=… available=…
        "cpu": {"total": "31.3 GiB", "available": "28.0 GiB"},   # sizes of that CPU line
        "tz_offset_minutes": -420                 # offset of times in /api/tags, /api/ps
      }

  where ``GPU`` is ``{"name": "NVIDIA GeForce GT 1030", "library": "cuda" | "rocm" |
  "metal", "id": "GPU-452cac9f-…", "total": "3.9 GiB" or bytes, "available": …,
  "variant": "v12", "compute": "6.1", "driver": "12.7"}``, and ``ModelSpec``,
  ``ReplySpec`` and ``PullSpec`` are objects whose keys are the
  dataclass fields of the same name in ``specs.py`` (e.g. ``{"name": "qwen3:0.6b",
  "size": 522653767, "capabilities": ["completion", "thinking"]}``; ``modified_at`` an
  ISO/RFC 3339 string; ``{"text": "Hi", "chunk_interval": 0.05, "die_after": 3}``).
  A ``PullSpec`` is either ``{"layers": [{"digest": "sha256:<64hex>", "size": N}, ...],
  "interval": 0.06, "bytes_per_tick": null, "fail_with": null}`` or the shorthand
  ``{"size": N, "interval": 0.01}`` for the five layers of a typical model.
* ``FAKE_OLLAMA_EVENTS`` — path of a file to which one JSON line is appended per stream
  event::

      {"event": "started" | "client_closed" | "finished" | "aborted",
       "path": "/api/chat", "model": "llama3.2", "pid": 1234,
       "monotonic": 12.345,      # time.monotonic() of the event (client_closed: the
                                 # instant the read side saw EOF/reset); same clock as
                                 # other processes on Linux and macOS
       "time": 1761499000.123,   # time.time()
       "chunks_sent": 3, "chunks_after_close": 0}

  and, per runner started, ``{"event": "runner_started", "model": "llama3.2:latest",
  "pid": <runner pid>, "server_pid": ..., "monotonic": ..., "time": ...}``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from .fake_logs import (
    context_length,
    err,
    log,
    log_compute,
    server_config,
    visible_gpus,
)
from .fake_runners import Runners
from .fake_server import EventFile, FakeServer
from .server import OllamaTestServer
from .specs import model_from_json, pull_from_json, reply_from_json
from .wire import parse_keep_alive

DEFAULT_VERSION = "0.12.3"


# --- OLLAMA_HOST, as envconfig.Host() reads it -----------------------------------------


def _split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go's ``net.SplitHostPort``; None where Go returns an error."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or not hostport[end + 1 :].startswith(":"):
            return None
        return hostport[1:end], hostport[end + 2 :]
    if hostport.count(":") != 1:
        return None
    host, port = hostport.split(":")
    return host, port


def parse_host(value: str | None) -> tuple[str, int]:
    """(host, port) to listen on; host ``""`` means every interface."""
    text = (value or "").strip().strip("\"'")
    scheme, sep, hostport = text.partition("://")
    default_port = "11434"
    if not sep:
        hostport = text
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport = hostport.split("/", 1)[0]
    split = _split_host_port(hostport)
    if split is None:
        host, port = "127.0.0.1", default_port
        if hostport:
            host = hostport.strip("[]")
    else:
        host, port = split
    if not port.isdigit() or int(port) > 65535:
        port = default_port
    return host, int(port)


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- logging ----------------------------------------------------------------------------


def go_duration(seconds: float) -> str:
    """``time.Duration.String()`` closely enough for GIN lines."""
    ns = round(seconds * 1e9)
    if ns < 1000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:g}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:g}ms"
    minutes, secs = divmod(ns / 1e9, 60)
    return f"{int(minutes)}m{secs:g}s" if minutes else f"{secs:g}s"


def gin_line(method: str, path: str, status: int, seconds: float, peer: str) -> None:
    stamp = time.strftime("%Y/%m/%d - %H:%M:%S")
    err(
        f"[GIN] {stamp} | {status:3d} | {go_duration(seconds):>13} | {peer:>15} | "
        f"{method:<7} {json.dumps(path)}"
    )


# --- configuration ----------------------------------------------------------------------


def configure(server: OllamaTestServer, config: dict[str, Any]) -> None:
    if "models" in config:
        for data in config["models"]:
            spec = model_from_json(data)
            server.models[spec.name] = spec
    else:
        server.add_model("llama3.2:latest")
    if "reply" in config:
        server.reply = reply_from_json(config["reply"])
    for name, data in config.get("replies", {}).items():
        server.replies[name] = reply_from_json(data)
    for name, data in config.get("pulls", {}).items():
        server.pulls[name] = pull_from_json(name, data)
    server.busy = bool(config.get("busy", False))
    if "tz_offset_minutes" in config:
        server.tz = timezone(timedelta(minutes=int(config["tz_offset_minutes"])))


def load_config() -> dict[str, Any]:
    path = os.environ.get("FAKE_OLLAMA_CONFIG")
    if not path:
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("FAKE_OLLAMA_CONFIG must hold a JSON object")
    return data


# --- commands ---------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    if host == "":
        if socket.has_dualstack_ipv6():
            return socket.create_server(
                ("", port), family=socket.AF_INET6, dualstack_ipv6=True, backlog=128
            )
        return socket.create_server(("0.0.0.0", port), backlog=128)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family = infos[0][0]
    return socket.create_server((infos[0][4][0], port), family=family, backlog=128)


def _sock_addr(sock: socket.socket) -> str:
    name = sock.getsockname()
    host = str(name[0])
    if host == "::":
        return f"[::]:{name[1]}"
    return _join(host, int(name[1]))


def serve(out: TextIO = sys.stdout) -> int:
    version = os.environ.get("FAKE_OLLAMA_VERSION")
    try:
        config = load_config()
    except (OSError, ValueError) as exc:
        err(f"Error: {exc}")
        return 1
    version = version or str(config.get("version") or DEFAULT_VERSION)
    host, port = parse_host(os.environ.get("OLLAMA_HOST"))
    server = FakeServer(
        context=context_length(os.environ), version=version, host=host or "0.0.0.0", port=port
    )
    try:
        configure(server, config)
        server.default_keep_alive = parse_keep_alive(os.environ.get("OLLAMA_KEEP_ALIVE"))
    except (TypeError, ValueError) as exc:
        err(f"Error: {exc}")
        return 1
    events_path = os.environ.get("FAKE_OLLAMA_EVENTS")
    events = EventFile(events_path) if events_path else None
    server.stream_listener = events
    runners = Runners(events)
    if os.environ.get("FAKE_OLLAMA_RUNNERS", "1") != "0":
        server.model_listener = runners
    server.access_log = gin_line

    out.write("Couldn't find '~/.ollama/id_ed25519'. Generating new private key.\n")
    out.flush()
    log(
        "server config",
        source="routes.go:1475",
        env=server_config(os.environ, _join(host or "0.0.0.0", port)),
    )
    try:
        sock = _bind(host, port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        reason = reason[:1].lower() + reason[1:]
        err(f"Error: listen tcp {_join(host, port)}: bind: {reason}")
        return 1
    log(f"total blobs: {len(server.models) * 5}", source="images.go:518")
    log("total unused blobs removed: 0", source="images.go:525")
    log(f"Listening on {_sock_addr(sock)} (version {version})")

    stop = threading.Event()
    received: list[int] = []

    hang = os.environ.get("FAKE_OLLAMA_HANG_ON_STOP") == "1"

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        if hang:  # a shutdown stuck forever (say, unloading a model): only SIGKILL helps
            log(f"received {signal.Signals(signum).name}, shutting down", source="routes.go:1600")
            return
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    crash_after = os.environ.get("FAKE_OLLAMA_CRASH_AFTER")
    crash_at = time.monotonic() + float(crash_after) if crash_after else None
    if crash_at is not None:
        threading.Thread(target=_crash_at, args=(crash_at,), daemon=True).start()

    log("discovering available GPUs...", source="runner.go:80")
    if stop.wait(float(os.environ.get("FAKE_OLLAMA_READY_DELAY", "0.3"))):
        return _shutdown(server, sock, received, runners)
    server.start(sock=sock)
    gpus = [g for g in config.get("gpus") or [] if isinstance(g, dict)]
    log_compute(visible_gpus(gpus, os.environ), config.get("cpu") or {})
    threading.Thread(target=runners.expire, args=(server, stop), daemon=True).start()
    while not stop.wait(3600):
        pass
    return _shutdown(server, sock, received, runners)


def _crash_at(when: float) -> None:
    time.sleep(max(0.0, when - time.monotonic()))
    err(
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x5a1b2c]\n\n"
        "goroutine 42 [running]:\n"
        "github.com/ollama/ollama/server.(*Scheduler).processPending(0xc0001a2000, "
        "{0x1f2e3d0, 0xc0000b4000})\n"
        "\tgithub.com/ollama/ollama/server/sched.go:183 +0x1c5"
    )
    os._exit(2)


def _shutdown(
    server: OllamaTestServer, sock: socket.socket, received: list[int], runners: Runners
) -> int:
    name = signal.Signals(received[0]).name if received else "signal"
    log(f"received {name}, shutting down", source="routes.go:1600")
    server.stop()
    runners.stop_all()
    with contextlib.suppress(OSError):
        sock.close()
    return 0


def version_command() -> int:
    client_version = os.environ.get("FAKE_OLLAMA_VERSION") or DEFAULT_VERSION
    host, port = parse_host(os.environ.get("OLLAMA_HOST"))
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    server_version = ""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/api/version")
        reply = conn.getresponse()
        data = json.loads(reply.read() or b"{}")
        conn.close()
        if reply.status != 200 or not isinstance(data, dict):
            raise ValueError("not an Ollama server")
        server_version = str(data.get("version") or "")
    except (OSError, ValueError, http.client.HTTPException):
        print("Warning: could not connect to a running Ollama instance")
    if server_version:
        print(f"ollama version is {server_version}")
    if server_version != client_version:
        print(f"Warning: client version is {client_version}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(
            "Large language model runner\n\nUsage:\n  ollama [flags]\n  ollama [command]\n\n"
            "Available Commands:\n  serve       Start ollama\n\nFlags:\n"
            "  -h, --help      help for ollama\n  -v, --version   Show version information"
        )
        return 0
    if args[0] in ("-v", "--version"):
        return version_command()
    if args[0] in ("serve", "start"):
        return serve()
    err(f'Error: unknown command "{args[0]}" for "ollama"')
    return 1
