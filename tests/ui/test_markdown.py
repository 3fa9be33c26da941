"""Tests for launcher.ui.markdown: structure, streaming equivalence, safety, copy links."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
    QGuiApplication,
    QImage,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextListFormat,
    QTextTable,
)
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from launcher.ui.markdown import MarkdownStream, SafeTextBrowser, render_markdown

SAMPLE = """# Setting up

Intro with **bold**, `inline code` and a [link](https://example.com).

## Steps

1. Install the tools:

   ```bash
   pip install ollama

   ollama --version
   ```

2. Run the server
3. Check it works

- bullet one
- bullet two
  - nested
- bullet three

| Model | Size |
|-------|-----:|
| llama3 | 8B |
| qwen | 14B |

```python
def hello(name: str) -> None:

    print(f"hi {name}")
```
Text right after a fence.

> A quote
> over two lines

1. one
1. two

1. three (loose)

Para.

    indented code

~~~
tilde fence with ``` inside
~~~

Final paragraph.
"""


def _browser(qtbot: QtBot) -> SafeTextBrowser:
    browser = SafeTextBrowser()
    browser.open_links_externally = False
    qtbot.addWidget(browser)
    return browser


def _blocks(doc: QTextDocument) -> list[QTextBlock]:
    out = []
    block = doc.begin()
    while block.isValid():
        out.append(block)
        block = block.next()
    return out


def _block(doc: QTextDocument, text: str) -> QTextBlock:
    for block in _blocks(doc):
        if block.text() == text:
            return block
    raise AssertionError(f"no block {text!r} in {doc.toPlainText()!r}")


def _char_format(doc: QTextDocument, position: int) -> QTextCharFormat:
    cursor = QTextCursor(doc)
    cursor.setPosition(position + 1)  # the format of the character before the cursor
    return cursor.charFormat()


def _block_formats(doc: QTextDocument, start: int, end: int) -> list[QTextBlockFormat]:
    return [b.blockFormat() for b in _blocks(doc) if start <= b.position() < end]


def test_tail_removal_keeps_last_finished_block_format(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    stream = MarkdownStream(browser)
    stream.append("| a |\n|---|\n| 1 |\n\n")  # a table is followed by an empty block
    stream.render()
    stream.append("```\ncode")  # an open fence: a code-formatted tail after the list item
    stream.render()
    stream.append("\n```\n")
    stream.render()
    stream.finish()
    doc = browser.document()
    after_table = _block(doc, "code").previous()
    assert after_table.text() == ""
    assert not after_table.blockFormat().hasProperty(QTextFormat.Property.BackgroundBrush)
    assert not after_table.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence)


def _tables(doc: QTextDocument) -> list[QTextTable]:
    return [f for f in doc.rootFrame().childFrames() if isinstance(f, QTextTable)]


def _stream(browser: SafeTextBrowser, text: str, rng: random.Random, max_delta: int) -> None:
    stream = MarkdownStream(browser)
    i = 0
    while i < len(text):
        n = rng.randint(1, max_delta)
        stream.append(text[i : i + n])
        i += n
        if rng.random() < 0.4:
            stream.render()
    stream.finish()


# --------------------------------------------------------------------------- structure


def test_headings_lists_table_code_structure(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    render_markdown(browser, SAMPLE)
    doc = browser.document()

    assert _block(doc, "Setting up").blockFormat().headingLevel() == 1
    assert _block(doc, "Steps").blockFormat().headingLevel() == 2

    bullet = _block(doc, "bullet two")
    assert bullet.textList() is not None
    assert bullet.textList().format().style() == QTextListFormat.Style.ListDisc
    assert _block(doc, "nested").textList().format().indent() == 2

    tables = _tables(doc)
    assert len(tables) == 1
    assert (tables[0].rows(), tables[0].columns()) == (3, 2)
    assert tables[0].cellAt(2, 0).firstCursorPosition().block().text() == "qwen"

    code = _block(doc, "def hello(name: str) -> None:")
    assert _char_format(doc, code.position()).fontFixedPitch()
    assert QFont(_char_format(doc, code.position()).font()).fixedPitch()
    # Each fenced/indented code block is registered for copying, in document order.
    assert browser.code_text(0) == "pip install ollama\n\nollama --version"
    assert browser.code_text(1) == 'def hello(name: str) -> None:\n\n    print(f"hi {name}")'
    assert browser.code_text(2) == "indented code"
    assert browser.code_text(3) == "tilde fence with ``` inside"
    assert browser.code_block_count == 4
    # Code inside a list item keeps its item indentation and still gets a Copy link.
    assert _block(doc, "pip install ollama").blockFormat().indent() >= 1
    assert doc.toPlainText().count("Copy") == 4
    assert _block(doc, "Text right after a fence.").blockFormat().headingLevel() == 0


def test_ordered_numbering_survives_segmenting(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    render_markdown(browser, "1. a\n\n1. b\n1. c\n\nbreak\n\n4. d\n5. e\n")
    doc = browser.document()
    numbers = {t: _block(doc, t).textList().itemText(_block(doc, t)) for t in "abcde"}
    assert numbers == {"a": "1.", "b": "2.", "c": "3.", "d": "4.", "e": "5."}


def test_inline_code_is_fixed_pitch(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    render_markdown(browser, "call `run()` now")
    doc = browser.document()
    start = doc.toPlainText().index("run()")
    assert _char_format(doc, start).fontFixedPitch()
    assert not _char_format(doc, 0).fontFixedPitch()


def test_empty_document_gets_no_blank_first_line(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    render_markdown(browser, "## Title\n\ntext")
    doc = browser.document()
    assert doc.toPlainText() == "Title\ntext"
    assert doc.begin().blockFormat().headingLevel() == 2


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("max_delta", [1, 7, 40])
def test_streaming_matches_whole_render(qtbot: QtBot, max_delta: int) -> None:
    whole = _browser(qtbot)
    QTextCursor(whole.document()).insertText("User: hi")
    render_markdown(whole, SAMPLE)

    streamed = _browser(qtbot)
    QTextCursor(streamed.document()).insertText("User: hi")
    _stream(streamed, SAMPLE, random.Random(max_delta), max_delta)

    assert streamed.document().toPlainText() == whole.document().toPlainText()
    assert len(_tables(streamed.document())) == 1
    assert [streamed.code_text(i) for i in range(4)] == [whole.code_text(i) for i in range(4)]


def test_stream_text_and_positions(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    QTextCursor(browser.document()).insertText("before")
    stream = MarkdownStream(browser)
    assert stream.start_position == len("before")
    for piece in ["Hel", "lo **wor", "ld**\n\nnext"]:
        stream.append(piece)
    assert stream.text == "Hello **world**\n\nnext"
    stream.render()
    assert stream.end_position == browser.document().characterCount() - 1
    stream.finish()
    assert browser.document().toPlainText() == "before\nHello world\nnext"
    assert stream.is_finished
    with pytest.raises(RuntimeError):
        stream.append("more")


def test_open_fence_is_plain_code_until_closed(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    stream = MarkdownStream(browser)
    stream.append("Intro\n\n```python\nprint(1)")
    stream.render()
    doc = browser.document()
    tail = doc.toPlainText()[stream.finished_position :]
    assert "print(1)" in tail
    assert "```" not in doc.toPlainText()
    assert "Copy" not in doc.toPlainText()  # no copy link while still open
    assert _char_format(doc, doc.toPlainText().index("print(1)")).fontFixedPitch()

    # More code arrives: only appended, the code block grows.
    stream.append("\n**not bold**")
    stream.render()
    position = doc.toPlainText().index("**not bold**")
    assert _char_format(doc, position).fontWeight() == QFont.Weight.Normal
    assert _char_format(doc, position).fontFixedPitch()

    stream.append("\n```\n")
    stream.render()
    assert doc.toPlainText() == "Intro\nprint(1)\n**not bold**\npython · Copy"
    assert browser.code_text(0) == "print(1)\n**not bold**"
    assert (
        _block(doc, "print(1)").blockFormat().stringProperty(QTextFormat.Property.BlockCodeLanguage)
        == "python"
    )
    stream.finish()
    assert doc.toPlainText() == "Intro\nprint(1)\n**not bold**\npython · Copy"


def test_finish_closes_an_open_fence(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    stream = MarkdownStream(browser)
    stream.append("```\nunterminated")
    stream.render()
    stream.finish()
    assert browser.document().toPlainText() == "unterminated\nCopy"
    assert browser.code_text(0) == "unterminated"


def test_text_before_the_stream_is_untouched(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    doc = browser.document()
    cursor = QTextCursor(doc)
    bold = QTextCharFormat()
    bold.setFontWeight(QFont.Weight.Bold)
    cursor.insertText("Earlier message", bold)
    render_markdown(browser, "# old reply\n\n```\nold code\n```")
    before = doc.toPlainText()
    bold_before = _char_format(doc, 0).fontWeight()

    _stream(browser, SAMPLE, random.Random(3), 5)

    assert doc.toPlainText().startswith(before)
    assert _char_format(doc, 0).fontWeight() == bold_before == QFont.Weight.Bold
    assert _block(doc, "old reply").blockFormat().headingLevel() == 1
    assert browser.code_text(0) == "old code"  # ids of the second message continue at 1
    assert browser.code_text(1) == "pip install ollama\n\nollama --version"


def test_render_never_changes_finished_part(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    QTextCursor(browser.document()).insertText("prefix")
    stream = MarkdownStream(browser)
    rng = random.Random(11)
    finished = ""
    finished_formats: list[QTextBlockFormat] = []
    finished_end = stream.finished_position
    i = 0
    renders = 0
    while i < len(SAMPLE):
        n = rng.randint(1, 9)
        stream.append(SAMPLE[i : i + n])
        i += n
        stream.render()
        renders += 1
        text = browser.document().toPlainText()
        # What was finished before is still there, byte for byte, at the same place.
        assert text[stream.start_position : finished_end] == finished
        assert stream.finished_position >= finished_end
        # ...and so are the formats of its blocks (heading, list, code background).
        formats = _block_formats(browser.document(), stream.start_position, finished_end)
        assert formats[: len(finished_formats)] == finished_formats
        finished_end = stream.finished_position
        finished = text[stream.start_position : finished_end]
        finished_formats = _block_formats(browser.document(), stream.start_position, finished_end)
    assert renders > 50
    assert finished  # something was finished while streaming


def test_render_without_new_text_does_not_touch_document(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    stream = MarkdownStream(browser)
    stream.append("some *text*\n\n| a |\n|---|\n| 1 |")
    stream.render()
    changes: list[tuple[int, int, int]] = []
    browser.document().contentsChange.connect(lambda *a: changes.append(a))
    stream.render()
    stream.render()
    assert changes == []


# --------------------------------------------------------------------------- safety


def test_raw_html_is_shown_as_text(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    source = 'A <b>x</b> B\n\n<img src="file:///etc/passwd">\n\n<script>alert(1)</script>\n'
    render_markdown(browser, source)
    doc = browser.document()
    text = doc.toPlainText()
    # Decision: raw HTML is kept as literal text (visible, never interpreted).
    assert "<b>x</b>" in text
    assert '<img src="file:///etc/passwd">' in text
    assert "<script>alert(1)</script>" in text
    x_position = text.index("<b>x</b>") + 3
    assert _char_format(doc, x_position).fontWeight() == QFont.Weight.Normal
    assert browser.blocked_resource_requests == []


def test_images_are_never_loaded(qtbot: QtBot, tmp_path: Path) -> None:
    png = tmp_path / "secret.png"
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(0xFF0000)
    assert image.save(str(png))
    file_url = QUrl.fromLocalFile(str(png)).toString()

    browser = _browser(qtbot)
    browser.resize(400, 300)
    source = (
        f"![x](http://example.com/a.png) ![local]({file_url}) ![x](file:///etc/passwd)\n\n"
        "![data](data:image/png;base64,iVBORw0KGgo=)"
    )
    _stream(browser, source, random.Random(5), 3)
    browser.show()
    qtbot.waitExposed(browser)
    QGuiApplication.processEvents()
    doc = browser.document()

    # No image objects in the document: they became text links.
    for block in _blocks(doc):
        it = block.begin()
        while not it.atEnd():
            assert not it.fragment().charFormat().isImageFormat()
            it += 1
    assert "[image: local]" in doc.toPlainText()
    assert _char_format(doc, doc.toPlainText().index("local")).anchorHref() == file_url

    # Even asked directly, the document returns no data (Qt's own fallback would read the
    # file and decode data: URLs if only QTextBrowser.loadResource were overridden).
    for url in (file_url, "http://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="):
        assert doc.resource(QTextDocument.ResourceType.ImageResource, QUrl(url)) is None
    assert QUrl(file_url) in browser.blocked_resource_requests
    assert browser.loadResource(2, QUrl(file_url)) is None


# --------------------------------------------------------------------------- links


def test_copy_link_copies_code(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    render_markdown(browser, "Run:\n\n```sh\necho hi\n```\n\nand\n\n```\nsecond\n```\n")
    QGuiApplication.clipboard().setText("")
    with qtbot.waitSignal(browser.codeCopied, timeout=1000) as blocker:
        browser.anchorClicked.emit(QUrl("copy-code:1"))
    assert blocker.args == [1]
    assert QGuiApplication.clipboard().text() == "second"
    assert not browser.copy_code(99)
    assert not browser.copy_code("nope")


def test_real_click_on_copy_link(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    browser.resize(400, 300)
    render_markdown(browser, "```\nclicked code\n```")
    browser.show()
    qtbot.waitExposed(browser)
    doc = browser.document()
    position = doc.toPlainText().index("Copy")
    cursor = QTextCursor(doc)
    cursor.setPosition(position + 1)
    rect = browser.cursorRect(cursor)
    point = QPoint(rect.left() - 3, rect.center().y())
    assert browser.anchorAt(point) == "copy-code:0"
    QGuiApplication.clipboard().setText("")
    with qtbot.waitSignal(browser.codeCopied, timeout=1000):
        QTest.mouseClick(
            browser.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
        )
    assert QGuiApplication.clipboard().text() == "clicked code"


class _UrlCatcher(QObject):
    """Receives what QDesktopServices.openUrl would hand to the system browser."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)


def test_links_open_only_web_schemes(qtbot: QtBot) -> None:
    catcher = _UrlCatcher()
    schemes = ("http", "https", "mailto", "file", "javascript", "qrc")
    for scheme in schemes:  # Qt's own hook: openUrl goes to the catcher, not a browser
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    try:
        browser = _browser(qtbot)
        browser.open_links_externally = False
        activated: list[QUrl] = []
        browser.linkActivated.connect(activated.append)

        browser.anchorClicked.emit(QUrl("https://example.com/x"))
        assert activated == [QUrl("https://example.com/x")]
        assert catcher.opened == []

        browser.open_links_externally = True
        for url in ("https://example.com/y", "mailto:a@b.c", "http://x.org"):
            browser.anchorClicked.emit(QUrl(url))
        for url in ("file:///etc/passwd", "javascript:alert(1)", "qrc:/x", "relative/path"):
            browser.anchorClicked.emit(QUrl(url))
        assert [u.toString() for u in catcher.opened] == [
            "https://example.com/y",
            "mailto:a@b.c",
            "http://x.org",
        ]
        assert len(activated) == 1
    finally:
        for scheme in schemes:
            QDesktopServices.unsetUrlHandler(scheme)


def test_browser_does_not_navigate(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    assert browser.isReadOnly()
    assert not browser.openLinks()
    assert not browser.openExternalLinks()
    assert not browser.document().isUndoRedoEnabled()


def test_code_blocks_get_colours_and_a_language_label(qtbot: QtBot) -> None:
    from launcher.ui.code_colours import warm

    warm(["python"], wait=True)
    browser = _browser(qtbot)
    render_markdown(browser, "```python\ndef f():\n    return 1  # one\n```")
    doc = browser.document()
    text = doc.toPlainText()
    assert text.endswith("python · Copy")
    plain = _char_format(doc, text.index("f()") + 1).foreground().color()
    keyword = _char_format(doc, text.index("def") + 1).foreground().color()
    comment = _char_format(doc, text.index("# one") + 1)
    assert keyword != plain and comment.fontItalic()
    assert browser.code_text(0) == "def f():\n    return 1  # one"


def test_status_lines_never_land_in_a_list_or_a_table(qtbot: QtBot) -> None:
    from launcher.core.conversation import Message
    from launcher.ui.conversation_view import ConversationView

    view = ConversationView()
    qtbot.addWidget(view)
    for index, partial in enumerate(("1. one\n2. two\n3. thr", "| a | b |\n|---|---|\n| 1 |")):
        view.begin_reply("m", index)
        stream = view.content_stream()
        stream.append(partial)
        stream.render()
        view.end_reply(Message("assistant", partial, state="stopped", note="Stopped."), index)
        doc = view.document()
        block = doc.findBlock(doc.toPlainText().rindex("■ Stopped."))
        assert block.textList() is None
        assert QTextCursor(block).currentTable() is None
        assert block.text() == "■ Stopped."


def test_tables_get_padding_collapsed_borders_and_a_header_tint(qtbot: QtBot) -> None:
    browser = _browser(qtbot)
    render_markdown(browser, "| a | b |\n|---|---|\n| 1 | 2 |")
    tables = [f for f in browser.document().rootFrame().childFrames() if isinstance(f, QTextTable)]
    assert len(tables) == 1
    table = tables[0]
    assert table.format().cellPadding() == 4 and table.format().borderCollapse()
    header = table.cellAt(0, 0).format().background()
    body = table.cellAt(1, 0).format().background()
    assert header.style() != Qt.BrushStyle.NoBrush and body.style() == Qt.BrushStyle.NoBrush
