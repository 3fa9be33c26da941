"""Ollama Launcher: a desktop app that makes a local or remote Ollama server effortless."""

__version__ = "0.1.0"
