"""The runaway guard's thresholds, read leniently from settings (a bad value keeps its default).

Apart from `core/guard.py` because the settings dialog and the settings file need
these rules without the detector itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["SHORT_PERIOD", "GuardSettings"]

#: Periods shorter than this are "short spans" ("ha ", "I am sorry. ") and use
#: :attr:`GuardSettings.min_repeats_short`; longer ones use
#: :attr:`GuardSettings.min_repeats_long`.
SHORT_PERIOD = 20


@dataclass(frozen=True)
class GuardSettings:
    """User-tunable thresholds of :class:`RunawayGuard`.

    A repetition trips when the tail of the reply consists of a span of
    ``period`` characters (``1 <= period <= max_period``) repeated back to back
    over a region of at least ``max(repeats * period, min_repeated_chars)``
    characters, where ``repeats`` is ``min_repeats_short`` for periods below
    :data:`SHORT_PERIOD` and ``min_repeats_long`` otherwise. "Repeats" counts
    copies, the first one included: "ha ha ha " is 3 repeats of "ha ".

    Defaults and why:

    * ``enabled = True``: a loop wastes minutes of GPU time and is never
      wanted; the guard is cheap and tuned to stay quiet on real text.
    * ``max_chars = 100_000``: ~25,000 tokens, far beyond any useful answer from
      a local model (and beyond most context windows), yet it stops a reply
      that loops with variations the repetition check cannot see. 0 disables.
    * ``min_repeats_short = 16``: people repeat a short phrase for emphasis a
      handful of times ("no, no, no", "ha ha ha ha"); sixteen copies in a row
      is never prose. With the default ``min_repeated_chars`` this only bites
      for periods of 17-19 characters; shorter spans are bounded by the
      character floor below.
    * ``min_repeats_long = 3``: one verbatim copy of a sentence or paragraph
      right after itself can be deliberate (a quoted refrain, "before/after"
      that did not change); a third identical copy in a row is a loop.
    * ``min_repeated_chars = 256``: the repeated region must be longer than
      anything humans repeat on purpose: an 80-120 column ``====`` or ``----``
      rule, a Markdown separator row, a few identical table rows, a short
      indented run. It is still only ~60-80 tokens of a "ha ha" loop.
      Whitespace-only runs count as loops too (2,000 newlines are a loop), so
      256 blank characters in a row trip.
    * ``max_period = 2000``: the longest span looked for, a long paragraph.
      The guard keeps ``max_period * min_repeats_long`` characters of tail
      (6,000 by default), which bounds memory and the cost of each check.
    """

    enabled: bool = True
    max_chars: int = 100_000
    min_repeats_short: int = 16
    min_repeats_long: int = 3
    min_repeated_chars: int = 256
    max_period: int = 2000

    def __post_init__(self) -> None:
        if self.max_chars < 0:
            raise ValueError("max_chars must be >= 0 (0 = no limit)")
        if self.min_repeats_short < 2 or self.min_repeats_long < 2:
            raise ValueError("min_repeats_short and min_repeats_long must be >= 2")
        if self.min_repeated_chars < 1:
            raise ValueError("min_repeated_chars must be >= 1")
        if self.max_period < 1:
            raise ValueError("max_period must be >= 1")

    def to_dict(self) -> dict[str, object]:
        """Plain dict for settings storage (JSON/QSettings friendly)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, object] | None) -> GuardSettings:
        """Build settings from stored values, tolerating bad input.

        Unknown keys are ignored, missing keys take the default, and values
        that cannot be read (wrong type, out of range) fall back to the
        default one field at a time, so a damaged settings file never
        disables the guard wholesale or crashes the app. Strings such as
        ``"true"`` or ``"300"`` (what some QSettings backends return) are
        accepted.
        """
        defaults = cls()
        if not isinstance(d, Mapping):
            return defaults
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            default = getattr(defaults, f.name)
            raw = d[f.name]
            parsed = _parse_bool(raw) if isinstance(default, bool) else _parse_int(raw)
            if parsed is None:
                continue
            single: dict[str, Any] = {f.name: parsed}
            try:
                cls(**single)  # validate this field alone
            except ValueError:
                continue
            values[f.name] = parsed
        try:
            return cls(**values)
        except ValueError:  # pragma: no cover - every field validated above
            return defaults


def _parse_bool(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw != 0
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
    return None


def _parse_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw.strip().replace("_", "").replace(",", ""))
        except ValueError:
            return None
    return None
