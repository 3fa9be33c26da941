"""The conversation's switches: Web search, Web fetch, Calculator, Token probabilities, tint.

Edits go straight into the conversation's `ChatFeatures` (like the options panel
does with its settings) and `edited` says they need saving. Tool switches are
disabled, with a tooltip saying why, for a model that cannot call tools; web
search without an ollama.com key says where to put one.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QToolButton, QWidget

from launcher.core.features import ChatFeatures

NO_TOOLS = "This model cannot call tools (its capabilities do not include “tools”)."


class ChatSwitches(QWidget):
    """A row of per-conversation switches, the Attach file button and the tool status.

    Signals:
        edited(): a switch changed (the conversation's settings are to be saved).
        tintToggled(bool): the low-confidence tint was switched.
    """

    edited = Signal()
    tintToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.features = ChatFeatures()
        self._loading = False
        self.attach_file = QToolButton(self)
        self.attach_file.setText("Attach f&ile…")
        self.attach_file.setAccessibleName("Attach file")
        self.attach_file.setToolTip(
            "Attach text, code, Markdown, CSV, JSON or PDF files (or drop them on the message)"
        )
        self.web_search = self._box("&Web search", "Web search", "Let the model search the web")
        self.web_fetch = self._box("Web fe&tch", "Web fetch", "Let the model read web pages")
        self.calculator = self._box(
            "Calc&ulator", "Calculator", "Let the model calculate and read the date and time"
        )
        self.logprobs = self._box(
            "Token &probabilities",
            "Token probabilities",
            "Ask for the alternatives the model weighed for each word (hover or Tab to a word)",
        )
        self.tint = self._box(
            "Ti&nt unsure words", "Tint unsure words", "Colour the words the model was unsure of"
        )
        self.key_button = QToolButton(self)
        self.key_button.setText("ollama.com &key…")
        self.key_button.setAccessibleName("ollama.com API key")
        self.key_button.setToolTip(
            "The API key for Ollama's web search (kept in the system keyring; "
            "OLLAMA_API_KEY works too). It is sent to ollama.com only."
        )
        self.tool_status = QLabel(self)
        self.tool_status.setAccessibleName("Tool status")
        self.tool_status.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.attach_file,
            self.web_search,
            self.web_fetch,
            self.key_button,
            self.calculator,
            self.logprobs,
            self.tint,
        ):
            row.addWidget(widget)
        row.addWidget(self.tool_status, 1)
        self.tint.toggled.connect(self.tintToggled.emit)
        self._sync_tint()

    def _box(self, text: str, name: str, tip: str) -> QCheckBox:
        box = QCheckBox(text, self)
        box.setAccessibleName(name)
        box.setToolTip(tip)
        box.toggled.connect(lambda _on: self._changed())
        return box

    def load(self, features: ChatFeatures) -> None:
        """Show a conversation's switches (edits go straight into this object)."""
        self._loading = True
        try:
            self.features = features
            self.web_search.setChecked(features.web_search)
            self.web_fetch.setChecked(features.web_fetch)
            self.calculator.setChecked(features.calculator)
            self.logprobs.setChecked(features.logprobs)
            self.tint.setChecked(features.tint)
        finally:
            self._loading = False
        self._sync_tint()

    def set_tools_available(self, available: bool) -> None:
        for box in (self.web_search, self.web_fetch, self.calculator):
            box.setEnabled(available)
            if not available:
                box.setToolTip(NO_TOOLS)
        if available:
            self.web_search.setToolTip("Let the model search the web")
            self.web_fetch.setToolTip("Let the model read web pages")
            self.calculator.setToolTip("Let the model calculate and read the date and time")

    def _sync_tint(self) -> None:
        self.tint.setVisible(self.logprobs.isChecked())
        self.key_button.setVisible(self.web_search.isChecked() or self.web_fetch.isChecked())

    def _changed(self) -> None:
        self._sync_tint()
        if self._loading:
            return
        f = self.features
        f.web_search = self.web_search.isChecked()
        f.web_fetch = self.web_fetch.isChecked()
        f.calculator = self.calculator.isChecked()
        f.logprobs = self.logprobs.isChecked()
        f.tint = self.tint.isChecked()
        self.edited.emit()
