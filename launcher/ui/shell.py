"""The main window's first frame: title, remembered geometry, theme and a calm skeleton.

Why: start-up is measured to the window's first paint, and the launcher's core
(the HTTP client, the store, the chat) costs several bare windows to import.
So the window the user keeps is built and painted first from this module's
light imports alone: its final title, size and place, light or dark as chosen,
and the outline of its layout (menu titles, the tabs, the conversations list
area, an empty chat area, "Starting…" in the status line). `MainWindow.attach()`
then builds the real controls into this same window. Nothing in the skeleton
can be clicked: the menu titles and other tabs are disabled, there are no buttons.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from launcher.ui.theme import Theme, ThemeMode
from launcher.ui.window_state import WindowState, load_state

TITLE = "Ollama Launcher"
DEFAULT_SIZE = (980, 720)
#: The smallest central area: with the menu and status bars the window fits 640x480.
MIN_CENTRAL = (600, 380)
#: The menu titles and tabs of the finished window, shown (disabled) in the skeleton.
MENU_TITLES = ("&File", "&Edit", "&View", "&Server", "&Models", "&Help")
TAB_TITLES = ("&Chat", "M&odels", "Server &log", "&Diagnostics")
SIDEBAR_WIDTH = 230
STARTING = "Starting…"
#: The longest wait for the first paint (a window manager that never lets it paint).
FIRST_PAINT_WAIT_MS = 2000


class WindowShell(QMainWindow):
    """The top-level window as it is before the launcher is attached (a base of `MainWindow`).

    Attributes:
        window_state: what was remembered at the last close (read once, here).
        theme: applies the palette; already applied when this returns.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        state = self.window_state = load_state()
        self.theme = Theme(ThemeMode(state.theme), parent=self)
        self.theme.apply()
        # Before the first show, so the window appears where and as large as it was left.
        if state.geometry.isEmpty() or not self.restoreGeometry(state.geometry):
            self.resize(*DEFAULT_SIZE)
        self.close_requested = False
        self._skeleton_menus: list[QAction] = []
        for title in MENU_TITLES:
            action = QAction(title)  # no parent: deleted with the list at attach
            action.setEnabled(False)
            self.menuBar().addAction(action)
            self._skeleton_menus.append(action)
        self.setCentralWidget(skeleton(state, self))
        self.setStatusBar(QStatusBar(self))
        self.statusBar().showMessage(STARTING)
        # The running download's summary (hidden until one runs): here from the start,
        # because the status bar is as high as it makes it, shown or not.
        self.download_label = QLabel(self)
        self.download_label.setAccessibleName("Download summary")
        self.download_bar = QProgressBar(self)
        self.download_bar.setAccessibleName("Download summary progress")
        self.download_bar.setRange(0, 1000)
        self.download_bar.setMaximumWidth(160)
        self.download_bar.setTextVisible(False)
        self.download_label.hide()
        self.download_bar.hide()
        self.statusBar().addPermanentWidget(self.download_label)
        self.statusBar().addPermanentWidget(self.download_bar)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed before the launcher is attached: nothing to shut down yet, so the
        window stays until it is, and then closes as usual (`close_requested`)."""
        event.ignore()
        self.close_requested = True

    def is_attached(self) -> bool:
        """The real controls replaced the skeleton (`MainWindow.attach`)."""
        return not self._skeleton_menus

    def drop_skeleton(self) -> None:
        """Remove the skeleton's menu titles, page and status line, at once (not later:
        nothing of it may be found among the window's children afterwards)."""
        for action in self._skeleton_menus:
            self.menuBar().removeAction(action)
        self._skeleton_menus.clear()
        old = self.takeCentralWidget()
        if old is not None:
            old.setParent(None)  # owned by Python now: deleted when `old` goes
        self.statusBar().clearMessage()


def skeleton(state: WindowState, parent: QWidget) -> QWidget:
    """The layout's outline: where the server bar, tabs, conversations and chat will be."""
    central = QWidget(parent)
    central.setAccessibleName(STARTING)
    central.setMinimumSize(*MIN_CENTRAL)
    layout = QVBoxLayout(central)
    # The server bar's row, empty until it is built: as high as its buttons will be
    # (measured on ones never shown), so that nothing below moves when it comes.
    bar = QWidget(central)
    with_icon = QPushButton(QIcon(QPixmap(16, 16)), "Settings…")  # as the bar's buttons
    bar.setFixedHeight(max(with_icon.sizeHint().height(), QComboBox().sizeHint().height()))
    layout.addWidget(bar)
    tabs = QTabWidget(central)
    current = min(max(state.tab, 0), len(TAB_TITLES) - 1)
    for index, title in enumerate(TAB_TITLES):
        tabs.addTab(chat_outline(state) if index == 0 else QWidget(), title)
        tabs.setTabEnabled(index, index == current)
    tabs.setCurrentIndex(current)
    layout.addWidget(tabs, 1)
    return central


def chat_outline(state: WindowState) -> QWidget:
    """The Chat page's outline: the conversations list's box and an empty chat area."""
    page = QSplitter(Qt.Orientation.Horizontal)
    sidebar = QFrame(page)
    sidebar.setFrameShape(QFrame.Shape.StyledPanel)
    sidebar.setBackgroundRole(QPalette.ColorRole.Base)
    sidebar.setAutoFillBackground(True)
    sidebar.setVisible(state.sidebar)
    page.addWidget(sidebar)
    page.addWidget(QWidget(page))
    page.setSizes([SIDEBAR_WIDTH, 750])
    if not state.splitter.isEmpty():
        page.restoreState(state.splitter)
    page.setEnabled(False)
    return page


class _FirstPaint(QObject):
    """Ends `loop` right after `window`'s first paint has been drawn and flushed."""

    def __init__(self, window: QWidget, loop: QEventLoop) -> None:
        super().__init__(loop)
        self.loop = loop
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            # Quit after this paint's whole update (children, flush) has run.
            QTimer.singleShot(0, self.loop, self.loop.quit)
        return False


def show_and_paint(window: QWidget) -> None:
    """Show `window` and return once it has painted for the first time.

    Runs Qt's own event loop for that moment, before any asyncio loop exists;
    gives up after FIRST_PAINT_WAIT_MS (the rest is built either way)."""
    loop = QEventLoop()
    _FirstPaint(window, loop)
    QTimer.singleShot(FIRST_PAINT_WAIT_MS, loop, loop.quit)
    window.show()
    loop.exec()


def bring_to_front(window: QWidget) -> None:
    """Show the window (un-minimised) and ask the window manager to raise and focus it."""
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
