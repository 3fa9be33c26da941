"""Settings > Runaway guard: when to stop a reply that loops or runs too long, in plain words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QSpinBox, QWidget

from launcher.core.guard_settings import SHORT_PERIOD, GuardSettings
from launcher.ui.settings_common import buddy_label, named


def _count(value: int) -> str:
    return f"{value:,}"


def guard_summary(guard: GuardSettings) -> str:
    """The settings as one sentence a person can check ("Stop a reply after 200,000 …")."""
    if not guard.enabled:
        return "Replies are never stopped by the guard; only Stop ends them early."
    parts = []
    if guard.max_chars:
        parts.append(f"Stop a reply after {_count(guard.max_chars)} characters")
    loop = (
        f"when a phrase shorter than {SHORT_PERIOD} characters repeats "
        f"{_count(guard.min_repeats_short)} times in a row, or a longer passage (up to "
        f"{_count(guard.max_period)} characters) {_count(guard.min_repeats_long)} times in a "
        f"row — once the repeated text is at least {_count(guard.min_repeated_chars)} "
        "characters long"
    )
    if parts:
        return f"{parts[0]}, or {loop}."
    return f"Stop a reply {loop}. There is no length limit."


class GuardPage(QWidget):
    """The runaway guard: on/off, the length limit and the repetition thresholds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("&Stop replies that loop or run too long", self)
        named(self.enabled, "Runaway guard enabled")
        self.max_chars = self._spin("Length limit", 0, 100_000_000, " characters")
        self.max_chars.setSpecialValueText("No limit")
        self.max_chars.setSingleStep(10_000)
        self.min_repeats_short = self._spin("Short span repeats", 2, 10_000, " times in a row")
        self.min_repeats_long = self._spin("Long span repeats", 2, 10_000, " times in a row")
        self.min_repeated_chars = self._spin(
            "Minimum repeated characters", 1, 10_000_000, " characters"
        )
        self.max_period = self._spin("Longest repeated span", 1, 1_000_000, " characters")
        explain = QLabel(
            "The guard stops a reply the way Stop does when its end repeats the same "
            "text again and again, or when it grows past the length limit, and says why "
            "in the conversation. What was written so far is kept.",
            self,
        )
        explain.setWordWrap(True)
        self.summary = QLabel(self)
        named(self.summary, "Guard summary")
        self.summary.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(explain)
        form.addRow(self.enabled)
        for text, spin in (
            ("Stop a reply &after:", self.max_chars),
            (f"A phrase &under {SHORT_PERIOD} characters repeated:", self.min_repeats_short),
            ("A longer &passage repeated:", self.min_repeats_long),
            ("Only when the &repeated text is at least:", self.min_repeated_chars),
            ("&Look for passages up to:", self.max_period),
        ):
            form.addRow(buddy_label(self, text, spin), spin)
        form.addRow(self.summary)
        self.enabled.toggled.connect(self._update_enabled)
        for spin in self._thresholds():
            spin.valueChanged.connect(lambda _v: self._update_summary())

    def _spin(self, name: str, low: int, high: int, suffix: str) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(low, high)
        spin.setSuffix(suffix)
        spin.setGroupSeparatorShown(True)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        named(spin, name)
        return spin

    def _thresholds(self) -> list[QSpinBox]:
        return [
            self.max_chars,
            self.min_repeats_short,
            self.min_repeats_long,
            self.min_repeated_chars,
            self.max_period,
        ]

    def _update_enabled(self) -> None:
        for spin in self._thresholds():
            spin.setEnabled(self.enabled.isChecked())
        self._update_summary()

    def _update_summary(self) -> None:
        try:
            self.summary.setText(guard_summary(self.result()))
        except ValueError as exc:  # the spin boxes' ranges should make this impossible
            self.summary.setText(str(exc))

    def load(self, guard: GuardSettings) -> None:
        self.enabled.setChecked(guard.enabled)
        self.max_chars.setValue(guard.max_chars)
        self.min_repeats_short.setValue(guard.min_repeats_short)
        self.min_repeats_long.setValue(guard.min_repeats_long)
        self.min_repeated_chars.setValue(guard.min_repeated_chars)
        self.max_period.setValue(guard.max_period)
        self._update_enabled()

    def result(self) -> GuardSettings:
        """The guard settings; ValueError when the thresholds do not make sense."""
        return GuardSettings(
            enabled=self.enabled.isChecked(),
            max_chars=self.max_chars.value(),
            min_repeats_short=self.min_repeats_short.value(),
            min_repeats_long=self.min_repeats_long.value(),
            min_repeated_chars=self.min_repeated_chars.value(),
            max_period=self.max_period.value(),
        )
