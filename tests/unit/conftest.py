"""The store tests' shared setup: a database path in the test's folder and a Store on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.core.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's conversation database lives (its folder is made by the store)."""
    return tmp_path / "data" / "conversations.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """A Store on `db_path`, closed after the test."""
    s = Store(db_path)
    yield s
    s.close()
