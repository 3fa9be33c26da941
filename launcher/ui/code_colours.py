"""Syntax colours for code blocks in replies, from Pygments (no Qt: plain colour runs).

Only a fence's declared language is used (guessing is slow and often wrong), and
very large blocks stay plain so colouring never costs the painter its time budget.
Loading a lexer the first time (importing its module, compiling its patterns) takes
tens of milliseconds, so lexers are loaded in a background thread (`warm`): a block
in a language whose lexer is not loaded yet stays plain rather than stall the window.
Two palettes of mid-tone colours keep the code readable on light and dark themes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

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


#: Languages most replies use: loaded at start-up, in the background.
COMMON_LANGUAGES = (
    "python", "bash", "sh", "javascript", "typescript", "json", "c", "cpp", "rust", "go",
    "java", "html", "css", "sql", "yaml", "toml", "diff",
)  # fmt: skip

#: name -> lexer (None: no such language); filled by the loader thread only.
_lexers: dict[str, Lexer | None] = {}
_wanted: set[str] = set()
_lock = threading.Lock()


def _name(language: str) -> str:
    return language.strip().split()[0].lower() if language.strip() else ""


def _load(names: list[str]) -> None:
    for name in names:
        try:
            lexer: Lexer | None = get_lexer_by_name(name, stripnl=False, ensurenl=False)
            if lexer is not None:
                list(lexer.get_tokens_unprocessed("x = 1\n"))  # compiles its patterns
        except ClassNotFound:
            lexer = None
        _lexers[name] = lexer


def warm(languages: Iterable[str], *, wait: bool = False) -> None:
    """Load these languages' lexers in a background thread (`wait`: until loaded)."""
    with _lock:
        names = [n for n in {_name(lang) for lang in languages} if n and n not in _wanted]
        _wanted.update(names)
    if not names:
        return
    thread = threading.Thread(target=_load, args=(names,), name="lexers", daemon=True)
    thread.start()
    if wait:
        thread.join()


def _lexer(language: str) -> Lexer | None:
    name = _name(language)
    if not name:
        return None
    if name not in _lexers:
        warm([name])  # coloured from the next block (or the next render) on
        return None
    return _lexers[name]


_style_cache: dict[tuple[_TokenType, bool], tuple[str, bool] | None] = {}


def _style(token: _TokenType, dark: bool) -> tuple[str, bool] | None:
    key = (token, dark)
    if key in _style_cache:
        return _style_cache[key]
    found: tuple[str, bool] | None = None
    for kind, light_colour, dark_colour, italic in _STYLES:
        if token in kind:
            found = (dark_colour if dark else light_colour), italic
            break
    _style_cache[key] = found
    return found


def highlight_runs(code: str, language: str, *, dark: bool) -> list[tuple[int, int, str, bool]]:
    """(start, length, colour, italic) runs for `code` in `language`; [] when unknown
    (or its lexer is still loading)."""
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
