"""Human-readable sizes, speeds, durations and counts (with correct plurals)."""

from __future__ import annotations

from PySide6.QtCore import QObject


def human_bytes(count: float) -> str:
    """1536 -> '1.5 KB' (decimal units, as Ollama and disk vendors use)."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


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
