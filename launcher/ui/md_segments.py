"""Where a streamed Markdown reply can be cut into blocks that will never change (no Qt).

The painter (`launcher.ui.markdown`) inserts every finished segment into the
document once and re-renders only the unfinished tail; this module decides where
the segments are. It is pure text processing, tested without a QApplication.

Segments: the text is cut at (a) a blank line followed by a non-indented line, (b) a
fenced code block opened at column 0 (from its opening line to its closing line), and
(c) a top-level list item that follows an item of the same list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE_RE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")
_ORDERED_RE = re.compile(r"^(\d{1,9})([.)])(?=[ \t]|$)")
_BULLET_RE = re.compile(r"^([-+*])(?=[ \t]|$)")
_THEMATIC_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ENDERS = ("#", ">", "|")


def indent_width(line: str) -> int:
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


def list_kind(line: str) -> str | None:
    """Marker kind of a top-level list item line: ``-``/``+``/``*`` or ``.``/``)``."""
    if _THEMATIC_RE.match(line):
        return None
    m = _ORDERED_RE.match(line)
    if m:
        return m.group(2)
    m = _BULLET_RE.match(line)
    return m.group(1) if m else None


@dataclass(frozen=True)
class Fence:
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
            and indent_width(line) < self.indent + 4
        )


def parse_fence(line: str) -> Fence | None:
    m = _FENCE_RE.match(line)
    if m is None:
        return None
    marker, info = m.group(2), m.group(3)
    if marker[0] == "`" and "`" in info:
        return None  # an inline code span such as ```x```, not a fence
    indent = len(m.group(1))
    return Fence(marker[0], len(marker), indent, standalone=indent == 0)


# Ordered-list numbering carried from one segment into the next: (next number, delimiter).
OlState = tuple[int, str] | None


def renumber(segment: str, state: OlState) -> str:
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


def advance(segment: str) -> OlState:
    """Numbering state after ``segment`` (already renumbered): linear in its length."""
    current: OlState = None
    fence: Fence | None = None
    prev_blank = False
    for line in segment.split("\n"):
        if fence is not None:
            if fence.closed_by(line):
                fence = None
            continue
        if not line.strip():
            prev_blank = True
            continue
        fence = parse_fence(line)
        if indent_width(line) == 0:
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


class Segmenter:
    """Cuts a growing Markdown text into finished segments and an unfinished tail.

    `append` buffers; `absorb` classifies the new complete lines and moves finished
    segments to `take_ready()`; `live` is the unfinished tail, `fence` the column-0
    fence it is inside of (if any). Linear in the text's length overall.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []
        self._done_text: list[str] = []  # text of segments already cut off
        self.live = ""  # text from the start of the unfinished segment
        self._scan = 0  # offset in live of the first line not yet classified
        self.fence: Fence | None = None
        self._prev_blank = False
        self._segment_list: str | None = None  # list kind of the segment's first line
        self._ready: list[str] = []  # cut-off segments waiting to be inserted

    def append(self, delta: str) -> None:
        if delta:
            self._pending.append(delta)

    @property
    def text(self) -> str:
        """The full Markdown source received so far."""
        return "".join(self._done_text) + self.live + "".join(self._pending)

    def take_ready(self) -> list[str]:
        """Segments finished since the last call, in order (each returned once)."""
        ready, self._ready = self._ready, []
        return ready

    def absorb(self, final: bool) -> None:
        """Move buffered deltas into the live text and classify the new complete lines."""
        if self._pending:
            self.live += "".join(self._pending)
            self._pending.clear()
        while True:
            newline = self.live.find("\n", self._scan)
            if newline < 0:
                break
            self._classify(self._scan, newline)
        if final:
            if self._scan < len(self.live):
                self._classify(self._scan, len(self.live))
            self._cut(len(self.live))
        elif (
            self.fence is None
            and self._prev_blank
            and self._scan < len(self.live)
            and not self.live[self._scan].isspace()
        ):
            # A non-indented line after a blank line always starts a new top-level block:
            # the previous segment is finished even before this line is complete.
            self._cut(self._scan)

    def _classify(self, start: int, end: int) -> None:
        """Classify the line ``live[start:end]`` and cut segments where it allows."""
        line = self.live[start:end].rstrip("\r")
        self._scan = end + 1
        fence = self.fence
        if fence is not None:
            if fence.closed_by(line):
                self.fence = None
                self._prev_blank = False
                if fence.standalone:
                    self._cut(min(end + 1, len(self.live)))
            return
        if not line.strip():
            self._prev_blank = True
            return
        opened = parse_fence(line)
        if opened is not None:
            if opened.standalone:
                self._cut(start)
                self._segment_list = None
            self.fence = opened
            self._prev_blank = False
            return
        if indent_width(line) == 0:
            kind = list_kind(line)
            if self._prev_blank or (kind is not None and kind == self._segment_list):
                start -= self._cut(start)
            if start == 0:
                self._segment_list = kind
        self._prev_blank = False

    def _cut(self, at: int) -> int:
        """Finish the segment ``live[:at]``; returns how far ``live`` shifted."""
        if at <= 0:
            return 0
        segment = self.live[:at]
        self._done_text.append(segment)
        if segment.strip():
            self._ready.append(segment)
        self.live = self.live[at:]
        self._scan -= at
        return at
