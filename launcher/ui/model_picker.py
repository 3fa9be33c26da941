"""The chat's model picker: the host's models, kept while the server is not answering.

A server that is stopped or unreachable has not lost its models: the picker keeps
the last known ones (and says so) instead of claiming that none are installed.
Each entry's tooltip tells its size, family, parameters and quantization.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

from launcher.ollama import ModelInfo
from launcher.ui.format import human_bytes


def model_summary(model: ModelInfo) -> str:
    """'2.0 GB · llama · 3.2B · Q4_K_M': what the picker's tooltip says about a model."""
    details = model.details
    parts = [human_bytes(model.size) if model.size else ""]
    parts += [details.family, details.parameter_size, details.quantization_level]
    return " · ".join(part for part in parts if part)


class ModelPicker(QComboBox):
    """A QComboBox of model names (accessible name "Model")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Model")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setPlaceholderText("No models installed")
        self.server_running = True

    def fill(self, models: list[ModelInfo], wanted: str) -> bool:
        """Show `models`, selecting `wanted` when it is there; False when the list was kept
        (empty while the server is not running: the last known models stay)."""
        if not models and not self.server_running and self.count():
            return False
        self.blockSignals(True)
        try:
            self.clear()
            for row, model in enumerate(models):
                self.addItem(model.name)
                self.setItemData(row, model_summary(model), Qt.ItemDataRole.ToolTipRole)
            index = self.findText(wanted)
            if index < 0 and models:
                index = 0  # with a placeholder set, Qt leaves nothing selected
            self.setCurrentIndex(index)
        finally:
            self.blockSignals(False)
        return True

    def set_server_running(self, running: bool, state: str) -> None:
        """What the picker says when it cannot list models (the server is not answering)."""
        self.server_running = running
        self.setPlaceholderText(
            "No models installed" if running else f"{state} — models appear once it runs"
        )
        self.setToolTip("" if running else f"The server is {state.lower()}.")

    def set_stale(self, stale: str) -> None:
        """The catalog's word on the list: "" (fresh), "server stopped", "host unreachable"."""
        self.setToolTip(f"The last known models ({stale})." if stale else "")
