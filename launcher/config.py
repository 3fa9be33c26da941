"""Settings and host profiles: where the launcher's files live and which Ollama it talks to.

Configuration is read the same way by the app and by tests: the environment
first (`OLLAMA_HOST`, `OLLAMA_LAUNCHER_CONFIG_DIR`, `OLLAMA_LAUNCHER_DATA_DIR`),
then the settings file under the platformdirs config folder. The file is
written atomically (temp file + fsync + rename, off the Qt thread with
`save_settings_async`) so a crash never leaves half a file; a file that is not
JSON is moved aside, never silently overwritten; every field of one that is
checked on its own (`launcher.settings_check`), a wrong one named in
`Settings.problems`. API keys are not in this file: see `launcher.secrets`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The folders are defined apart (the first paint needs them without the HTTP client).
from launcher.dirs import APP_NAME as APP_NAME
from launcher.dirs import DATA_DIR_ENV as DATA_DIR_ENV
from launcher.dirs import config_dir as config_dir
from launcher.dirs import data_dir as data_dir
from launcher.ollama import is_loopback_url, resolve_host
from launcher.settings_check import Checker

SETTINGS_FILE = "settings.json"
LOCAL_ID = "local"
ENV_ID = "env"
DEFAULT_LISTEN = "127.0.0.1:11434"

log = logging.getLogger(__name__)


@dataclass
class LocalServerSettings:
    """How the launcher runs its own `ollama serve`.

    Attributes:
        listen: the `OLLAMA_HOST` given to the child (loopback by default).
        allow_network: listen on all interfaces (`0.0.0.0`), so other devices
            can reach it; off by default because it exposes the server.
        models_dir: `OLLAMA_MODELS` for the child; empty means Ollama's default.
        binary: a configured path to `ollama`; empty means search PATH and the
            usual install places.
        extra_env: further environment variables for the child.
        keep_running_after_quit: leave the server running when the app quits.
        auto_start: start the server by itself when this computer is the selected
            host, Ollama is installed and nothing answers.
        https_proxy: `HTTPS_PROXY` for the child (how Ollama pulls through a proxy);
            empty means the launcher's own environment.
        noprune: `OLLAMA_NOPRUNE=1` for the child, so partial downloads survive a
            server restart and a resume really resumes.
        tuning: the server variables set on the Server settings page
            (`OLLAMA_CONTEXT_LENGTH`, `OLLAMA_FLASH_ATTENTION`...), name -> value.
    """

    listen: str = DEFAULT_LISTEN
    allow_network: bool = False
    models_dir: str = ""
    binary: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    keep_running_after_quit: bool = False
    auto_start: bool = True
    https_proxy: str = ""
    noprune: bool = True
    tuning: dict[str, str] = field(default_factory=dict)

    def child_host(self) -> str:
        """The `OLLAMA_HOST` value for the child process."""
        url = resolve_host(self.listen)
        hostport = url.split("://", 1)[1].split("/", 1)[0]
        if self.allow_network:
            port = hostport.rsplit(":", 1)[1]
            return f"0.0.0.0:{port}"
        return hostport


@dataclass
class RemoteHost:
    """Another machine's Ollama. The API key, if any, lives in the keyring under `id`.

    Attributes:
        proxy: "system" (the environment's HTTPS_PROXY/HTTP_PROXY/NO_PROXY), "none",
            or a proxy URL.
        ca_file: a CA bundle (PEM) trusted for this host on top of the system store.
        verify_tls: False only when the user explicitly chose to skip certificate
            checks for this host (shown as a warning on the status).
    """

    id: str
    name: str
    url: str
    proxy: str = "system"
    ca_file: str = ""
    verify_tls: bool = True

    @staticmethod
    def new(name: str, url: str) -> RemoteHost:
        return RemoteHost(id=uuid.uuid4().hex[:12], name=name, url=url)


@dataclass
class Settings:
    """Everything the user configures (except secrets)."""

    local: LocalServerSettings = field(default_factory=LocalServerSettings)
    remotes: list[RemoteHost] = field(default_factory=list)
    selected: str = LOCAL_ID
    keep_in_tray: bool = True  # where a tray exists (elsewhere closing quits anyway)
    guard: dict[str, Any] = field(default_factory=dict)
    enter_sends: bool = True  # Enter sends and Shift+Enter breaks the line (False: swapped)
    notifications: dict[str, bool] = field(
        default_factory=lambda: {"downloads": True, "server": True, "replies": True}
    )
    start_at_login: bool = False
    download_stall_seconds: int = 30
    #: Continuous export: a folder where every conversation is also kept as Markdown ("": off).
    markdown_folder: str = ""

    #: What was wrong in the file this came from (one sentence per ignored field); not saved.
    problems: list[str] = field(default_factory=list, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("problems", None)
        data["format_version"] = 1
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Settings:
        """Settings from a parsed file, field by field: a wrong value is replaced by its safe
        default and named in `problems` (see `launcher.settings_check`)."""
        check = Checker()
        if not isinstance(data, Mapping):
            check.ignore("the settings file", data, "is not a group of settings", "the defaults")
            return cls(problems=check.problems)
        d = LocalServerSettings()
        raw = check.section(data, "local", "The local server settings (local)")
        local = LocalServerSettings(
            listen=check.listen(raw, "listen", "local.listen", d.listen),
            allow_network=check.boolean(raw, "allow_network", "local.allow_network", False),
            models_dir=check.text(raw, "models_dir", "local.models_dir"),
            binary=check.text(raw, "binary", "local.binary"),
            extra_env=check.env_map(raw, "extra_env", "local.extra_env"),
            keep_running_after_quit=check.boolean(
                raw, "keep_running_after_quit", "local.keep_running_after_quit", False
            ),
            auto_start=check.boolean(raw, "auto_start", "local.auto_start", d.auto_start),
            https_proxy=check.proxy_url(raw, "https_proxy", "local.https_proxy"),
            noprune=check.boolean(raw, "noprune", "local.noprune", d.noprune),
            tuning=check.env_map(raw, "tuning", "local.tuning"),
        )
        defaults = cls()
        guard = check.guard(data, "guard", "The runaway guard settings (guard)")
        return cls(
            local=local,
            remotes=_remotes(check, data.get("remotes")),
            selected=check.text(data, "selected", "selected", LOCAL_ID) or LOCAL_ID,
            keep_in_tray=check.boolean(data, "keep_in_tray", "keep_in_tray", True),
            guard=dict(guard),
            enter_sends=check.boolean(data, "enter_sends", "enter_sends", True),
            notifications=check.flags(
                data, "notifications", "notifications", defaults.notifications
            ),
            start_at_login=check.boolean(data, "start_at_login", "start_at_login", False),
            download_stall_seconds=check.integer(
                data, "download_stall_seconds", "download_stall_seconds", 30, 5, 3600
            ),
            markdown_folder=check.text(data, "markdown_folder", "markdown_folder"),
            problems=check.problems,
        )


def _remotes(check: Checker, raw: object) -> list[RemoteHost]:
    """The remote hosts; an entry without a usable id or address is dropped on its own."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.ignore("The remote hosts (remotes)", raw, "is not a list", "no remote hosts")
        return []
    out: list[RemoteHost] = []
    for i, entry in enumerate(raw):
        where = f"remotes[{i}]"
        if not isinstance(entry, Mapping):
            check.ignore(f"Remote host {where}", entry, "is not a host", "nothing")
            continue
        host_id = entry.get("id")
        if not isinstance(host_id, str) or not host_id.strip() or host_id in (LOCAL_ID, ENV_ID):
            check.ignore(f"Remote host {where}.id", host_id, "is not a usable id", "nothing")
            continue
        if any(r.id == host_id for r in out):
            check.ignore(f"Remote host {where}.id", host_id, "is used twice", "the first one")
            continue
        url = check.host_url(entry.get("url"), f"{where}.url")
        if url is None:
            continue
        name = check.text(entry, "name", f"{where}.name").strip() or url
        verify = entry.get("verify_tls", True)
        if verify is not False and verify is not True:
            check.ignore(f"{where}.verify_tls", verify, "is not true or false", "checking")
        out.append(
            RemoteHost(
                id=host_id,
                name=name,
                url=url,
                proxy=check.proxy(entry, "proxy", f"{where}.proxy"),
                ca_file=check.text(entry, "ca_file", f"{where}.ca_file"),
                verify_tls=verify is not False,  # off only when the file says exactly false
            )
        )
    return out


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; defaults when absent.

    A file that is not JSON (or not an object) is moved aside as `settings.broken.json`;
    otherwise each wrong field falls back to its default. Either way `Settings.problems`
    says what was ignored (and the log has it).
    """
    path = path or settings_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("settings file %s could not be read (%s)", path, exc)
        return Settings(problems=[f"Settings: {path} could not be read, so the defaults are used."])
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        backup = path.with_suffix(".broken.json")
        with contextlib.suppress(OSError):
            os.replace(path, backup)
        log.warning("settings file %s could not be read (%s); moved to %s", path, exc, backup)
        return Settings(
            problems=[
                f"Settings: {path.name} was not a settings file, so the defaults are used; "
                f"it was kept as {backup}."
            ]
        )
    settings = Settings.from_json(data)
    for problem in settings.problems:
        log.warning("%s", problem)
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically: a crash leaves the old file or the new one.

    Blocking (it fsyncs): from the Qt thread use `save_settings_async`.
    """
    path = path or settings_path()
    write_atomic(path, json.dumps(settings.to_json(), indent=2, sort_keys=True))


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace `path` whole or not at all (temp file, fsync, rename): a crash never leaves
    half a file. The one atomic write of the app (settings, autostart entries)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# One writer thread: writes land in the order they were asked for (the last one wins).
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="launcher-settings")


def save_settings_async(settings: Settings, path: Path | None = None) -> asyncio.Future[None]:
    """`save_settings` off the calling (Qt) thread, to be awaited. The settings are
    serialised and the write queued now, at the call, so writes land in the order they
    were asked for and later changes to `settings` do not leak into this one.

    Raises (when awaited):
        OSError: the file could not be written (the old one is left as it was).
    """
    path = path or settings_path()
    text = json.dumps(settings.to_json(), indent=2, sort_keys=True)
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(_writer, write_atomic, path, text)


def check_host_url(text: str) -> str:
    """The base URL for a remote host typed by the user; ValueError saying what is wrong.

    Same rules as `OLLAMA_HOST` (`resolve_host`), plus what those rules let
    through silently: an empty field (which would mean this computer), a
    scheme other than http/https, spaces.
    """
    text = text.strip()
    if not text:
        raise ValueError("Enter the address of the host, e.g. http://gpu-box:11434.")
    if any(ch.isspace() for ch in text):
        raise ValueError(f"{text!r} contains a space.")
    url = resolve_host(text)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{text!r}: only http:// and https:// addresses are supported.")
    return url


def check_env_name(name: str) -> str:
    """An environment variable name for the child; ValueError when it cannot be one."""
    name = name.strip()
    if not name or "=" in name or "\0" in name or any(ch.isspace() for ch in name):
        raise ValueError(f"{name!r} is not a valid environment variable name.")
    return name


@dataclass(frozen=True)
class HostProfile:
    """One Ollama the launcher can talk to.

    Attributes:
        id: `local`, `env` or a remote host's id.
        name: what the host switcher shows.
        base_url: where the client connects.
        managed: whether the launcher may start/stop a server for it (local only).
        child_host: the `OLLAMA_HOST` value for the child, when managed.
    """

    id: str
    name: str
    base_url: str
    managed: bool
    child_host: str = ""
    proxy: str = "system"
    ca_file: str = ""
    verify_tls: bool = True


def host_profiles(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> list[HostProfile]:
    """All hosts, local first. A loopback `OLLAMA_HOST` in the environment moves
    the local server to that address; a non-loopback one adds an `env` host."""
    environ = os.environ if environ is None else environ
    local = settings.local
    env_host = (environ.get("OLLAMA_HOST") or "").strip()
    profiles: list[HostProfile] = []
    if env_host and not is_loopback_url(resolve_host(env_host)):
        url = resolve_host(env_host)
        profiles.append(HostProfile(ENV_ID, f"{url} (OLLAMA_HOST)", url, managed=False))
    listen = env_host if env_host and is_loopback_url(resolve_host(env_host)) else local.listen
    effective = LocalServerSettings(**{**asdict(local), "listen": listen})
    child = effective.child_host()
    profiles.insert(
        0,
        HostProfile(LOCAL_ID, "This computer", resolve_host(child), managed=True, child_host=child),
    )
    profiles.extend(
        HostProfile(
            r.id,
            r.name,
            resolve_host(r.url),
            managed=False,
            proxy=r.proxy,
            ca_file=r.ca_file,
            verify_tls=r.verify_tls,
        )
        for r in settings.remotes
    )
    return profiles


def initial_host(settings: Settings, environ: Mapping[str, str] | None = None) -> HostProfile:
    """The host to use at start-up: `OLLAMA_HOST` if set, else the saved choice."""
    environ = os.environ if environ is None else environ
    profiles = host_profiles(settings, environ)
    if (environ.get("OLLAMA_HOST") or "").strip():
        return next((p for p in profiles if p.id == ENV_ID), profiles[0])
    return next((p for p in profiles if p.id == settings.selected), profiles[0])
