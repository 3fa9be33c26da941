"""The window fixtures of tests/ui, for the desktop tests that drive a real window."""

from tests.ui.conftest import external, fake_ollama, make_window

__all__ = ["external", "fake_ollama", "make_window"]
