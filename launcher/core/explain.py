"""The one place that turns a failure into words for a person: a headline and its details.

Every widget that shows a failure (chat, Models page, downloads, status) asks
`explain()` instead of printing `str(exc)`: the headline says what happened and
what to do, in plain words; the technical text (errno, exception type, the
server's own message) goes to `details`, for a "Details" expander and the log.
A headline never contains `Errno` or a Python exception name.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from launcher.core.modelnames import NotGGUFError
from launcher.core.store_errors import (
    CorruptDatabaseError,
    DatabaseLockedError,
    SchemaTooNewError,
    StoreError,
)
from launcher.ollama import (
    OllamaConnectionError,
    OllamaError,
    OllamaProtocolError,
    OllamaProxyError,
    OllamaResponseError,
    OllamaStreamError,
    OllamaTimeoutError,
    OllamaTLSError,
    is_loopback_url,
)

_MANIFEST_MISSING = re.compile(r"manifest.*(file does not exist|not found)", re.I)
#: A stream that broke after it began (the server died or restarted mid-reply).
_BROKE = re.compile(r"closed unexpectedly|was lost", re.I)
#: A stream line we could not read (mid-reply): not JSON, wrong shape, cut short.
_UNREADABLE = re.compile(r"not JSON|wrong shape|ended before it was complete", re.I)
_MODEL_NOT_FOUND = re.compile(r"model ['\"]?(?P<name>[^'\"]+?)['\"]? not found", re.I)


@dataclass(frozen=True)
class Explanation:
    """A failure, for a person.

    Attributes:
        headline: one or two sentences: what happened, what to do.
        details: the technical text (for a Details expander and the log).
        action: a short label for the one obvious fix ("Start server",
            "Retry"), or "" when there is none.
    """

    headline: str
    details: str = ""
    action: str = ""

    def __str__(self) -> str:
        return self.headline


def host_label(base_url: str) -> str:
    """`127.0.0.1:11434` for `http://127.0.0.1:11434`: how a person names a host."""
    if not base_url:
        return "the Ollama host"
    parts = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
    label = parts.netloc or base_url
    if parts.scheme == "https":
        label = f"https://{label}"
    return label + (parts.path.rstrip("/") if parts.path not in ("", "/") else "")


def technical(exc: BaseException) -> str:
    """The details line: the exception's type and text, as a developer wants them."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def explain(exc: BaseException, *, host: str = "", model: str = "") -> Explanation:
    """The Explanation for `exc`, raised while talking to `host` about `model`."""
    host = host or getattr(exc, "host", "") or ""
    where = host_label(host)
    local = bool(host) and is_loopback_url(host)
    details = technical(exc)
    if isinstance(exc, OllamaTLSError):
        reason = exc.reason or "its certificate could not be verified"
        return Explanation(
            f"The secure connection to {where} failed: {reason}. The launcher will not "
            "fall back to an unencrypted connection — fix the certificate, or give this "
            "host its CA file in Settings.",
            details,
        )
    if isinstance(exc, OllamaProxyError):
        return Explanation(
            f"Can't reach Ollama at {where} through the proxy {exc.proxy} — check the proxy "
            "address (Settings, or HTTPS_PROXY), or set this host's proxy to none.",
            details,
            "Retry",
        )
    if isinstance(exc, OllamaTimeoutError):
        return Explanation(
            f"Ollama at {where} did not answer in time — it may be busy loading a model, or "
            "the machine is unreachable. Try again in a moment.",
            details,
            "Retry",
        )
    server_state = getattr(exc, "state", None)  # set by core.readiness.ServerNotReady
    if isinstance(exc, OllamaConnectionError) and isinstance(server_state, str) and server_state:
        return _not_ready(server_state, where, details)
    if isinstance(exc, OllamaConnectionError):
        if _BROKE.search(exc.message) and local:
            return Explanation(
                f"Ollama isn't running on {where} — the connection closed unexpectedly (it "
                "may have crashed). What arrived is kept; Start it again if it stays down.",
                details,
                "Start server",
            )
        if _BROKE.search(exc.message):
            return Explanation(
                f"The connection to Ollama at {where} broke during the reply — the server "
                "may have stopped or crashed. What arrived is kept; try again.",
                details,
                "Retry",
            )
        if local:
            return Explanation(
                f"Ollama isn't running on {where} — Start it.", details, "Start server"
            )
        return Explanation(
            f"Can't reach Ollama at {where} — check that the machine is on, that Ollama "
            "runs there and listens on the network (OLLAMA_HOST=0.0.0.0), and that no "
            "firewall is in the way.",
            details,
            "Retry",
        )
    if isinstance(exc, OllamaStreamError):
        if _MANIFEST_MISSING.search(exc.error):
            name = f"'{model}'" if model else "with that name"
            return Explanation(
                f"There is no model called {name} in the Ollama library — check the name "
                "(for example llama3.2 or qwen3:8b).",
                details,
            )
        if (found := _MODEL_NOT_FOUND.search(exc.error)) is not None:  # create `from`
            return Explanation(
                f"The model '{found.group('name')}' is not installed on {where} — pull it on "
                "the Models page.",
                details,
                "Pull model",
            )
        return Explanation(f"Ollama stopped with an error: {_sentence(exc.error)}", details)
    if isinstance(exc, OllamaResponseError):
        return _response(exc, where, model, details)
    if isinstance(exc, OllamaProtocolError) and _UNREADABLE.search(exc.message):
        return Explanation(
            f"Ollama at {where} sent part of the reply in a form the launcher cannot read. "
            "What arrived is kept; try again (a proxy between you and the server can cause "
            "this).",
            details,
            "Retry",
        )
    if isinstance(exc, OllamaProtocolError):
        return Explanation(
            f"Something answered at {where}, but it is not Ollama (or a proxy changed the "
            "reply). Check the host address and port.",
            details,
        )
    if isinstance(exc, OllamaError):
        return Explanation(f"Ollama at {where} failed: {_sentence(exc.message)}", details)
    if isinstance(exc, StoreError):
        return _store(exc, details)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return Explanation(
            "The disk is full — free some space and try again. Nothing was lost.", details
        )
    if isinstance(exc, NotGGUFError):
        return Explanation(
            f"{exc.name} is not a GGUF model file (those start with the letters GGUF) — "
            "pick a .gguf file, for example one downloaded from Hugging Face.",
            details,
        )
    if isinstance(exc, FileNotFoundError | PermissionError):  # e.g. a file the user picked
        name = Path(str(exc.filename)).name if exc.filename else "the file"
        if isinstance(exc, PermissionError):
            return Explanation(
                f"The launcher could not open {name}: it is not allowed to — check the "
                "permissions of the file and its folder.",
                details,
            )
        return Explanation(
            f"The launcher could not find {name} or the folder it is in — it may have been "
            "moved or deleted.",
            details,
        )
    if isinstance(exc, OSError):
        what = exc.strerror or "a file or network operation failed"
        return Explanation(f"The launcher could not finish: {what.lower()}.", details)
    return Explanation(
        "Something went wrong inside the launcher. Your text is kept; try again, and if it "
        "keeps happening, copy the details into a bug report.",
        details,
    )


def _not_ready(state: str, where: str, details: str) -> Explanation:
    """The local server could not take a message: the same words as its status."""
    if state == "Not installed":
        return Explanation(
            "Ollama is not installed on this computer — get it from "
            "https://ollama.com/download, or set the path to `ollama` in Settings.",
            details,
        )
    if state == "Port in use":
        return Explanation(
            f"Something that is not Ollama answers at {where} — stop it, or choose another "
            "port in Settings.",
            details,
        )
    if state == "Crashed":
        return Explanation(
            f"Ollama on {where} stopped while starting — the Server log says why. Start it "
            "again once that is fixed.",
            details,
            "Start server",
        )
    return Explanation(f"Ollama isn't running on {where} — Start it.", details, "Start server")


def _store(exc: StoreError, details: str) -> Explanation:
    if isinstance(exc, DatabaseLockedError):
        return Explanation(
            "The conversation database is in use by another program (another launcher, a "
            "backup or sync tool), so this is not saved yet. It stays on screen and is saved "
            "as soon as the database is free.",
            details,
        )
    if isinstance(exc, CorruptDatabaseError):
        return Explanation(
            "The conversation database is damaged. Restart the launcher: it sets the file "
            "aside (keeping it) and starts a new one; File > Restore from backup… can bring "
            "back a recent copy.",
            details,
        )
    if isinstance(exc, SchemaTooNewError):
        return Explanation(
            "Your conversations were saved by a newer version of the launcher — update the "
            "launcher to open them. The file was not changed.",
            details,
        )
    return Explanation(
        "Your conversations could not be read or saved — check that the data folder is "
        "writable and the disk is not full.",
        details,
    )


def _response(exc: OllamaResponseError, where: str, model: str, details: str) -> Explanation:
    error = exc.error
    if exc.status_code == 404 and _MODEL_NOT_FOUND.search(error):
        match = _MODEL_NOT_FOUND.search(error)
        name = model or (match.group("name") if match else "")
        return Explanation(
            f"The model '{name}' is not installed on {where} — pull it on the Models page.",
            details,
            "Pull model",
        )
    if exc.status_code == 400 and "invalid model name" in error.lower():
        name = f"'{model}'" if model else "That"
        return Explanation(
            f"{name} is not a valid model name — names look like llama3.2 or qwen3:8b.",
            details,
        )
    if exc.status_code in (401, 403):
        return Explanation(
            f"{where} refused the request: the API key is missing or wrong. Set it for this "
            "host in Settings.",
            details,
        )
    if exc.status_code == 503:
        return Explanation(
            f"Ollama at {where} is busy with other requests — try again in a moment.",
            details,
            "Retry",
        )
    return Explanation(f"Ollama at {where} reported an error: {_sentence(error)}", details)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return "no reason given."
    return text if text.endswith((".", "!", "?")) else text + "."


def explain_server_exit(reason: str, *, during_startup: bool, host: str = "") -> str:
    """What to do after our own `ollama serve` ended on its own.

    `reason` is the server's last error line (e.g. Go's `bind: address already in
    use`); the advice names the likely fix in plain words.
    """
    where = host_label(host) if host else "its address"
    text = reason.lower()
    if "address already in use" in text:
        return (
            f"Another program already uses {where}. Stop it, or choose another port for "
            "the local server in Settings."
        )
    if "permission denied" in text or "operation not permitted" in text:
        return "Ollama was not allowed to do what it needed; the log lines below say what."
    if "no space left" in text:
        return "The disk is full: free some space, then start the server again."
    if during_startup:
        return (
            "Ollama stopped before it was ready; the log lines below say why. Fix that, "
            "then press Start server."
        )
    return "Ollama stopped unexpectedly. Press Start server to run it again."
