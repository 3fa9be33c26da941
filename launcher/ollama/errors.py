"""The one exception hierarchy of the Ollama client.

Every transport and protocol failure is mapped into these classes in one place
(`launcher.ollama.client`), so that callers catch `OllamaError` and show its
message, instead of knowing about httpx, JSON or sockets.
"""

from __future__ import annotations


class OllamaError(Exception):
    """Base of every error raised by `launcher.ollama`.

    Attributes:
        host: the base URL the call went to (never includes credentials).
    """

    def __init__(self, message: str, *, host: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.host = host

    def __str__(self) -> str:
        return self.message


class OllamaConnectionError(OllamaError):
    """Nothing answered at the host, or the connection broke.

    The message says which host and what the user can do about it.
    """


class OllamaProxyError(OllamaConnectionError):
    """The proxy chosen for the host could not be reached, or refused the connection.

    Attributes:
        proxy: the proxy's address, without any user name or password.
    """

    def __init__(self, message: str, *, proxy: str, host: str = "") -> None:
        super().__init__(message, host=host)
        self.proxy = proxy


class OllamaTimeoutError(OllamaConnectionError):
    """The host accepted the connection but did not answer in time."""


class OllamaResponseError(OllamaError):
    """The server answered with an HTTP error status before any reply was streamed.

    Attributes:
        status_code: the HTTP status.
        error: the server's own `error` text (or the body, when it is not JSON).
    """

    def __init__(self, error: str, status_code: int, *, host: str = "") -> None:
        super().__init__(error, host=host)
        self.error = error
        self.status_code = status_code

    def __str__(self) -> str:
        return f"{self.error} (HTTP {self.status_code})"


class OllamaStreamError(OllamaError):
    """The server reported an error inside a stream that had already started.

    Ollama sends `{"error": "..."}` as the last line once the 200 status is out;
    this is a failure of the request, never data.

    Attributes:
        error: the server's `error` text.
    """

    def __init__(self, error: str, *, host: str = "") -> None:
        super().__init__(error, host=host)
        self.error = error


class OllamaProtocolError(OllamaError):
    """The reply is not what Ollama sends: a line that is not JSON, a wrong shape.

    Usually a foreign service holds the port, or a proxy mangled the reply.
    """


class OllamaTLSError(OllamaConnectionError):
    """The host's certificate could not be verified (expired, self-signed, wrong name...).

    Never followed by a fall-back to plain http.

    Attributes:
        reason: a short reason for a person, e.g. "the certificate has expired".
    """

    def __init__(self, message: str, *, reason: str = "", host: str = "") -> None:
        super().__init__(message, host=host)
        self.reason = reason
