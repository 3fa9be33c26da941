"""The widgets: they observe `launcher.core` and send it commands; no protocol or process logic."""
