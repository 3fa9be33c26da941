"""Log intelligence in the Server log: a known problem gets a one-line fix under it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor, QTextCursor

from launcher.ui.log_hints import HINT_COLOUR, HINT_PREFIX, HintTooltips
from launcher.ui.main_window import MainWindow
from tests.ollama_server import OllamaTestServer
from tests.ui.helpers import control
from tests.waiting import wait_until

TRUNCATED = (
    'time=2025-10-26T17:15:24Z level=WARN source=runner.go:128 msg="truncating input prompt" '
    "limit=4096 prompt=5120 keep=4 new=4096"
)
PORT_TAKEN = "Error: listen tcp 127.0.0.1:11434: bind: address already in use"
ORDINARY = 'time=2025-10-26T17:15:20Z level=INFO source=images.go:518 msg="total blobs: 5"'


async def test_known_problems_get_a_hint_line_in_its_own_colour(
    external: OllamaTestServer, make_window: Callable[[], MainWindow]
) -> None:
    window = make_window()
    log = control(window, "Server log")
    for line in (ORDINARY, TRUNCATED, PORT_TAKEN):
        window.launcher.log.append(line)
    await wait_until(lambda: PORT_TAKEN in log.toPlainText(), 5)
    lines = log.toPlainText().splitlines()
    at = lines.index(TRUNCATED)
    assert lines[at + 1].startswith(HINT_PREFIX) and "context length (4096 tokens" in lines[at + 1]
    at = lines.index(PORT_TAKEN)
    assert (
        lines[at + 1].startswith(HINT_PREFIX)
        and "Another program holds this port" in (lines[at + 1])
    )
    at = lines.index(ORDINARY)
    assert not lines[at + 1].startswith(HINT_PREFIX)
    # The hint is painted apart from the line it explains.
    document = log.document()
    hint_block = document.findBlockByNumber(lines.index(TRUNCATED) + 1)
    cursor = QTextCursor(hint_block)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    assert cursor.charFormat().foreground().color() == QColor(HINT_COLOUR)
    cursor = QTextCursor(document.findBlockByNumber(lines.index(TRUNCATED)))
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    assert cursor.charFormat().foreground().color() != QColor(HINT_COLOUR)

    # Hovering the problem line shows the same hint as its tooltip.
    tips = window.log_view.findChild(HintTooltips)
    assert tips is not None
    rect = log.cursorRect(QTextCursor(document.findBlockByNumber(lines.index(TRUNCATED))))
    assert "context length (4096 tokens" in (tips.hint_at(rect.center()) or "")
    rect = log.cursorRect(QTextCursor(document.findBlockByNumber(lines.index(ORDINARY))))
    assert tips.hint_at(rect.center()) is None
