"""What the settings pages share: naming a control, the warning style, label helpers."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

WARNING_STYLE = "color: #c62828; font-weight: bold;"


def named(widget: QWidget, name: str, tip: str = "") -> None:
    """Give `widget` its accessible name (a public contract) and an optional tooltip."""
    widget.setAccessibleName(name)
    if tip:
        widget.setToolTip(tip)


def buddy_label(parent: QWidget, text: str, buddy: QWidget) -> QLabel:
    """A form label whose mnemonic (Alt+letter) moves the focus to `buddy`."""
    label = QLabel(text, parent)
    label.setBuddy(buddy)
    return label


def row(*widgets: QWidget) -> QHBoxLayout:
    """The first widget stretched, the others (buttons) at their natural size."""
    layout = QHBoxLayout()
    layout.addWidget(widgets[0], 1)
    for widget in widgets[1:]:
        layout.addWidget(widget)
    return layout
