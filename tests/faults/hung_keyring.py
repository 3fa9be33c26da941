"""A keyring that never answers (a locked Secret Service waiting on a password prompt).

Loaded in a launcher process with `PYTHON_KEYRING_BACKEND=tests.faults.hung_keyring.HungKeyring`.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend


class HungKeyring(KeyringBackend):
    priority = 10  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        threading.Event().wait()  # forever
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        threading.Event().wait()

    def delete_password(self, service: str, username: str) -> None:
        threading.Event().wait()
