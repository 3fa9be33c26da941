"""The pages of the settings dialog, one module each; this module names them in one place.

Each page loads a settings record into its controls and builds a new record
from them (`result()`), raising ValueError with a message for the user when
a field is wrong. The pages never save anything: the dialog does, through
the Launcher.
"""

from __future__ import annotations

from launcher.ui.settings_common import WARNING_STYLE
from launcher.ui.settings_general import GeneralPage
from launcher.ui.settings_guard import GuardPage, guard_summary
from launcher.ui.settings_history import HistoryPage
from launcher.ui.settings_local import LocalServerPage
from launcher.ui.settings_remote import KEYRING_NOTE, SESSION_ONLY_NOTE, RemoteHostsPage

__all__ = [
    "KEYRING_NOTE",
    "SESSION_ONLY_NOTE",
    "WARNING_STYLE",
    "GeneralPage",
    "GuardPage",
    "HistoryPage",
    "LocalServerPage",
    "RemoteHostsPage",
    "guard_summary",
]
