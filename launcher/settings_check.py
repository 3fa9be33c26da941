"""Reading a settings file field by field: each wrong value falls back to its safe default, and
the user is told which field was ignored.

A settings file is edited by hand, synced between machines, or written by another
version of the launcher, so no value in it is trusted: every field is checked for
its type and range on its own. A wrong one never makes the launcher less safe:
`"allow_network": "false"` (a string) is off, `"listen": 11434` (a number) is the
loopback default, a remote host's `"verify_tls"` is off only when it is exactly
`false`. Problems are plain sentences naming the field, for the window to show once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from launcher.ollama import is_loopback_url, resolve_host

_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROXY_SCHEMES: Final = ("http://", "https://", "socks5://", "socks5h://", "socks4://")


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


class Checker:
    """Collects the problems found while reading one settings file.

    Attributes:
        problems: one sentence per ignored field or entry, in file order.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def ignore(self, where: str, value: object, why: str, fallback: str) -> None:
        self.problems.append(
            f"Settings: {where} was ignored ({_show(value)} {why}); {fallback} is used instead."
        )

    # ---- plain types -------------------------------------------------------------

    def section(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.ignore(where, value, "is not a group of settings", "the defaults")
            return {}
        return value

    def boolean(self, data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        """Exactly true or false; anything else (even "false") is the default."""
        if key not in data or data[key] is None:
            return default
        value = data[key]
        if isinstance(value, bool):
            return value
        self.ignore(where, value, "is not true or false", "on" if default else "off")
        return default

    def text(self, data: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
        if key not in data or data[key] is None:
            return default
        value = data[key]
        if isinstance(value, str) and "\0" not in value:
            return value
        self.ignore(where, value, "is not text", f'"{default}"' if default else "nothing")
        return default

    def integer(
        self, data: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int
    ) -> int:
        if key not in data or data[key] is None:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.ignore(where, value, "is not a whole number", str(default))
            return default
        if not low <= value <= high:
            self.ignore(where, value, f"is not between {low} and {high}", str(default))
            return default
        return value

    def env_map(self, data: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
        """Environment variables: each bad entry is dropped on its own."""
        raw = data.get(key)
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.ignore(where, raw, "is not a list of NAME = value pairs", "none")
            return {}
        out: dict[str, str] = {}
        for name, value in raw.items():
            if not isinstance(name, str) or not _ENV_NAME.match(name):
                self.ignore(f"{where} {name!r}", name, "is not a variable name", "nothing")
            elif not isinstance(value, str | int | float) or isinstance(value, bool):
                self.ignore(f"{where} {name}", value, "is not text", "nothing")
            elif "\0" in str(value):
                self.ignore(f"{where} {name}", value, "contains a NUL character", "nothing")
            else:
                out[name] = str(value)
        return out

    def flags(
        self, data: Mapping[str, Any], key: str, where: str, defaults: Mapping[str, bool]
    ) -> dict[str, bool]:
        """A group of on/off switches with known names; unknown names are dropped."""
        raw = self.section(data, key, where)
        return {
            name: self.boolean(raw, name, f"{where}.{name}", on) for name, on in defaults.items()
        }

    # ---- addresses ---------------------------------------------------------------

    def listen(self, data: Mapping[str, Any], key: str, where: str, default: str) -> str:
        """The local server's address: text that names a loopback address. Other devices are
        let in by "allow other devices on the network", never by this field."""
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.ignore(where, value, "is not an address", default)
            return default
        try:
            url = resolve_host(value.strip())
        except ValueError:
            self.ignore(where, value, "is not a valid address", default)
            return default
        if not is_loopback_url(url):
            self.ignore(
                where,
                value,
                "is not an address of this computer only (use 'Allow other devices on the "
                "network' to let others in)",
                default,
            )
            return default
        return value.strip()

    def host_url(self, value: object, where: str) -> str | None:
        """A remote host's address (http or https), or None after noting why not."""
        if (
            not isinstance(value, str)
            or not value.strip()
            or any(c.isspace() for c in value.strip())
        ):
            self.ignore(where, value, "is not an address", "no host")
            return None
        try:
            url = resolve_host(value.strip())
        except ValueError:
            self.ignore(where, value, "is not a valid address", "no host")
            return None
        if not url.startswith(("http://", "https://")):
            self.ignore(where, value, "is not an http:// or https:// address", "no host")
            return None
        return value.strip()

    def proxy(self, data: Mapping[str, Any], key: str, where: str) -> str:
        """ "system", "none", or an http(s)/socks proxy URL."""
        value = data.get(key)
        if value is None or value == "":
            return "system"
        if isinstance(value, str) and (
            value in ("system", "none")
            or (value.startswith(_PROXY_SCHEMES) and not any(c.isspace() for c in value))
        ):
            return value
        self.ignore(where, value, 'is not "system", "none" or a proxy URL', '"system"')
        return "system"

    def proxy_url(self, data: Mapping[str, Any], key: str, where: str) -> str:
        """An optional proxy URL ("" for none)."""
        value = self.text(data, key, where)
        if value and (not value.startswith(_PROXY_SCHEMES) or any(c.isspace() for c in value)):
            self.ignore(where, value, "is not a proxy URL", "no proxy")
            return ""
        return value

    def guard(self, data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        """The runaway guard's values: `enabled` exactly true or false (on otherwise), the
        limits whole numbers; anything else is dropped so the guard's default applies."""
        raw = self.section(data, key, where)
        out: dict[str, Any] = {}
        for name, value in raw.items():
            here = f"guard.{name}"
            if name == "enabled":
                if isinstance(value, bool):
                    out[name] = value
                else:
                    self.ignore(here, value, "is not true or false", "on")
            elif isinstance(value, int) and not isinstance(value, bool):
                out[name] = value
            else:
                self.ignore(here, value, "is not a whole number", "the default")
        return out
