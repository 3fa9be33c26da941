"""The transcript's geometry: a readable column in the middle of a wide window, and
following the end of the conversation only for a reader who is already there."""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from launcher.ui.safe_browser import SafeTextBrowser

#: Readable line length: text is kept to about this many average characters.
MAX_LINE_CHARS = 88


class TranscriptView(SafeTextBrowser):
    """A safe browser whose text keeps a readable width and which can stay at its end."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pinned = False  # following the end (see scroll_to_bottom)
        self.verticalScrollBar().rangeChanged.connect(self._keep_pinned)
        self.verticalScrollBar().valueChanged.connect(self._unpin)

    # ---- layout: a readable column ----------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        pinned = self._pinned  # Qt keeps the top line in place; a reader at the end stays
        super().resizeEvent(event)
        self._fit_column()
        if pinned:
            self.scroll_to_bottom()

    def _fit_column(self) -> None:
        """Centre a column of about MAX_LINE_CHARS characters (the page's own margins)."""
        column = self.fontMetrics().averageCharWidth() * MAX_LINE_CHARS
        side = max(8, (self.viewport().width() - column) // 2)
        root = self.document().rootFrame()
        fmt = root.frameFormat()
        if fmt.leftMargin() != side or fmt.rightMargin() != side:
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            root.setFrameFormat(fmt)

    # ---- scrolling: follow only a reader who is already at the bottom ----

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def scroll_to_bottom(self) -> None:
        """To the end, and stay there while the layout settles (Qt reports a document's
        final height a turn later when a scroll bar appeared) until the reader scrolls."""
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._pinned = True

    def _keep_pinned(self, _minimum: int, maximum: int) -> None:
        if self._pinned:
            self.verticalScrollBar().setValue(maximum)

    def _unpin(self, _value: int) -> None:
        if not self.at_bottom():
            self._pinned = False
