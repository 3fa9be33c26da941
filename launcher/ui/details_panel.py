"""The model details side panel: what `/api/show` tells about one installed model.

A side panel rather than inline text, so opening it never squeezes the list of
installed models. Names and values come from the server: plain text only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from launcher.core.inspector import ModelFacts
from launcher.ui.format import human_bytes


def describe_facts(facts: ModelFacts) -> str:
    context = f"{facts.context_length:,} tokens" if facts.context_length else "not reported"
    size = human_bytes(facts.size) if facts.size is not None else "unknown"
    lines = [
        facts.name,
        "",
        f"Family: {facts.family or 'unknown'}",
        f"Parameters: {facts.parameter_size or 'unknown'}",
        f"Quantization: {facts.quantization or 'unknown'}",
        f"Size on disk: {size}",
        f"Context length: {context}",
        f"Capabilities: {', '.join(facts.capabilities) or 'none reported'}",
    ]
    return "\n".join(lines)


class ModelDetailsPanel(QFrame):
    """Shows the facts of one model; hidden until asked, closed with its button.

    Signals:
        closed(): the user closed the panel.
    """

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.model = ""
        self.text = QLabel(self)
        self.text.setAccessibleName("Details of the selected model")
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # names come from the server
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.close_button = QPushButton("Close", self)
        self.close_button.setAccessibleName("Close details")
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignRight)
        self.close_button.clicked.connect(self._close)
        self.setMinimumWidth(220)
        self.hide()

    def asking(self, name: str) -> None:
        self.model = name
        self.text.setText(f"Asking the server about {name}…")
        self.show()

    def show_facts(self, facts: ModelFacts) -> None:
        if facts.name == self.model:
            self.text.setText(describe_facts(facts))

    def show_failure(self, message: str) -> None:
        self.text.setText(message)

    def _close(self) -> None:
        self.model = ""
        self.hide()
        self.closed.emit()
