"""Turns one Markdown segment into a document fragment that is safe and styled.

Markdown is parsed with ``MarkdownNoHTML`` (raw HTML is shown as literal text);
images are never inserted as images but replaced by a ``[image: alt]`` text link
before the fragment reaches the visible document; code gets the fixed font, a
background, syntax colours (Pygments), and a line with its language and a Copy
link; block quotes get a tinted bar.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QGuiApplication,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
    QTextTable,
)

from launcher.ui.code_colours import highlight_runs
from launcher.ui.safe_browser import COPY_SCHEME, SafeDocument

_MD = QTextDocument.MarkdownFeature
#: GitHub dialect (tables, strikethrough, task lists, autolinks) without any raw HTML.
MARKDOWN_FEATURES = _MD.MarkdownDialectGitHub | _MD.MarkdownNoHTML

_P = QTextFormat.Property
_CODE_BLOCK_PROPERTIES = (_P.BlockCodeFence, _P.BlockCodeLanguage)
_CODE_BACKGROUND = QColor(127, 127, 127, 38)  # readable on light and dark palettes
_QUOTE_BACKGROUND = QColor(66, 133, 244, 22)
_HEADER_BACKGROUND = QColor(127, 127, 127, 38)
# Characters QTextDocument uses in its text for block and frame boundaries.
PARAGRAPH_SEPARATOR = "\u2029"
FRAME_START = "\ufdd0"


@lru_cache(maxsize=1)
def fixed_families() -> tuple[str, ...]:
    """Families of the platform's fixed-pitch font, with a generic fallback."""
    family = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    return (family, "monospace") if family.lower() != "monospace" else (family,)


def code_char_format() -> QTextCharFormat:
    """Character format for code text: the system fixed font, explicitly fixed-pitch."""
    fmt = QTextCharFormat()
    fmt.setFontFamilies(list(fixed_families()))
    fmt.setFontFixedPitch(True)
    return fmt


def code_block_format(language: str = "") -> QTextBlockFormat:
    """Block format for code lines, matching what Qt's Markdown importer produces."""
    fmt = QTextBlockFormat()
    fmt.setNonBreakableLines(True)
    fmt.setBackground(_CODE_BACKGROUND)
    fmt.setProperty(_P.BlockCodeFence, "`")
    fmt.setProperty(_P.BlockCodeLanguage, language)
    return fmt


def link_format(href: str) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setAnchor(True)
    fmt.setAnchorHref(href)
    fmt.setFontUnderline(True)
    fmt.setForeground(QGuiApplication.palette().link())
    return fmt


def replace_images(doc: QTextDocument) -> None:
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
        cursor.insertText(label, link_format(url))


def is_code_block(block: QTextBlock) -> bool:
    fmt = block.blockFormat()
    return any(fmt.hasProperty(p) for p in _CODE_BLOCK_PROPERTIES)


def decorate(doc: QTextDocument, first_code_id: int) -> list[str]:
    """Fixed font + background for code, a Copy link after each code block.

    Returns the code texts in document order; they get ids ``first_code_id + i``. Must run after
    every other edit because it inserts blocks. Linear in the size of ``doc``.
    """
    code_fmt = code_char_format()
    runs: list[list[QTextBlock]] = []
    inline: list[tuple[int, int]] = []
    quotes: list[int] = []  # block positions of quoted paragraphs
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
        if is_code_block(block):
            if previous_was_code:
                runs[-1].append(block)
            else:
                runs.append([block])
            previous_was_code = True
        else:
            previous_was_code = False
            if fmt.hasProperty(_P.BlockQuoteLevel):
                quotes.append(block.position())
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.charFormat().fontFixedPitch():  # inline `code`
                    inline.append((frag.position(), frag.length()))
                it += 1
        block = block.next()
    quote_fmt = QTextBlockFormat()
    quote_fmt.setBackground(_QUOTE_BACKGROUND)
    quote_fmt.setLeftMargin(12)
    quote_fmt.setRightMargin(0)
    quote_char = QTextCharFormat()
    quote_char.setFontItalic(True)
    for pos in quotes:  # a tinted band with a small indent, in italics (no block inserted)
        cursor.setPosition(pos)
        cursor.mergeBlockFormat(quote_fmt)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(quote_char)
        cursor.clearSelection()
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
        language = first.blockFormat().stringProperty(_P.BlockCodeLanguage).strip()
        _colour(cursor, first.position(), codes[index], language)
        link_block = QTextBlockFormat()
        link_block.setAlignment(Qt.AlignmentFlag.AlignRight)
        link_block.setIndent(last.blockFormat().indent())
        cursor.clearSelection()
        cursor.setPosition(last.position() + last.length() - 1)
        cursor.insertBlock(link_block, QTextCharFormat())
        if language:
            label = QTextCharFormat()
            label.setProperty(_P.FontSizeAdjustment, -1)
            label.setForeground(QColor(127, 127, 127))
            cursor.insertText(f"{language} · ", label)
        link = link_format(f"{COPY_SCHEME}:{first_code_id + index}")
        link.setProperty(_P.FontSizeAdjustment, -1)
        link.setToolTip("Copy code to clipboard")
        cursor.insertText("Copy", link)
    return codes


def _colour(cursor: QTextCursor, start: int, code: str, language: str) -> None:
    """Syntax colours over a code block's text (which starts at document position `start`)."""
    dark = QGuiApplication.palette().base().color().lightness() < 128
    for offset, length, colour, italic in highlight_runs(code, language, dark=dark):
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(colour))
        if italic:
            fmt.setFontItalic(True)
        cursor.setPosition(start + offset)
        cursor.setPosition(start + offset + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(fmt)
    cursor.clearSelection()


def lead_with_separator(doc: QTextDocument) -> None:
    """Make the fragment start with a block separator that carries block 1's format.

    Inserting a fragment merges its first block into the block at the cursor and drops
    that block's format (heading level, list membership, code properties). Copying the
    first block behind a fresh empty block makes the separator -- which does carry the
    format -- part of the fragment, and it also separates this segment from the previous.
    """
    if doc.characterAt(0) == FRAME_START:
        return  # a table is always preceded by an empty block: that is the separator
    first = doc.begin()
    cursor = QTextCursor(doc)
    cursor.insertBlock(first.blockFormat(), first.charFormat())
    cursor.setPosition(0)
    cursor.setBlockFormat(QTextBlockFormat())


def style_tables(doc: QTextDocument) -> None:
    """Tables with room in their cells, thin collapsed borders and a tinted header row."""
    for frame in doc.rootFrame().childFrames():
        if not isinstance(frame, QTextTable):
            continue
        fmt = frame.format()
        fmt.setCellPadding(4)
        fmt.setCellSpacing(0)
        fmt.setBorder(1)
        fmt.setBorderCollapse(True)
        fmt.setBorderBrush(QColor(127, 127, 127, 110))
        frame.setFormat(fmt)
        header = QTextCharFormat()
        header.setBackground(_HEADER_BACKGROUND)
        for column in range(frame.columns()):
            cell = frame.cellAt(0, column)
            cell_format = cell.format()
            cell_format.merge(header)
            cell.setFormat(cell_format)


def markdown_fragment(markdown: str, first_code_id: int) -> tuple[QTextDocumentFragment, list[str]]:
    """Parse one segment in a scratch document and return it ready for insertion."""
    scratch = SafeDocument()
    scratch.setUndoRedoEnabled(False)
    scratch.setMarkdown(markdown, MARKDOWN_FEATURES)
    replace_images(scratch)
    style_tables(scratch)
    codes = decorate(scratch, first_code_id)
    lead_with_separator(scratch)
    fragment = QTextDocumentFragment(scratch)
    return fragment, codes
