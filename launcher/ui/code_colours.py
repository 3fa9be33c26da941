"""Syntax colours for code blocks in replies, from Pygments (no Qt: plain colour runs).

Only a fence's declared language is used (guessing is slow and often wrong), and
very large blocks stay plain so colouring never costs the painter its time budget.
Two palettes of mid-tone colours keep the code readable on light and dark themes.
"""

from __future__ import annotations

from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, String, _TokenType
from pygments.util import ClassNotFound

#: Blocks longer than this are not coloured (the painter's budget matters more).
MAX_HIGHLIGHT_CHARS = 40_000

#: token type -> (colour on a light background, colour on a dark background, italic)
_STYLES: tuple[tuple[_TokenType, str, str, bool], ...] = (
    (Comment, "#6a737d", "#8b949e", True),
    (Keyword, "#a626a4", "#c678dd", False),
    (String, "#50a14f", "#98c379", False),
    (Number, "#b76b01", "#d19a66", False),
    (Name.Builtin, "#0184bc", "#56b6c2", False),
    (Name.Function, "#4078f2", "#61afef", False),
    (Name.Class, "#c18401", "#e5c07b", False),
    (Name.Decorator, "#4078f2", "#61afef", False),
)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    name = language.strip().split()[0].lower() if language.strip() else ""
    if not name:
        return None
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _style(token: _TokenType, dark: bool) -> tuple[str, bool] | None:
    for kind, light_colour, dark_colour, italic in _STYLES:
        if token in kind:
            return (dark_colour if dark else light_colour), italic
    return None


def highlight_runs(code: str, language: str, *, dark: bool) -> list[tuple[int, int, str, bool]]:
    """(start, length, colour, italic) runs for `code` in `language`; [] when unknown."""
    lexer = _lexer(language)
    if lexer is None or not code or len(code) > MAX_HIGHLIGHT_CHARS:
        return []
    runs: list[tuple[int, int, str, bool]] = []
    for start, token, text in lexer.get_tokens_unprocessed(code):
        style = _style(token, dark)
        if style is None or not text:
            continue
        last = runs[-1] if runs else None
        if last is not None and last[0] + last[1] == start and last[2:] == style:
            runs[-1] = (last[0], last[1] + len(text), *style)  # one run, one format merge
        else:
            runs.append((start, len(text), *style))
    return runs
