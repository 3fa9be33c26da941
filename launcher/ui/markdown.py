"""Safe, incremental Markdown rendering for streamed chat replies: the painter.

Replies from a local model arrive token by token, thousands per second, and are Markdown.
Re-rendering the whole reply on every paint would make the cost quadratic in the reply
length, so :class:`MarkdownStream` lets a :class:`~launcher.ui.md_segments.Segmenter`
cut the text into top-level *segments* and inserts every finished segment into the
document exactly once. Only the unfinished tail -- at most one segment -- is replaced
on each :meth:`MarkdownStream.render` call. Safety (no HTML, no images, no resource
loading) lives in :mod:`launcher.ui.md_fragment` and :mod:`launcher.ui.safe_browser`.
"""

from __future__ import annotations

from PySide6.QtGui import QTextBlockFormat, QTextCharFormat, QTextCursor

from launcher.ui.md_fragment import (
    MARKDOWN_FEATURES,
    PARAGRAPH_SEPARATOR,
    code_block_format,
    code_char_format,
    markdown_fragment,
)
from launcher.ui.md_segments import OlState, Segmenter, advance, renumber
from launcher.ui.safe_browser import COPY_SCHEME, EXTERNAL_SCHEMES, SafeTextBrowser

__all__ = [
    "COPY_SCHEME",
    "EXTERNAL_SCHEMES",
    "MARKDOWN_FEATURES",
    "MarkdownStream",
    "SafeTextBrowser",
    "render_markdown",
]


class MarkdownStream:
    """Renders one growing Markdown text at the end of a browser's document.

    Call :meth:`append` per token (it only buffers), :meth:`render` from a paint timer,
    :meth:`finish` once the reply is complete. The region starts at the end of the
    document as it is at construction time and must stay the last thing in it while the
    stream is live.

    Segments: the text is cut at (a) a blank line followed by a non-indented line, (b) a
    fenced code block opened at column 0 (from its opening line to its closing line), and
    (c) a top-level list item that follows an item of the same list. Each cut-off segment
    is parsed once and inserted after the previous ones; the remainder (the *tail*) is
    re-rendered on every :meth:`render`. An open column-0 fence in the tail is shown as
    plain monospace text and only grows by appending.

    Limitations (all visual, none affect safety):

    * list items are separate ``QTextList`` objects, so loose lists get no extra spacing
      and a ``1.`` list that restarts after a blank line continues numbering (which is what
      CommonMark does anyway); numbering is carried across segments by rewriting the first
      number only;
    * link reference definitions (``[x]: url``) only apply within their own segment;
    * fences inside list items (indented) are parsed with their item; while open they are
      shown by Qt's parser as a code block running to the end of the tail;
    * a table, a paragraph or a tight nested list stays in the tail until it ends, so one
      very long table costs O(size^2 / render interval) while it streams.
    """

    def __init__(self, browser: SafeTextBrowser) -> None:
        self._browser = browser
        self._doc = browser.document()
        self._start = self._doc.characterCount() - 1
        # An empty document would otherwise keep an empty first line before the reply.
        self._trim_first_block = self._start == 0
        self._finished_end = self._start  # end of the last finished segment
        self._end = self._start  # end of the rendered tail
        self._segments = Segmenter()
        self._numbering: OlState = None
        self._tail_text: str | None = None  # markdown text currently shown as tail
        self._tail_code_chars = -1  # >= 0: tail is an open fence showing that much code
        self._finished = False

    # -- public API --------------------------------------------------------------------

    def append(self, delta: str) -> None:
        """Buffer a piece of the reply; rendering waits for :meth:`render`."""
        if self._finished:
            raise RuntimeError("MarkdownStream.append() after finish()")
        self._segments.append(delta)

    def render(self) -> None:
        """Insert newly finished segments once, then replace the unfinished tail."""
        if self._finished:
            return
        self._segments.absorb(final=False)
        self._paint(final=False)

    def finish(self) -> None:
        """Render everything as final (an open fence is closed by the end of the text)."""
        if self._finished:
            return
        self._segments.absorb(final=True)
        self._paint(final=True)
        self._finished = True

    @property
    def text(self) -> str:
        """The full Markdown source received so far."""
        return self._segments.text

    @property
    def start_position(self) -> int:
        """Document position where this stream's region starts."""
        return self._start

    @property
    def end_position(self) -> int:
        """Document position just after the last character this stream rendered."""
        return self._end

    @property
    def finished_position(self) -> int:
        """End of the part that is final: it is never touched again by this stream."""
        return self._finished_end

    @property
    def is_finished(self) -> bool:
        return self._finished

    # -- painting ----------------------------------------------------------------------

    def _paint(self, final: bool) -> None:
        cursor = QTextCursor(self._doc)
        cursor.beginEditBlock()
        try:
            ready = self._segments.take_ready()
            if ready:
                self._remove_tail(cursor)
                for segment in ready:
                    segment = renumber(segment, self._numbering)
                    self._numbering = advance(segment)
                    end, codes = self._insert_markdown(cursor, self._finished_end, segment)
                    self._browser.commit_codes(codes)
                    self._finished_end = self._end = end
                self._browser.set_provisional_codes([])
            if final:
                self._remove_tail(cursor)
            else:
                self._paint_tail(cursor)
        finally:
            cursor.endEditBlock()

    def _paint_tail(self, cursor: QTextCursor) -> None:
        live = self._segments.live
        fence = self._segments.fence
        if fence is not None and fence.standalone:
            first_newline = live.find("\n")
            code = live[first_newline + 1 :] if first_newline >= 0 else ""
            if self._tail_code_chars >= 0 and self._end > self._finished_end:
                new = code[self._tail_code_chars :]
                if new:
                    cursor.setPosition(self._end)
                    cursor.insertText(new)  # inherits the code formats at the end
                    self._end = cursor.position()
            else:
                self._remove_tail(cursor)
                self._end = self._insert_code(cursor, self._finished_end, code)
            self._tail_code_chars = len(code)
            self._browser.set_provisional_codes([])
            return
        if live == self._tail_text:
            return
        self._remove_tail(cursor)
        if live.strip():
            segment = renumber(live, self._numbering)
            self._end, codes = self._insert_markdown(cursor, self._finished_end, segment)
            self._browser.set_provisional_codes(codes)
            self._tail_text = live
        else:
            self._browser.set_provisional_codes([])

    def _remove_tail(self, cursor: QTextCursor) -> None:
        self._tail_text = None
        self._tail_code_chars = -1
        if self._end > self._finished_end:
            # Deleting from the end of an *empty* block A (e.g. the block Qt keeps after a
            # table) into block Z leaves A with Z's format, so it would take the tail's
            # format (code background, list membership...). Save it and put it back.
            last_finished = self._doc.findBlock(self._finished_end)
            block_format = last_finished.blockFormat()
            char_format = last_finished.charFormat()
            cursor.setPosition(self._finished_end)
            cursor.setPosition(self._end, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            if self._finished_end == self._start and self._trim_first_block:
                # Nothing of this stream is left in an empty document: plain formats.
                block_format, char_format = QTextBlockFormat(), QTextCharFormat()
            cursor.setBlockFormat(block_format)
            cursor.setBlockCharFormat(char_format)
        self._end = self._finished_end

    def _insert_markdown(
        self, cursor: QTextCursor, position: int, segment: str
    ) -> tuple[int, list[str]]:
        fragment, codes = markdown_fragment(segment, self._browser.code_block_count)
        cursor.setPosition(position)
        cursor.insertFragment(fragment)
        return self._trim(cursor, position, cursor.position()), codes

    def _insert_code(self, cursor: QTextCursor, position: int, code: str) -> int:
        """Insert an open fence's code as plain monospace text (no Markdown parsing)."""
        cursor.setPosition(position)
        cursor.insertBlock(code_block_format(), code_char_format())
        cursor.insertText(code, code_char_format())
        return self._trim(cursor, position, cursor.position())

    def _trim(self, cursor: QTextCursor, position: int, end: int) -> int:
        """In an empty document, remove the separator that would leave a blank first line."""
        if not (self._trim_first_block and position == 0 and end > 0):
            return end
        # Only a plain paragraph separator may go; a frame (table) start must stay, it has
        # to be preceded by a block. (Frame queries are stale inside an edit block, so
        # look at the character itself.)
        if self._doc.characterAt(0) != PARAGRAPH_SEPARATOR:
            return end
        cursor.setPosition(0)
        cursor.setPosition(1, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        return end - 1


def render_markdown(browser: SafeTextBrowser, text: str) -> MarkdownStream:
    """Render a complete message (e.g. from history) through the streaming code path."""
    stream = MarkdownStream(browser)
    stream.append(text)
    stream.finish()
    return stream
