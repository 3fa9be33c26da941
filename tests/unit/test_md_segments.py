"""The Markdown segmenter and the code colours, without Qt (no QApplication, no PySide6)."""

from __future__ import annotations

import subprocess
import sys
import time

from launcher.ui.code_colours import MAX_HIGHLIGHT_CHARS, highlight_runs, warm
from launcher.ui.md_segments import Segmenter, advance, renumber
from tests.conftest import REPO


def segments(text: str, *, pieces: int = 1) -> tuple[list[str], str]:
    """(finished segments, unfinished tail) after feeding `text` in `pieces` parts."""
    seg = Segmenter()
    done: list[str] = []
    step = max(1, len(text) // pieces)
    for start in range(0, len(text), step):
        seg.append(text[start : start + step])
        seg.absorb(final=False)
        done += seg.take_ready()
    return done, seg.live


def test_the_modules_import_no_qt() -> None:
    code = (
        "import sys, launcher.ui.md_segments, launcher.ui.code_colours; "
        "sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0


def test_blocks_are_cut_at_blank_lines_and_the_tail_stays_open() -> None:
    done, tail = segments("# Title\n\nFirst paragraph.\n\nSecond, still stream")
    assert done == ["# Title\n\n", "First paragraph.\n\n"]
    assert tail == "Second, still stream"


def test_cutting_does_not_depend_on_how_the_text_arrives() -> None:
    text = "Intro\n\n```python\nx = 1\n\ny = 2\n```\nAfter\n\n1. one\n2. two\n\nEnd"
    whole = segments(text)
    for pieces in (3, 7, len(text)):
        assert segments(text, pieces=pieces) == whole


def test_a_fence_is_one_segment_even_with_blank_lines_inside() -> None:
    done, tail = segments("```\na\n\nb\n```\nrest")
    assert done == ["```\na\n\nb\n```\n"]
    assert tail == "rest"


def test_an_open_fence_is_reported_until_closed() -> None:
    seg = Segmenter()
    seg.append("```js\nlet a = 1;\n")
    seg.absorb(final=False)
    assert seg.fence is not None and seg.take_ready() == []
    seg.append("```\n")
    seg.absorb(final=False)
    assert seg.fence is None and seg.take_ready() == ["```js\nlet a = 1;\n```\n"]


def test_list_items_are_segments_and_numbering_continues() -> None:
    done, tail = segments("1. one\n1. two\n1. three\n")
    assert done == ["1. one\n", "1. two\n"] and tail == "1. three\n"
    state = advance(done[0])
    assert renumber(done[1], state) == "2. two\n"


def test_finishing_cuts_everything_and_the_text_is_kept_whole() -> None:
    seg = Segmenter()
    text = "a\n\nb *c*\n\n- d\n- e"
    seg.append(text)
    seg.absorb(final=True)
    assert "".join(seg.take_ready()) == text and seg.live == ""
    assert seg.text == text


def test_code_colours_for_a_declared_language() -> None:
    warm(["python"], wait=True)
    code = 'def f(x):\n    return "hi"  # note\n'
    runs = highlight_runs(code, "python", dark=False)
    coloured = {code[start : start + length] for start, length, _colour, _italic in runs}
    assert {"def", "f", '"hi"', "# note"} <= coloured
    italic = [code[s : s + n] for s, n, _c, it in runs if it]
    assert italic == ["# note"]
    # A different palette on a dark background, the same runs.
    dark = highlight_runs(code, "python", dark=True)
    assert [r[:2] for r in dark] == [r[:2] for r in runs]
    assert [r[2] for r in dark] != [r[2] for r in runs]


def test_a_lexer_loads_in_the_background_and_colours_from_then_on() -> None:
    code = "fn main() { let x = 1; }"
    first = highlight_runs(code, "rust", dark=False)  # may still be loading: plain
    warm(["rust"], wait=True)
    deadline = time.monotonic() + 5
    while not highlight_runs(code, "rust", dark=False):
        assert time.monotonic() < deadline, "the rust lexer never loaded"
        time.sleep(0.01)
    assert first in ([], highlight_runs(code, "rust", dark=False))


def test_no_colours_for_unknown_or_huge_code() -> None:
    warm(["python", "no-such-language"], wait=True)
    assert highlight_runs("x = 1", "", dark=False) == []
    assert highlight_runs("x = 1", "no-such-language", dark=False) == []
    assert highlight_runs("x = 1\n" * MAX_HIGHLIGHT_CHARS, "python", dark=False) == []
