"""What a reply shows besides its text: tool steps, token probabilities, the cut-context notice.

Tool steps are lines in the transcript ("Tool ▸ web_search: "ollama 0.12" — show result")
that open into the tool's result, as plain text in a tinted box: a fetched page
is text, never a page loaded in a browser engine. Token probabilities are char
formats on the reply's words: hovering a word shows its popup (the format's
tooltip), and each word is a link so the keyboard reaches it (Tab) and the popup
follows the focus. Nothing here runs for a reply without steps or records.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextDocument, QTextFrameFormat
from PySide6.QtWidgets import QTextBrowser, QToolTip

from launcher.core.context import Truncation
from launcher.core.tokenprobs import TokenRecord, Word, describe
from launcher.core.toolloop import ToolStep

STEP_SCHEME = "toolstep"
TOKEN_SCHEME = "token"
CONTEXT_SCHEME = "context"
STEP_COLOURS = ("#00695c", "#80cbc4")
CUT_COLOURS = ("#b45309", "#fbbf24")
UNSURE = QColor(245, 158, 11, 70)
#: A tool result longer than this is shown cut (the model got all of it).
MAX_STEP_CHARS = 20_000


class Transcript(Protocol):
    """What the transcript offers (ConversationView)."""

    def document(self) -> QTextDocument: ...

    def append_line(
        self,
        text: str,
        *,
        bold: bool = False,
        colour: str = "",
        italic: bool = False,
        href: str = "",
        top_margin: float = 0,
        small: bool = False,
    ) -> None: ...


def _tone(view: QTextBrowser, colours: tuple[str, str]) -> str:
    dark = view.palette().base().color().lightness() < 128
    return colours[1] if dark else colours[0]


def step_label(step: ToolStep, shown: bool, *, live: bool = True) -> str:
    """The step's line; `live`: its reply is still being written (a step without a
    result is running, else it was stopped)."""
    if step.result is None:
        state = "running…" if live else "stopped"
        return f"Tool ▸ {step.title()} — {state}"
    verb = "hide result" if shown else "show result"
    if not step.result.ran:
        verb = "not run — " + verb
    elif not step.result.ok:
        verb = "failed — " + verb
    return f"Tool {'▾' if shown else '▸'} {step.title()} — {verb}"


def write_steps(
    view: QTextBrowser,
    index: int,
    steps: list[ToolStep],
    expanded: set[tuple[int, int]],
    *,
    live: bool = False,
) -> None:
    """The reply's tool steps at the end of the document: a link per step, and the result
    (plain text) under each opened one."""
    transcript: Transcript = view  # type: ignore[assignment]
    colour = _tone(view, STEP_COLOURS)
    for number, step in enumerate(steps):
        shown = (index, number) in expanded
        transcript.append_line(
            step_label(step, shown, live=live),
            italic=True,
            colour=colour,
            href=f"{STEP_SCHEME}:{index}/{number}",
            small=True,
        )
        if shown and step.result is not None:
            _result_block(view, step.result.content)


def _result_block(view: QTextBrowser, text: str) -> None:
    if len(text) > MAX_STEP_CHARS:
        text = text[:MAX_STEP_CHARS] + "\n… (cut here; the model got all of it)"
    cursor = QTextCursor(view.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    frame = QTextFrameFormat()
    frame.setBackground(QColor(0, 105, 92, 22))
    frame.setPadding(6)
    cursor.insertFrame(frame)
    fmt = QTextCharFormat()
    fmt.setFontFixedPitch(True)
    fmt.setProperty(QTextCharFormat.Property.FontSizeAdjustment, -1)
    cursor.insertText(text, fmt)  # plain text: never interpreted


def write_cut(view: QTextBrowser, cut: Truncation) -> None:
    """The cut-context line under the reply whose request was cut, with its fix as a link."""
    transcript: Transcript = view  # type: ignore[assignment]
    transcript.append_line(
        f"⚠ {cut.notice()}.", colour=_tone(view, CUT_COLOURS), small=True, top_margin=4
    )
    if cut.suggested_ctx is not None and cut.suggested_ctx > cut.limit:
        transcript.append_line(
            f"Raise the context to {cut.suggested_ctx:,} tokens",
            colour=_tone(view, CUT_COLOURS),
            href=f"{CONTEXT_SCHEME}:raise/{cut.suggested_ctx}",
            small=True,
        )
    transcript.append_line(
        "Start a new chat from a summary",
        colour=_tone(view, CUT_COLOURS),
        href=f"{CONTEXT_SCHEME}:summary",
        small=True,
    )


def parse_step(url: QUrl) -> tuple[int, int] | None:
    if url.scheme() != STEP_SCHEME:
        return None
    try:
        index, number = (int(part) for part in url.path().split("/"))
    except ValueError:
        return None
    return index, number


class TokenMarks:
    """Token probabilities on the words of replies in one transcript.

    Attributes:
        words: (message index, word number) -> Word, for the popups.
    """

    def __init__(self, view: QTextBrowser) -> None:
        self.view = view
        self.words: dict[tuple[int, int], Word] = {}
        view.highlighted.connect(self._focused)

    def clear(self) -> None:
        self.words.clear()

    def mark(self, index: int, start: int, end: int, record: TokenRecord, tint: bool) -> int:
        """Mark the words of the reply shown at [start, end) of the document; how many.

        The reply is shown rendered (Markdown), so each word is looked for in order,
        a little way ahead of the previous one; a word the rendering dropped (a `**`,
        a code fence) is skipped."""
        document = self.view.document()
        text = _document_text(document, start, end)
        position = 0
        marked = 0
        cursor = QTextCursor(document)
        cursor.beginEditBlock()  # one layout pass for all the words, not one per word
        for number, word in enumerate(record.words()):
            found = text.find(word.text, position, position + len(word.text) + 40)
            if found < 0:
                continue
            position = found + len(word.text)
            self.words[(index, number)] = word
            cursor.setPosition(start + found)
            cursor.setPosition(start + position, QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            fmt.setToolTip(describe(word))
            fmt.setAnchor(True)
            fmt.setAnchorHref(f"{TOKEN_SCHEME}:{index}/{number}")
            if tint and word.uncertain:
                fmt.setBackground(UNSURE)
            cursor.mergeCharFormat(fmt)
            marked += 1
        cursor.endEditBlock()
        return marked

    def word_for(self, url: QUrl) -> Word | None:
        if url.scheme() != TOKEN_SCHEME:
            return None
        try:
            index, number = (int(part) for part in url.path().split("/"))
        except ValueError:
            return None
        return self.words.get((index, number))

    def _focused(self, url: QUrl) -> None:
        """A word got the keyboard focus (or the pointer): show its popup there."""
        word = self.word_for(url)
        if word is None:
            return
        rect = self.view.cursorRect(self.view.textCursor())
        point = self.view.viewport().mapToGlobal(rect.bottomLeft() + QPoint(0, 4))
        QToolTip.showText(point, describe(word), self.view.viewport(), rect)


def _document_text(document: QTextDocument, start: int, end: int) -> str:
    cursor = QTextCursor(document)
    cursor.setPosition(start)
    cursor.setPosition(min(end, document.characterCount() - 1), QTextCursor.MoveMode.KeepAnchor)
    # The selection's text uses U+2029 between blocks: one character per position, as needed.
    return cursor.selectedText()
