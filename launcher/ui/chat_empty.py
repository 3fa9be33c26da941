"""What a new chat shows before its first message: example prompts, or models to download.

With models installed: a short welcome and a few example prompts (a click puts
one in the message box). On a first run with no models: a few popular small
models with their download size, one click each to download.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

#: Example prompts for a new chat.
EXAMPLE_PROMPTS = (
    "Explain how a rainbow forms, in three sentences.",
    "Write a Python function that checks whether a word is a palindrome.",
    "Suggest five names for a small bakery by the sea.",
)

#: Popular small models for a first run: (name, download size, what it is).
STARTER_MODELS = (
    ("gemma3:1b", "815 MB", "Google's smallest Gemma 3: quick on any computer"),
    ("llama3.2:1b", "1.3 GB", "Meta's small Llama 3.2"),
    ("qwen3:1.7b", "1.4 GB", "Alibaba's small Qwen 3, with thinking"),
    ("llama3.2", "2.0 GB", "Llama 3.2 3B: a good all-rounder"),
)


class EmptyChat(QWidget):
    """Signals:
    promptChosen(str): an example prompt was clicked.
    pullRequested(str): download this model.
    """

    promptChosen = Signal(str)
    pullRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("New chat")
        self.title = QLabel(self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.title.setFont(font)
        self.hint = QLabel(self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        self.prompts: list[QPushButton] = []
        for text in EXAMPLE_PROMPTS:
            button = QPushButton(text, self)
            button.setAccessibleName(f"Example prompt: {text}")
            button.clicked.connect(lambda _=False, t=text: self.promptChosen.emit(t))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
            self.prompts.append(button)
        self.downloads: list[QPushButton] = []
        for name, size, about in STARTER_MODELS:
            button = QPushButton(f"Download {name} ({size}) — {about}", self)
            button.setAccessibleName(f"Download {name}")
            button.clicked.connect(lambda _=False, n=name: self.pullRequested.emit(n))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
            self.downloads.append(button)
        layout.addStretch(2)
        self.set_has_models(True)

    def set_not_installed(self) -> None:
        """Without Ollama there is nothing to suggest: say so, and point at the notice
        above the pages (one source of advice for every page)."""
        self.title.setText("Ollama isn't installed")
        self.hint.setText(
            "Install Ollama to start chatting: the notice above says how. The launcher "
            "finds it by itself once it is installed."
        )
        for button in (*self.prompts, *self.downloads):
            button.setVisible(False)

    def set_has_models(self, has_models: bool) -> None:
        """Example prompts when there is a model to talk to; downloads on a first run."""
        if has_models:
            self.title.setText("Start a conversation")
            self.hint.setText("Choose a model above, type below, or try one of these:")
        else:
            self.title.setText("No models yet")
            self.hint.setText(
                "Download one to start chatting. These small models run well on most "
                "computers; the download continues on the Models page."
            )
        for button in self.prompts:
            button.setVisible(has_models)
        for button in self.downloads:
            button.setVisible(not has_models)
