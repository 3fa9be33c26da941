"""Tab pages built after the window's first paint, or at once when somebody needs one.

Why: start-up is measured to the first paint of the main window, and the
pages nobody sees at first (Models, Server log, Diagnostics) cost about as
much to import and build as the rest of the window. A deferred page is an
empty stand-in until it is built; it is built the moment it is shown or asked
for (its property, a menu command, a shortcut that switches to it), and
otherwise one page per event-loop turn right after the first paint, so the
window answers in between and everything exists a fraction of a second later.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

PageBuilder = Callable[[], QWidget]
#: The longest wait for the first paint before the rest is built anyway.
FIRST_PAINT_WAIT_MS = 2000


class DeferredPages(QObject):
    """The pages of `tabs` that are built later, by name.

    Signals:
        built(str, QWidget): a page was built and put in its tab (wire it up).
        finished(): every page is built and the post-paint steps have run.
    """

    built = Signal(str, QWidget)
    finished = Signal()

    def __init__(self, tabs: QTabWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tabs = tabs
        self._pages: dict[str, QWidget] = {}
        self._pending: dict[str, tuple[QWidget, str, PageBuilder]] = {}
        self._after: list[Callable[[], None]] = []
        self._started = False
        self._done = False
        tabs.currentChanged.connect(self._on_current)

    def add(self, name: str, label: str, build: PageBuilder, *, defer: bool) -> None:
        """A tab at the end: built now, or a stand-in until it is needed."""
        if not defer:
            page = build()
            self.tabs.addTab(page, label)
            self._pages[name] = page
            return
        stand_in = QWidget(self.tabs)
        stand_in.setAccessibleName(f"{label.replace('&', '')} (loading)")
        self._pending[name] = (stand_in, label, build)
        self.tabs.addTab(stand_in, label)

    def get(self, name: str) -> QWidget:
        """The page, built now if it was not yet."""
        if name in self._pending:
            self._build(name)
        return self._pages[name]

    def is_built(self, name: str) -> bool:
        return name in self._pages

    def is_finished(self) -> bool:
        """Every page is built and every `after` step has run."""
        return self._done

    def after(self, step: Callable[[], None]) -> None:
        """Run `step` once every page is built (at once when that is done already)."""
        if self._done:
            step()
        else:
            self._after.append(step)

    def start(self) -> None:
        """Build the remaining pages, one per event-loop turn, then run the `after` steps."""
        if not self._started:
            self._started = True
            QTimer.singleShot(0, self, self._next)

    def start_after_first_paint(self, window: QWidget) -> None:
        """`start()` once `window` has painted for the first time (or after
        FIRST_PAINT_WAIT_MS, should a window manager never let it paint)."""
        window.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_WAIT_MS, self, self.start)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            self.start()
        return False

    def _next(self) -> None:
        if self._pending:
            self._build(next(iter(self._pending)))
            QTimer.singleShot(0, self, self._next)
            return
        self._done = True
        steps, self._after = self._after, []
        for step in steps:
            step()
        self.finished.emit()

    def _on_current(self, index: int) -> None:
        page = self.tabs.widget(index)
        for name, (stand_in, _label, _build) in list(self._pending.items()):
            if stand_in is page:
                self._build(name)

    def _build(self, name: str) -> None:
        stand_in, label, build = self._pending.pop(name)
        page = build()
        tabs = self.tabs
        index = tabs.indexOf(stand_in)
        current = tabs.currentIndex()
        # Swap the stand-in for the page in the same place, without telling anyone
        # that the current tab changed (it did not, as far as the user can see).
        tabs.blockSignals(True)
        try:
            tabs.removeTab(index)
            tabs.insertTab(index, page, label)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(False)
        stand_in.deleteLater()
        self._pages[name] = page
        self.built.emit(name, page)
