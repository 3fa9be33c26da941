"""Where the launcher's files live, without importing the rest of the configuration.

Kept apart from `launcher.config` (which re-exports these names) because the
window's first paint needs the config folder (the window state, the
single-instance socket) and `launcher.config` brings the HTTP client with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ollama-launcher"
CONFIG_DIR_ENV = "OLLAMA_LAUNCHER_CONFIG_DIR"
DATA_DIR_ENV = "OLLAMA_LAUNCHER_DATA_DIR"


def config_dir() -> Path:
    """Folder for settings (platformdirs user config dir; env override for tests)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else platformdirs.user_config_path(APP_NAME)


def data_dir() -> Path:
    """Folder for conversations and other user data (the one definition of it)."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else platformdirs.user_data_path(APP_NAME)
