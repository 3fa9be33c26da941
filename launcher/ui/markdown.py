"""Safe, incremental Markdown rendering for streamed chat replies.

Replies from a local model arrive token by token, thousands per second, and are Markdown.
Re-rendering the whole reply on every paint would make the cost quadratic in the reply
length, so :class:`MarkdownStream` cuts the text into top-level *segments* (roughly:
blocks separated by blank lines, fenced code blocks, list items) and inserts every finished
segment into the document exactly once. Only the unfinished tail -- at most one segment --
is replaced on each :meth:`MarkdownStream.render` call.

The text comes from a model, i.e. it is untrusted.  Rendering is therefore safe by
construction:

* Markdown is parsed with ``MarkdownNoHTML``: raw HTML is shown as literal text.
* Images are never inserted as images.  They are replaced by a text link
  ``[image: alt]`` before the fragment reaches the visible document, so nothing asks
  for the resource in the first place.
* As a second line of defence the browser *and* its document refuse every resource
  request (``loadResource``).  Refusing only in ``QTextBrowser.loadResource`` is not
  enough: when the browser returns nothing, ``QTextDocument.loadResource`` falls back
  to reading local files and decoding ``data:`` URLs itself, so the document is
  replaced by :class:`_SafeDocument`, which never calls the base implementation.
* Links are only followed on an explicit click, only for http/https/mailto, and only
  through the system browser (``QDesktopServices.openUrl``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFontDatabase,
    QGuiApplication,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

__all__ = [
    "COPY_SCHEME",
    "EXTERNAL_SCHEMES",
    "MarkdownStream",
    "SafeTextBrowser",
    "render_markdown",
]

#: Internal link scheme of the "Copy" links under code blocks: ``copy-code:N``.
COPY_SCHEME = "copy-code"
#: The only schemes that are ever handed to the system (and only on a click).
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})

_MD = QTextDocument.MarkdownFeature
#: GitHub dialect (tables, strikethrough, task lists, autolinks) without any raw HTML.
MARKDOWN_FEATURES = _MD.MarkdownDialectGitHub | _MD.MarkdownNoHTML

_P = QTextFormat.Property
_CODE_BLOCK_PROPERTIES = (_P.BlockCodeFence, _P.BlockCodeLanguage)
_CODE_BACKGROUND = QColor(127, 127, 127, 38)  # readable on light and dark palettes

# Line classification used to find segment boundaries (CommonMark-ish, deliberately small).
_FENCE_RE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")
_ORDERED_RE = re.compile(r"^(\d{1,9})([.)])(?=[ \t]|$)")
_BULLET_RE = re.compile(r"^([-+*])(?=[ \t]|$)")
_THEMATIC_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ENDERS = ("#", ">", "|")
# Characters QTextDocument uses in its text for block and frame boundaries.
_PARAGRAPH_SEPARATOR = "\u2029"
_FRAME_START = "\ufdd0"


# --------------------------------------------------------------------------- helpers


def _open_external(url: QUrl) -> None:
    """Hand a URL to the system browser; a separate function so tests can stub it."""
    QDesktopServices.openUrl(url)


@lru_cache(maxsize=1)
def _fixed_families() -> tuple[str, ...]:
    """Families of the platform's fixed-pitch font, with a generic fallback."""
    family = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    return (family, "monospace") if family.lower() != "monospace" else (family,)


def _code_char_format() -> QTextCharFormat:
    """Character format for code text: the system fixed font, explicitly fixed-pitch."""
    fmt = QTextCharFormat()
    fmt.setFontFamilies(list(_fixed_families()))
    fmt.setFontFixedPitch(True)
    return fmt


def _code_block_format(language: str = "") -> QTextBlockFormat:
    """Block format for code lines, matching what Qt's Markdown importer produces."""
    fmt = QTextBlockFormat()
    fmt.setNonBreakableLines(True)
    fmt.setBackground(_CODE_BACKGROUND)
    fmt.setProperty(_P.BlockCodeFence, "`")
    fmt.setProperty(_P.BlockCodeLanguage, language)
    return fmt


def _link_format(href: str) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setAnchor(True)
    fmt.setAnchorHref(href)
    fmt.setFontUnderline(True)
    fmt.setForeground(QGuiApplication.palette().link())
    return fmt


def _indent_width(line: str) -> int:
    """Leading whitespace width; a tab counts as 4 so tab-indented lines are 'indented'."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4
        else:
            break
    return width


def _list_kind(line: str) -> str | None:
    """Marker kind of a top-level list item line: ``-``/``+``/``*`` or ``.``/``)``."""
    if _THEMATIC_RE.match(line):
        return None
    m = _ORDERED_RE.match(line)
    if m:
        return m.group(2)
    m = _BULLET_RE.match(line)
    return m.group(1) if m else None


@dataclass(frozen=True)
class _Fence:
    """An open fenced code block found by the splitter."""

    char: str
    length: int
    indent: int
    standalone: bool  # opened at column 0: it is a segment of its own

    def closed_by(self, line: str) -> bool:
        stripped = line.strip()
        return (
            len(stripped) >= self.length
            and stripped == self.char * len(stripped)
            and _indent_width(line) < self.indent + 4
        )


def _parse_fence(line: str) -> _Fence | None:
    m = _FENCE_RE.match(line)
    if m is None:
        return None
    marker, info = m.group(2), m.group(3)
    if marker[0] == "`" and "`" in info:
        return None  # an inline code span such as ```x```, not a fence
    indent = len(m.group(1))
    return _Fence(marker[0], len(marker), indent, standalone=indent == 0)


# Ordered-list numbering carried from one segment into the next: (next number, delimiter).
_OlState = tuple[int, str] | None


def _renumber(segment: str, state: _OlState) -> str:
    """Continue an ordered list that an earlier segment started.

    Loose list items and tight list items are rendered as separate segments; Qt keeps an
    explicit start number (``3.`` renders as 3), so the first number of a continuing item
    is rewritten to the number CommonMark would give it (``1.`` ``1.`` -> 1, 2).
    """
    if state is None:
        return segment
    body = segment.lstrip("\n")
    m = _ORDERED_RE.match(body)
    if m is None or m.group(2) != state[1] or int(m.group(1)) == state[0]:
        return segment
    lead = len(segment) - len(body)
    return segment[:lead] + str(state[0]) + body[m.end(1) :]


def _advance(segment: str) -> _OlState:
    """Numbering state after ``segment`` (already renumbered): linear in its length."""
    current: _OlState = None
    fence: _Fence | None = None
    prev_blank = False
    for line in segment.split("\n"):
        if fence is not None:
            if fence.closed_by(line):
                fence = None
            continue
        if not line.strip():
            prev_blank = True
            continue
        fence = _parse_fence(line)
        if _indent_width(line) == 0:
            if fence is not None:
                current = None
            else:
                m = _ORDERED_RE.match(line)
                if m is not None:
                    if current is not None and current[1] == m.group(2):
                        current = (current[0] + 1, current[1])
                    else:
                        current = (int(m.group(1)) + 1, m.group(2))
                elif (
                    prev_blank
                    or _BULLET_RE.match(line)
                    or line.startswith(_LIST_ENDERS)
                    or _THEMATIC_RE.match(line)
                ):
                    current = None
                # otherwise: lazy continuation of the item paragraph, the list goes on
        prev_blank = False
    return current


# --------------------------------------------------------------------------- documents


class _SafeDocument(QTextDocument):
    """A document that never loads any resource.

    ``QTextDocument.loadResource`` reads local files and decodes ``data:`` URLs when the
    owning widget returns nothing, so merely overriding ``QTextBrowser.loadResource`` would
    still let ``![x](file:///...)`` pull a local file into the view. This override never
    calls the base implementation; refusals are reported to ``refused`` for tests/logging.
    """

    def __init__(self, parent: QObject | None = None, refused: list[QUrl] | None = None) -> None:
        super().__init__(parent)
        self._refused = refused

    def loadResource(self, type: int, name: QUrl | str, /) -> Any:
        if self._refused is not None:
            self._refused.append(QUrl(name))
        return None


class SafeTextBrowser(QTextBrowser):
    """Read-only rich-text view for model output that loads nothing and opens little.

    * every resource request is refused and recorded in :attr:`blocked_resource_requests`;
    * a click on an http/https/mailto link opens the system browser (or, when
      :attr:`open_links_externally` is False, emits :attr:`linkActivated` instead);
      all other schemes (file:, javascript:, relative paths, ...) are ignored;
    * ``copy-code:N`` links copy code block N to the clipboard and emit :attr:`codeCopied`.
    """

    codeCopied = Signal(int)
    linkActivated = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: URLs whose loading was refused (the document asked, nothing was returned).
        self.blocked_resource_requests: list[QUrl] = []
        self._open_links_externally = True
        self._codes: dict[int, str] = {}
        self._next_code_id = 0
        document = _SafeDocument(self, self.blocked_resource_requests)
        # Streaming replaces the tail many times per second; an undo history would keep
        # every replaced version alive for nothing.
        document.setUndoRedoEnabled(False)
        self.setDocument(document)
        self.setReadOnly(True)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)

    # -- safety -------------------------------------------------------------------------

    def loadResource(self, type: int, name: QUrl | str, /) -> Any:
        """Refuse everything: model output must not make us read files or the network."""
        self.blocked_resource_requests.append(QUrl(name))
        return None

    @property
    def open_links_externally(self) -> bool:
        """Whether clicked web links go to the system browser (else: :attr:`linkActivated`)."""
        return self._open_links_externally

    @open_links_externally.setter
    def open_links_externally(self, value: bool) -> None:
        self._open_links_externally = bool(value)

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == COPY_SCHEME:
            self.copy_code(url.path())
        elif scheme in EXTERNAL_SCHEMES:
            if self._open_links_externally:
                _open_external(url)
            else:
                self.linkActivated.emit(url)
        # Anything else (file:, qrc:, javascript:, relative) is deliberately ignored.

    # -- code blocks ----------------------------------------------------------------------

    def code_text(self, index: int) -> str | None:
        """Source text of code block ``index`` (the N of its ``copy-code:N`` link)."""
        return self._codes.get(index)

    @property
    def code_block_count(self) -> int:
        """Number of code blocks committed so far (ids ``0 .. count-1``)."""
        return self._next_code_id

    def copy_code(self, index: int | str) -> bool:
        """Put code block ``index`` on the clipboard; False if there is no such block."""
        try:
            key = int(index)
        except ValueError:
            return False
        code = self._codes.get(key)
        if code is None:
            return False
        QGuiApplication.clipboard().setText(code)
        self.codeCopied.emit(key)
        return True

    def _commit_codes(self, codes: list[str]) -> None:
        """Register code blocks of a finished segment (ids are allocated in order)."""
        for code in codes:
            self._codes[self._next_code_id] = code
            self._next_code_id += 1

    def _set_provisional_codes(self, codes: list[str]) -> None:
        """Code blocks of the streaming tail: ids after the committed ones, replaced often."""
        for key in [k for k in self._codes if k >= self._next_code_id]:
            del self._codes[key]
        for offset, code in enumerate(codes):
            self._codes[self._next_code_id + offset] = code


# --------------------------------------------------------------------------- fragments


def _replace_images(doc: QTextDocument) -> None:
    """Turn every image into a ``[image: alt]`` text link, so it is never loaded."""
    runs: list[tuple[int, int, str, str]] = []  # position, length, url, alt text
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            if fmt.isImageFormat():
                url = fmt.toImageFormat().name()
                alt = str(fmt.property(_P.ImageAltText) or "")
                pos, length = frag.position(), frag.length()
                last = runs[-1] if runs else None
                # Qt emits one image per text chunk of the alt text ("a *b*" -> 2 images).
                if last is not None and last[0] + last[1] == pos and last[2] == url:
                    runs[-1] = (last[0], last[1] + length, url, last[3] + alt)
                else:
                    runs.append((pos, length, url, alt))
            it += 1
        block = block.next()
    cursor = QTextCursor(doc)
    for pos, length, url, alt in reversed(runs):
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QTextCursor.MoveMode.KeepAnchor)
        label = f"[image: {alt.strip()}]" if alt.strip() else "[image]"
        cursor.insertText(label, _link_format(url))


def _is_code_block(block: QTextBlock) -> bool:
    fmt = block.blockFormat()
    return any(fmt.hasProperty(p) for p in _CODE_BLOCK_PROPERTIES)


def _decorate(doc: QTextDocument, first_code_id: int) -> list[str]:
    """Fixed font + background for code, a Copy link after each code block.

    Returns the code texts in document order; they get ids ``first_code_id + i``. Must run after
    every other edit because it inserts blocks. Linear in the size of ``doc``.
    """
    code_fmt = _code_char_format()
    runs: list[list[QTextBlock]] = []
    inline: list[tuple[int, int]] = []
    cursor = QTextCursor(doc)
    block = doc.begin()
    previous_was_code = False
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.marker() != QTextBlockFormat.MarkerType.NoMarker and block.textList() is None:
            # Qt leaks a task-list checkbox into the paragraph after the list.
            fmt.clearProperty(_P.BlockMarker)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(fmt)
        if _is_code_block(block):
            if previous_was_code:
                runs[-1].append(block)
            else:
                runs.append([block])
            previous_was_code = True
        else:
            previous_was_code = False
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.charFormat().fontFixedPitch():  # inline `code`
                    inline.append((frag.position(), frag.length()))
                it += 1
        block = block.next()
    for pos, length in inline:
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(code_fmt)
    codes = ["\n".join(b.text() for b in run) for run in runs]
    background = QTextBlockFormat()
    background.setBackground(_CODE_BACKGROUND)
    for index, run in reversed(list(enumerate(runs))):
        first, last = run[0], run[-1]
        cursor.setPosition(first.position())
        cursor.setPosition(last.position() + last.length() - 1, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(code_fmt)
        cursor.mergeBlockFormat(background)
        link_block = QTextBlockFormat()
        link_block.setAlignment(Qt.AlignmentFlag.AlignRight)
        link_block.setIndent(last.blockFormat().indent())
        cursor.clearSelection()
        cursor.setPosition(last.position() + last.length() - 1)
        cursor.insertBlock(link_block, QTextCharFormat())
        link = _link_format(f"{COPY_SCHEME}:{first_code_id + index}")
        link.setProperty(_P.FontSizeAdjustment, -1)
        link.setToolTip("Copy code to clipboard")
        cursor.insertText("Copy", link)
    return codes


def _lead_with_separator(doc: QTextDocument) -> None:
    """Make the fragment start with a block separator that carries block 1's format.

    Inserting a fragment merges its first block into the block at the cursor and drops
    that block's format (heading level, list membership, code properties). Copying the
    first block behind a fresh empty block makes the separator -- which does carry the
    format -- part of the fragment, and it also separates this segment from the previous.
    """
    if doc.characterAt(0) == _FRAME_START:
        return  # a table is always preceded by an empty block: that is the separator
    first = doc.begin()
    cursor = QTextCursor(doc)
    cursor.insertBlock(first.blockFormat(), first.charFormat())
    cursor.setPosition(0)
    cursor.setBlockFormat(QTextBlockFormat())


def _markdown_fragment(
    markdown: str, first_code_id: int
) -> tuple[QTextDocumentFragment, list[str]]:
    """Parse one segment in a scratch document and return it ready for insertion."""
    scratch = _SafeDocument()
    scratch.setUndoRedoEnabled(False)
    scratch.setMarkdown(markdown, MARKDOWN_FEATURES)
    _replace_images(scratch)
    codes = _decorate(scratch, first_code_id)
    _lead_with_separator(scratch)
    fragment = QTextDocumentFragment(scratch)
    return fragment, codes


# --------------------------------------------------------------------------- streaming


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
        self._pending: list[str] = []
        self._done_text: list[str] = []  # text of segments already cut off
        self._live = ""  # text from the start of the unfinished segment
        self._scan = 0  # offset in _live of the first line not yet classified
        self._fence: _Fence | None = None
        self._prev_blank = False
        self._segment_list: str | None = None  # list kind of the segment's first line
        self._ready: list[str] = []  # cut-off segments waiting to be inserted
        self._numbering: _OlState = None
        self._tail_text: str | None = None  # markdown text currently shown as tail
        self._tail_code_chars = -1  # >= 0: tail is an open fence showing that much code
        self._finished = False

    # -- public API --------------------------------------------------------------------

    def append(self, delta: str) -> None:
        """Buffer a piece of the reply; rendering waits for :meth:`render`."""
        if self._finished:
            raise RuntimeError("MarkdownStream.append() after finish()")
        if delta:
            self._pending.append(delta)

    def render(self) -> None:
        """Insert newly finished segments once, then replace the unfinished tail."""
        if self._finished:
            return
        self._absorb(final=False)
        self._paint(final=False)

    def finish(self) -> None:
        """Render everything as final (an open fence is closed by the end of the text)."""
        if self._finished:
            return
        self._absorb(final=True)
        self._paint(final=True)
        self._finished = True

    @property
    def text(self) -> str:
        """The full Markdown source received so far."""
        return "".join(self._done_text) + self._live + "".join(self._pending)

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

    # -- splitting ---------------------------------------------------------------------

    def _absorb(self, final: bool) -> None:
        """Move buffered deltas into the live text and classify the new complete lines."""
        if self._pending:
            self._live += "".join(self._pending)
            self._pending.clear()
        while True:
            newline = self._live.find("\n", self._scan)
            if newline < 0:
                break
            self._classify(self._scan, newline)
        if final:
            if self._scan < len(self._live):
                self._classify(self._scan, len(self._live))
            self._cut(len(self._live))
        elif (
            self._fence is None
            and self._prev_blank
            and self._scan < len(self._live)
            and not self._live[self._scan].isspace()
        ):
            # A non-indented line after a blank line always starts a new top-level block:
            # the previous segment is finished even before this line is complete.
            self._cut(self._scan)

    def _classify(self, start: int, end: int) -> None:
        """Classify the line ``_live[start:end]`` and cut segments where it allows."""
        line = self._live[start:end].rstrip("\r")
        self._scan = end + 1
        fence = self._fence
        if fence is not None:
            if fence.closed_by(line):
                self._fence = None
                self._prev_blank = False
                if fence.standalone:
                    self._cut(min(end + 1, len(self._live)))
            return
        if not line.strip():
            self._prev_blank = True
            return
        opened = _parse_fence(line)
        if opened is not None:
            if opened.standalone:
                self._cut(start)
                self._segment_list = None
            self._fence = opened
            self._prev_blank = False
            return
        if _indent_width(line) == 0:
            kind = _list_kind(line)
            if self._prev_blank or (kind is not None and kind == self._segment_list):
                start -= self._cut(start)
            if start == 0:
                self._segment_list = kind
        self._prev_blank = False

    def _cut(self, at: int) -> int:
        """Finish the segment ``_live[:at]``; returns how far ``_live`` shifted."""
        if at <= 0:
            return 0
        segment = self._live[:at]
        self._done_text.append(segment)
        if segment.strip():
            self._ready.append(segment)
        self._live = self._live[at:]
        self._scan -= at
        return at

    # -- painting ----------------------------------------------------------------------

    def _paint(self, final: bool) -> None:
        cursor = QTextCursor(self._doc)
        cursor.beginEditBlock()
        try:
            if self._ready:
                self._remove_tail(cursor)
                for segment in self._ready:
                    segment = _renumber(segment, self._numbering)
                    self._numbering = _advance(segment)
                    end, codes = self._insert_markdown(cursor, self._finished_end, segment)
                    self._browser._commit_codes(codes)
                    self._finished_end = self._end = end
                self._ready.clear()
                self._browser._set_provisional_codes([])
            if final:
                self._remove_tail(cursor)
            else:
                self._paint_tail(cursor)
        finally:
            cursor.endEditBlock()

    def _paint_tail(self, cursor: QTextCursor) -> None:
        live = self._live
        fence = self._fence
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
            self._browser._set_provisional_codes([])
            return
        if live == self._tail_text:
            return
        self._remove_tail(cursor)
        if live.strip():
            segment = _renumber(live, self._numbering)
            self._end, codes = self._insert_markdown(cursor, self._finished_end, segment)
            self._browser._set_provisional_codes(codes)
            self._tail_text = live
        else:
            self._browser._set_provisional_codes([])

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
        fragment, codes = _markdown_fragment(segment, self._browser.code_block_count)
        cursor.setPosition(position)
        cursor.insertFragment(fragment)
        return self._trim(cursor, position, cursor.position()), codes

    def _insert_code(self, cursor: QTextCursor, position: int, code: str) -> int:
        """Insert an open fence's code as plain monospace text (no Markdown parsing)."""
        cursor.setPosition(position)
        cursor.insertBlock(_code_block_format(), _code_char_format())
        cursor.insertText(code, _code_char_format())
        return self._trim(cursor, position, cursor.position())

    def _trim(self, cursor: QTextCursor, position: int, end: int) -> int:
        """In an empty document, remove the separator that would leave a blank first line."""
        if not (self._trim_first_block and position == 0 and end > 0):
            return end
        # Only a plain paragraph separator may go; a frame (table) start must stay, it has
        # to be preceded by a block. (Frame queries are stale inside an edit block, so
        # look at the character itself.)
        if self._doc.characterAt(0) != _PARAGRAPH_SEPARATOR:
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
