"""The `Context` label: how full the conversation's context is, after each reply.

"1,234 / 4,096": tokens the last request used against the context in use; the
tooltip says where that number comes from and what the model supports. It turns
the warning colour when the context is nearly full, before the model starts
forgetting the start of the conversation.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from launcher.core.context import ContextUse

#: From this share on the label warns (the next long message may not fit).
NEARLY_FULL = 0.8
WARN_COLOUR = "#d97706"


class ContextMeter(QLabel):
    """Shows a ContextUse; empty until the conversation has a reply with counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Context")
        self.use: ContextUse | None = None
        self.show_use(None)

    def show_use(self, use: ContextUse | None) -> None:
        self.use = use
        if use is None:
            self.setText("")
            self.setToolTip("")
            self.setAccessibleDescription("No reply yet")
            return
        self.setText(use.label())
        self.setToolTip(use.tooltip())
        full = use.fraction >= NEARLY_FULL
        self.setStyleSheet(f"color: {WARN_COLOUR};" if full else "")
        used = "no reply yet" if use.used is None else f"{use.used:,} tokens used"
        self.setAccessibleDescription(
            f"{used} of {use.limit:,}" + (" — nearly full" if full else "")
        )
