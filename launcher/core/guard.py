"""Runaway-reply guard: stop a streamed reply that loops or never ends.

Why this exists: small local models sometimes degenerate into a loop. They
repeat "ha ha ha ..." forever, or emit the same sentence or paragraph again and
again until the context is full. Nobody reads that, it burns GPU time and it can
freeze a text widget. The chat layer feeds every streamed content delta to a
:class:`RunawayGuard`; when the guard trips, the chat layer stops generation
(closing the HTTP stream exactly as the Stop button does) and shows
:attr:`GuardTrip.message` in the conversation so the user knows why the reply
ended.

What counts as a loop: the *tail* of the reply is exactly periodic, i.e. the
same span of text (its *period*) occurs several times in a row, right up to
the newest character. Near-loops (a counter that increments, a word that
changes each time) are not detected; the length limit is the backstop for
those.

How it stays cheap (``feed`` runs per token, thousands of times a second):

* ``feed`` only appends the delta to a pending list and adds its length to a
  counter. The tail is examined only at fixed positions of the reply, every
  :data:`CHECK_EVERY` characters. Because those positions depend only on the
  text (never on how it was split into deltas) the verdict is identical
  whatever the chunking, which the tests assert.
* Only a bounded tail window is kept: the longest region any threshold can
  ask for (``max_period * min_repeats_long`` characters by default).
* Candidate periods are found with C-speed ``str.rfind``: if the tail repeats
  with period ``p``, then the last :data:`NEEDLE` characters also occur ``p``
  characters earlier. In ordinary prose a 32-character needle almost never
  recurs within ``max_period`` characters, so a check usually costs one
  ``rfind`` over ~2 KB. Each candidate is confirmed with one slice comparison
  (``s[p:] == s[:-p]`` means ``s`` has period ``p``).
* When the tail itself is a short-period run (a ``=====`` rule, blank lines,
  "ha ha"), the needle would recur every few characters; the scan then skips
  whole runs instead of testing each occurrence (see ``_scan_run``), so even
  text made of near-loops costs ~1-2 µs per delta. A brute-force reference in
  the tests checks that these shortcuts never change the verdict.

Everything here is pure Python: no Qt, no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from launcher.core.guard_settings import SHORT_PERIOD, GuardSettings

__all__ = [
    "CHECK_EVERY",
    "NEEDLE",
    "SHORT_PERIOD",
    "GuardSettings",
    "GuardTrip",
    "RunawayGuard",
]

#: The tail is examined each time the reply grows past a multiple of this many
#: characters (about 30-40 tokens). A loop is therefore caught at most this many
#: characters after it crosses a threshold; 128 keeps the cost per streamed
#: character well under a microsecond (see tests/benchmarks/bench_guard.py).
CHECK_EVERY = 128

#: Length of the tail snippet searched for earlier in the window to propose
#: candidate periods. Long enough that it essentially never recurs by chance
#: in ordinary prose or code, short enough to be found quickly inside a loop.
NEEDLE = 32

_EXCERPT_MAX = 40
_WS_RUN = re.compile(r"\s+")


@dataclass(frozen=True)
class GuardTrip:
    """Why the guard stopped a reply.

    ``message`` is a complete sentence meant to be shown in the conversation.
    ``period`` is the length in characters of the repeated span and
    ``repeats`` how many whole copies of it were seen in a row (both ``None``
    for a length trip).
    """

    reason: Literal["repetition", "length"]
    message: str
    period: int | None = None
    repeats: int | None = None


class RunawayGuard:
    """Watches a streamed reply and trips on loops or on excessive length.

    Use one guard per reply (or call :meth:`reset` between replies). Call
    :meth:`feed` with every content delta. ``feed`` returns the
    :class:`GuardTrip` exactly once, from the call that tripped it; every later
    call returns ``None`` and ignores its delta, so the caller can stop the
    stream and post ``trip.message`` without de-duplicating. The trip stays
    readable in :attr:`tripped` until :meth:`reset`.

    Repetition is checked at fixed text positions (every :data:`CHECK_EVERY`
    characters), so whether and how the guard trips does not depend on how
    the reply was split into deltas. The length limit trips as soon as the
    reply has more than ``max_chars`` characters.
    """

    def __init__(self, settings: GuardSettings | None = None) -> None:
        self._settings = settings if settings is not None else GuardSettings()
        s = self._settings
        # The longest region any threshold can require: everything older is
        # never looked at again.
        self._window = max(
            s.min_repeats_long * s.max_period,
            s.min_repeats_short * min(s.max_period, SHORT_PERIOD - 1),
            s.min_repeated_chars,
            NEEDLE + 1,
        )
        self._tripped: GuardTrip | None = None
        self._buf = ""
        self._pending: list[str] = []
        self._total = 0
        self._next_check = CHECK_EVERY

    @property
    def settings(self) -> GuardSettings:
        return self._settings

    @property
    def tripped(self) -> GuardTrip | None:
        """The trip, once the guard has fired; ``None`` before that."""
        return self._tripped

    @property
    def chars_seen(self) -> int:
        """Characters fed since construction or the last :meth:`reset`.

        Deltas are not counted while the guard is disabled or after it tripped.
        """
        return self._total

    def reset(self) -> None:
        """Forget the reply and any trip; ready for a new reply."""
        self._tripped = None
        self._buf = ""
        self._pending = []
        self._total = 0
        self._next_check = CHECK_EVERY

    def feed(self, delta: str) -> GuardTrip | None:
        """Account for one streamed delta; return a trip the first time one fires."""
        if self._tripped is not None or not delta or not self._settings.enabled:
            return None
        total = self._total + len(delta)
        self._total = total
        self._pending.append(delta)
        limit = self._settings.max_chars
        horizon = total if limit <= 0 else min(total, limit)
        if self._next_check <= horizon:
            trip = self._check_positions(horizon)
            if trip is not None:
                self._tripped = trip
                return trip
        if 0 < limit < total:
            self._tripped = GuardTrip(
                reason="length",
                message=f"Stopped: the reply passed the length limit of {limit:,} characters.",
            )
            return self._tripped
        return None

    # -- internals ---------------------------------------------------------

    def _check_positions(self, horizon: int) -> GuardTrip | None:
        """Scan the tail as it stood at every check position up to ``horizon``."""
        buf = self._buf + "".join(self._pending)
        self._pending = []
        total = self._total
        try:
            while self._next_check <= horizon:
                end = len(buf) - (total - self._next_check)
                self._next_check += CHECK_EVERY
                view = buf[max(0, end - self._window) : end]
                trip = self._scan(view)
                if trip is not None:
                    return trip
            return None
        finally:
            self._buf = buf[-self._window :] if len(buf) > self._window else buf

    def _required(self, period: int) -> int:
        s = self._settings
        repeats = s.min_repeats_short if period < SHORT_PERIOD else s.min_repeats_long
        return max(repeats * period, s.min_repeated_chars)

    @staticmethod
    def _has_period(view: str, period: int, length: int) -> bool:
        """True if the last ``length`` chars of ``view`` have period ``period``."""
        n = len(view)
        return view[n - length + period :] == view[n - length : n - period]

    def _scan(self, view: str) -> GuardTrip | None:
        """Look for a loop ending exactly at the end of ``view``."""
        n = len(view)
        if n <= NEEDLE:
            return None
        needle = view[n - NEEDLE :]
        q = (needle + needle).find(needle, 1)  # smallest period of the needle
        if q <= NEEDLE // 2:
            return self._scan_run(view, needle, q)
        # Ordinary case: the needle is not periodic, so its occurrences are at
        # least NEEDLE/2 apart and in real text there are almost none.
        lo = max(0, n - NEEDLE - self._settings.max_period)
        return self._scan_candidates(view, needle, lo, n - 1)

    def _scan_candidates(self, view: str, key: str, lo: int, hi: int) -> GuardTrip | None:
        """Try each occurrence of ``key`` (a suffix of view) in view[lo:hi], nearest first.

        An occurrence ending ``d`` chars before the end proposes period ``d``.
        """
        n = len(view)
        m = len(key)
        pos = view.rfind(key, lo, hi)
        while pos >= 0:
            trip = self._try_period(view, n - m - pos)
            if trip is not None:
                return trip
            pos = view.rfind(key, lo, pos + m - 1)
        return None

    def _scan_run(self, view: str, needle: str, q: int) -> GuardTrip | None:
        """The tail is a run of period ``q`` ("=====", "ha ha ha", blank lines).

        Testing every occurrence of the needle would be slow here: it recurs
        every ``q`` chars inside this run and inside every earlier similar run
        (a page of ``====`` rules). Instead:

        * inside the run, the occurrences are at multiples of ``q`` (the needle
          is at least two copies of a primitive word), and a multiple of ``q``
          trips only if ``q`` itself does: test ``q`` alone;
        * periods up to the run length must show an occurrence starting before
          the run: at most NEEDLE positions to look at;
        * a longer period ``d`` trips only if at least ``2d`` chars repeat
          (every threshold is >= 2 copies), so the whole run *and the char that
          ends it* recur ``d`` chars earlier: search for that longer key, which
          is not periodic at its start and so recurs rarely.
        """
        n = len(view)
        max_period = self._settings.max_period
        extent = self._extent(view, q, NEEDLE, n)
        trip = self._try_period(view, q)
        if trip is not None or extent >= n:
            return trip
        lo = max(0, n - NEEDLE - min(extent, max_period))
        trip = self._scan_candidates(view, needle, lo, n - extent - 1 + NEEDLE)
        if trip is not None or extent >= max_period:
            return trip
        key = view[n - extent - 1 :]
        lo = max(0, n - len(key) - max_period)
        return self._scan_candidates(view, key, lo, n - extent - 1)

    def _try_period(self, view: str, period: int) -> GuardTrip | None:
        """Trip if the tail repeats with this period over the required length."""
        n = len(view)
        if period > self._settings.max_period:
            return None
        need = self._required(period)
        if need > n or not self._has_period(view, period, need):
            return None
        unit = view[n - period :]
        # A span that is itself k copies of a shorter unit is judged by the
        # shorter unit's threshold (e.g. "ha ha " is "ha " x 2).
        prim = (unit + unit).find(unit, 1)
        if prim < period:
            period = prim
            need = self._required(period)
            if need > n or not self._has_period(view, period, need):
                return None
        return self._repetition_trip(view, period, need)

    def _extent(self, view: str, period: int, known: int, limit: int) -> int:
        """Length of the longest tail of ``view`` with this period, up to ``limit``.

        ``known`` is a length already known to be periodic. Galloping then
        bisecting keeps this at O(log) slice comparisons, cheap for short runs.
        """
        lo, hi = known, known
        while hi < limit:
            hi = min(limit, hi * 2)
            if not self._has_period(view, period, hi):
                break
            lo = hi
        else:
            return lo
        hi -= 1  # hi is known not periodic
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._has_period(view, period, mid):
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _repetition_trip(self, view: str, period: int, known: int) -> GuardTrip:
        extent = self._extent(view, period, known, len(view))
        start = len(view) - extent
        unit = view[start : start + period]  # the span as it first appeared
        repeats = extent // period
        if unit.isspace():
            message = (
                f"Stopped: the reply kept repeating blank space "
                f"({extent:,} whitespace characters in a row)."
            )
        else:
            message = (
                f'Stopped: the reply kept repeating the same text ("{_excerpt(unit)}") '
                f"{repeats:,} times."
            )
        return GuardTrip(reason="repetition", message=message, period=period, repeats=repeats)


def _excerpt(text: str) -> str:
    """One line, whitespace collapsed, at most ``_EXCERPT_MAX`` characters."""
    line = _WS_RUN.sub(" ", text).strip()
    if len(line) > _EXCERPT_MAX:
        line = line[: _EXCERPT_MAX - 1].rstrip() + "…"
    return line
