"""The window fixtures of tests/ui, for the fault-injection suite."""

from tests.ui.conftest import external, fake_ollama, make_window

__all__ = ["external", "fake_ollama", "make_window"]
