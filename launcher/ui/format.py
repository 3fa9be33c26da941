"""Human-readable sizes, speeds, durations and counts (with correct plurals)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from launcher.core.pullprogress import size_text

# One byte-size wording for the whole app: the window says what the download messages say.
human_bytes = size_text


def human_duration(seconds: float) -> str:
    """75 -> '1 min 15 s'."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def counted(context: QObject, one: str, other: str, n: int) -> str:
    """'1 image' / '2 images' through Qt's translation (`tr` with `%n`).

    The `other` form is the source string a translator sees (with its numerus forms);
    with no translation installed Qt returns it unchanged, and English grammar is
    applied here instead of showing "image(s)".
    """
    text = context.tr(other, "", n)
    if text.replace(str(n), "%n", 1) == other:  # untranslated
        text = (one if n == 1 else other).replace("%n", str(n))
    return text
