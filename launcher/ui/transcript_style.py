"""How the transcript's pieces look and read: colours for light and dark palettes, the
formats of its lines and boxes, and the words under a reply (speed, thinking, versions)."""

from __future__ import annotations

from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QTextCharFormat,
    QTextCursor,
    QTextFrameFormat,
    QTextLength,
)

from launcher.core.conversation import Message
from launcher.ui.format import human_duration

#: (on a light background, on a dark background)
USER_COLOURS = ("#1565c0", "#8ab4f8")
ASSISTANT_COLOURS = ("#2e7d32", "#81c995")
NOTE_COLOURS = ("#6d4c41", "#c8a99a")
ERROR_COLOURS = ("#c62828", "#f28b82")
THINKING_COLOURS = ("#6a1b9a", "#d7aefb")
QUIET_COLOURS = ("#757575", "#9aa0a6")
USER_BACKGROUND = QColor(66, 133, 244, 28)  # a tint readable on light and dark palettes
THINKING_BACKGROUND = QColor(106, 27, 154, 20)


def stats_text(message: Message) -> str:
    """'62.5 tokens/s · first token 120 ms' from a reply's stats."""
    parts = []
    tps = message.stats.get("tokens_per_second")
    if tps:
        parts.append(f"{tps:.1f} tokens/s")
    ttft = message.stats.get("ttft_ms")
    if ttft is not None:
        parts.append(f"first token {ttft:.0f} ms")
    return " · ".join(parts)


def thinking_text(message: Message, *, shown: bool = False) -> str:
    """'Thought for 12 s — show' (or in words for replies saved without a duration)."""
    verb = "hide" if shown else "show"
    seconds = message.stats.get("thinking_seconds")
    if seconds is not None:
        took = f"{seconds:.1f} s" if seconds < 10 else human_duration(seconds)
        return f"Thought for {took} — {verb}"
    return f"Thought for {len(message.thinking.split())} words — {verb}"


def tone(colours: tuple[str, str]) -> str:
    """The colour for the current palette: light or dark background."""
    dark = QGuiApplication.palette().base().color().lightness() < 128
    return colours[1] if dark else colours[0]


def line_format(
    *,
    bold: bool = False,
    colour: str = "",
    italic: bool = False,
    href: str = "",
    small: bool = False,
) -> QTextCharFormat:
    """The character format of a plain line (headers, notes, links under a reply)."""
    fmt = QTextCharFormat()
    if bold:
        fmt.setFontWeight(700)
    if italic:
        fmt.setFontItalic(True)
    if small:
        fmt.setProperty(QTextCharFormat.Property.FontSizeAdjustment, -1)
    if colour:
        fmt.setForeground(QColor(colour))
    if href:
        fmt.setAnchor(True)
        fmt.setAnchorHref(href)
        fmt.setFontUnderline(True)
    return fmt


def user_frame_format() -> QTextFrameFormat:
    """The tinted box around a message of the user's."""
    frame = QTextFrameFormat()
    frame.setBackground(USER_BACKGROUND)
    frame.setPadding(8)
    frame.setTopMargin(14)
    frame.setBottomMargin(6)
    frame.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
    return frame


def thinking_frame_format() -> QTextFrameFormat:
    """The tinted box around a reply's thinking, when it is shown."""
    frame = QTextFrameFormat()
    frame.setBackground(THINKING_BACKGROUND)
    frame.setPadding(6)
    return frame


def write_versions(cursor: QTextCursor, message: Message, href: str) -> None:
    """'‹ 2/3 ›' at the cursor: links (`href`/N) to the neighbouring versions of a reply."""
    shown, count = message.version_index, message.version_count
    plain = QTextCharFormat()
    plain.setForeground(QColor(tone(QUIET_COLOURS)))
    for label, target in (("‹", shown - 1), (None, None), ("›", shown + 1)):
        if label is None:
            cursor.insertText(f" {shown + 1}/{count} ", plain)
            continue
        assert target is not None
        if 0 <= target < count:
            link = QTextCharFormat()
            link.setAnchor(True)
            link.setAnchorHref(f"{href}/{target}")
            link.setToolTip("Previous version" if label == "‹" else "Next version")
            cursor.insertText(label, link)
        else:
            cursor.insertText(label, plain)
