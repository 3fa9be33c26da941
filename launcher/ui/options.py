"""Per-conversation settings: the system prompt and the generation options.

"Default" (empty) means the option is not sent, so the model's own default
applies; that is different from any value, hence the special values below.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from launcher.core.conversation import ConversationSettings

DEFAULT = "default"
THINK_STATES = {
    None: Qt.CheckState.PartiallyChecked,
    False: Qt.CheckState.Unchecked,
    True: Qt.CheckState.Checked,
}


class ConversationOptions(QWidget):
    """System prompt, temperature, context length, seed, top_p, keep-alive, thinking.

    Signals:
        edited(): the user changed something (the settings object is already updated).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton(self)
        self.toggle.setText("Options: system prompt, temperature, context…")
        self.toggle.setAccessibleName("Conversation options")
        self.toggle.setCheckable(True)  # collapsed by default: most chats need none of this
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.body = QWidget(self)
        self.system_prompt = QPlainTextEdit(self.body)
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setPlaceholderText("Instructions the model sees before every message")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setMaximumHeight(70)
        self.temperature = self._double("Temperature", 0.0, 2.0, 0.05)
        self.top_p = self._double("Top p", 0.0, 1.0, 0.05)
        self.num_ctx = self._int("Context length", 256, 1_048_576, 1024)
        self.seed = self._int("Seed", 0, 2_147_483_647, 1)
        self.keep_alive = QLineEdit(self.body)
        self.keep_alive.setAccessibleName("Keep alive")
        self.keep_alive.setPlaceholderText("default (5m); e.g. 30m, 1h, 0 to unload at once")
        self.think = QCheckBox("Think before answering", self.body)
        self.think.setAccessibleName("Thinking")
        self.think.setTristate(True)
        self.think.setToolTip("For models that can think. Partly checked: the model's default.")

        form = QFormLayout(self.body)
        form.addRow("System prompt:", self.system_prompt)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Top p:", self.top_p)
        form.addRow("Context length:", self.num_ctx)
        form.addRow("Seed:", self.seed)
        form.addRow("Keep alive:", self.keep_alive)
        form.addRow("", self.think)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)
        self.toggle.toggled.connect(self._expand)
        self._expand(False)
        self._settings = ConversationSettings()
        self._loading = False
        self.system_prompt.textChanged.connect(self._changed)
        self.keep_alive.editingFinished.connect(self._changed)
        self.think.stateChanged.connect(lambda _s: self._changed())
        for box in (self.temperature, self.top_p, self.num_ctx, self.seed):
            box.valueChanged.connect(lambda _v: self._changed())

    def _double(self, name: str, low: float, high: float, step: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self.body)
        box.setAccessibleName(name)
        # One step below the range is the "not set" value, shown as "default".
        box.setRange(low - step, high)
        box.setSingleStep(step)
        box.setDecimals(2)
        box.setSpecialValueText(DEFAULT)
        return box

    def _int(self, name: str, low: int, high: int, step: int) -> QSpinBox:
        box = QSpinBox(self.body)
        box.setAccessibleName(name)
        box.setRange(low - 1, high)
        box.setSingleStep(step)
        box.setSpecialValueText(DEFAULT)
        return box

    def _expand(self, expanded: bool) -> None:
        self.body.setVisible(expanded)
        arrow = Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow
        self.toggle.setArrowType(arrow)

    def set_thinking_available(self, available: bool) -> None:
        """The think toggle exists only for models that can think."""
        self.think.setEnabled(available)
        self.think.setVisible(available)

    def load(self, settings: ConversationSettings) -> None:
        """Show a conversation's settings (edits go straight into this object)."""
        self._loading = True
        try:
            self._settings = settings
            self.system_prompt.setPlainText(settings.system_prompt)
            self._set_double(self.temperature, settings.temperature)
            self._set_double(self.top_p, settings.top_p)
            self._set_int(self.num_ctx, settings.num_ctx)
            self._set_int(self.seed, settings.seed)
            self.keep_alive.setText(settings.keep_alive or "")
            self.think.setCheckState(THINK_STATES[settings.think])
        finally:
            self._loading = False

    @staticmethod
    def _set_double(box: QDoubleSpinBox, value: float | None) -> None:
        box.setValue(box.minimum() if value is None else value)

    @staticmethod
    def _set_int(box: QSpinBox, value: int | None) -> None:
        box.setValue(box.minimum() if value is None else value)

    @staticmethod
    def _double_value(box: QDoubleSpinBox) -> float | None:
        return None if box.value() == box.minimum() else round(box.value(), 2)

    @staticmethod
    def _int_value(box: QSpinBox) -> int | None:
        return None if box.value() == box.minimum() else box.value()

    def _changed(self) -> None:
        if self._loading:
            return
        s = self._settings
        s.system_prompt = self.system_prompt.toPlainText()
        s.temperature = self._double_value(self.temperature)
        s.top_p = self._double_value(self.top_p)
        s.num_ctx = self._int_value(self.num_ctx)
        s.seed = self._int_value(self.seed)
        s.keep_alive = self.keep_alive.text().strip() or None
        state = self.think.checkState()
        s.think = (
            None if state == Qt.CheckState.PartiallyChecked else state == Qt.CheckState.Checked
        )
        self.edited.emit()
