"""Tests for launcher.core.guard: trips on loops and over-long replies, never on real text."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

import pytest

from launcher.core.guard import (
    CHECK_EVERY,
    GuardSettings,
    GuardTrip,
    RunawayGuard,
)

# --------------------------------------------------------------------------
# Ordinary text, built here (no network). Each sample is something a model
# legitimately writes and that contains *some* repetition.
# --------------------------------------------------------------------------

PROSE = """\
The old lighthouse at the end of the harbour has not guided a ship in almost forty years, \
yet the town still paints it every spring. Nobody remembers who started the custom. Some say \
it was the widow of the last keeper, who climbed the hundred and twelve steps each evening \
long after the lamp had been replaced by an automatic beacon on the breakwater. Others insist \
it began as a bet between two fishermen who had run out of better ideas one slow April.

Whatever its origin, the ritual has rules. The white must be applied before the red, the \
brushes must be bought from the hardware shop on Quay Street rather than from the new \
superstore by the ring road, and the first stroke belongs to whoever was born most recently \
in the parish. This year that honour fell to a three-week-old girl, whose father guided her \
tiny fist around the handle while the crowd pretended not to notice that most of the paint \
landed on his shoes.

Tourists find it charming, which is convenient, because the council has quietly come to \
depend on them. The cafés open a week early, the ferry adds a second crossing on Saturdays, \
and the school sells lemonade at a price that would embarrass a London hotel. If you ask the \
headmistress about it she will tell you, with a perfectly straight face, that the proceeds \
fund a scholarship for marine biology. The scholarship exists; it is simply very small.

There are critics, of course. A retired engineer who moved here from Leeds writes to the \
local paper every year to point out that the tower is structurally unsound and that letting \
volunteers stand on scaffolding thirty metres above the rocks is asking for trouble. He is \
not wrong. The council responds, every year, by commissioning a survey, reading the survey, \
and then doing exactly what it did the year before with slightly better harnesses.

What strikes a visitor most is how little anyone talks about the light itself. Conversation \
turns to the weather, to the price of diesel, to whose grandson has finally found work on \
the wind farm. The tower is simply there, like the tide tables pinned inside every shop \
window, a fixed point against which everything else is measured. Perhaps that is the real \
reason the town keeps painting it: not to keep it bright, but to keep itself in one place.

By evening the scaffolding comes down, the last of the lemonade is poured away, and the \
harbour returns to its usual noises: halyards slapping against masts, gulls arguing over \
chips, the diesel cough of a trawler heading out on the night tide. Above it all the tower \
stands freshly striped, lit by nothing but the sunset, looking faintly surprised to be the \
centre of attention once again.

The following morning is always quieter. Volunteers drift back to collect the ladders they \
forgot, someone sweeps the flakes of old paint from the slipway, and the harbour master \
writes the date in a ledger that has been kept, in one form or another, since 1911. Nobody \
is quite sure why the ledger matters. It records the weather, the number of helpers, the \
colour of the door (green, then blue, then green again after a vote that split three \
families for a decade) and, in a column headed simply "Remarks", whatever the harbour master \
of the day felt like saying. Most entries are dull. A few are not: "Gale. Postponed. Vicar \
fell in." sits beside 1954, and nobody has ever explained it.

Asked what will happen when the council finally runs out of money for harnesses, the \
harbour master shrugs. "Then we'll paint the bottom half," she says, "and let the gulls \
argue about the rest." It is hard to tell whether she is joking. In a town like this, it \
rarely matters.
"""

CODE = """\
from __future__ import annotations

import dataclasses
from typing import Protocol


class Shape(Protocol):
    def area(self) -> float: ...


class Unit:
    pass


class Other:
    pass


@dataclasses.dataclass
class Point:
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0


def nested(data: dict[str, list[int]]) -> int:
    total = 0
    for key, values in data.items():
        for value in values:
            if value > 0:
                if value % 2 == 0:
                    if key:
                        total += value
                    else:
                        pass
                else:
                    pass
            else:
                pass
    return total


def matrix() -> list[list[int]]:
    return [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [1, 0, 0, 0],
    ]
"""

C_CODE = """\
int main(void) {
    for (int i = 0; i < 10; i++) {
        for (int j = 0; j < 10; j++) {
            if (grid[i][j]) {
                while (busy()) {
                    wait();
                }
            }
        }
    }
    return 0;
}
"""

JSON_BLOB = json.dumps(
    {
        "models": [
            {
                "name": f"model-{i}",
                "size": 0,
                "tags": ["latest", "latest", "q4_0"],
                "details": {"family": "llama", "parameter_size": "7B", "quantization": "Q4_0"},
                "flags": [False, False, False, True],
            }
            for i in range(12)
        ],
        "empty": {},
        "zeros": [0] * 20,
    },
    indent=2,
)


def _markdown_table() -> str:
    rows = ["| id | name | value |", "|---|---|---|"]
    for i in range(40):
        if 10 <= i < 14:
            rows.append("| 0 | 0 | 0 |")
        else:
            rows.append(f"| {i} | item {i} | {i * 7 % 13} |")
    return "Here is the table you asked for:\n\n" + "\n".join(rows) + "\n"


TABLE = _markdown_table()

NUMBERED = "".join(f"{i}. item\n" for i in range(1, 101))

HEADINGS = (
    "Results\n" + "=" * 80 + "\n\nThe numbers are below.\n\n---\n\n"
    "Discussion\n" + "-" * 80 + "\n\nSee above.\n\n***\n"
)

POEM = """\
The river does not ask the stone
why it was placed there, or for whom;
it bends, and carries on alone.
    And still the water finds its way,
    and still the water finds its way.

The swallow does not ask the wind
which roof it ought to call its own;
it turns, and leaves the storm behind.
    And still the water finds its way,
    and still the water finds its way.
"""


def _log() -> str:
    lines = ["Traceback (most recent call last):"]
    for i in range(30):
        lines.append(
            f'  File "/srv/app/worker.py", line {100 + i * 3}, in handle_{i % 4}\n'
            f"    result = step_{i}(payload, retries={i % 5})"
        )
    lines.append("ValueError: too many retries")
    return "\n".join(lines) + "\n"


LOG = _log()


_VOCAB = (
    "the a model answer server stream token reply quickly slowly river light harbour "
    "engineer value table column window buffer period guard loop launcher desktop "
    "python thread event signal button status download"
)


def _varied_words(n_chars: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    vocab = _VOCAB.split()
    out: list[str] = []
    size = 0
    while size < n_chars:
        sentence = " ".join(rng.choice(vocab) for _ in range(rng.randint(4, 16)))
        sentence = sentence.capitalize() + rng.choice([".", "!", "?", ",", ";"])
        sentence += "\n\n" if rng.random() < 0.1 else " "
        out.append(sentence)
        size += len(sentence)
    return "".join(out)[:n_chars]


ORDINARY: dict[str, str] = {
    "prose": PROSE,
    "python": CODE,
    "c": C_CODE,
    "json": JSON_BLOB,
    "table": TABLE,
    "numbered": NUMBERED,
    "headings": HEADINGS,
    "poem": POEM,
    "log": LOG,
    "varied": _varied_words(20_000),
}
ORDINARY["everything"] = "\n\n".join(ORDINARY.values())

# --------------------------------------------------------------------------
# Chunkers: the verdict must not depend on how the stream is split.
# --------------------------------------------------------------------------


def _fixed(size: int) -> Callable[[str], Iterator[str]]:
    def split(text: str) -> Iterator[str]:
        for i in range(0, len(text), size):
            yield text[i : i + size]

    return split


def _random_split(text: str) -> Iterator[str]:
    rng = random.Random(1234)
    i = 0
    while i < len(text):
        n = rng.randint(1, 12)
        yield text[i : i + n]
        i += n


def _whole(text: str) -> Iterator[str]:
    yield text


CHUNKERS: dict[str, Callable[[str], Iterator[str]]] = {
    "1char": _fixed(1),
    "3char": _fixed(3),
    "random": _random_split,
    "whole": _whole,
}


BY_4 = _fixed(4)


def run_guard(
    text: str,
    chunker: Callable[[str], Iterator[str]] = BY_4,
    settings: GuardSettings | None = None,
) -> tuple[GuardTrip | None, int]:
    """Feed text; return (trip, chars fed up to and including the tripping delta)."""
    guard = RunawayGuard(settings)
    for delta in chunker(text):
        trip = guard.feed(delta)
        if trip is not None:
            return trip, guard.chars_seen
    return guard.tripped, guard.chars_seen


# --------------------------------------------------------------------------
# Never trips on ordinary text
# --------------------------------------------------------------------------


def test_samples_are_realistic_sizes() -> None:
    assert 3_000 <= len(PROSE) <= 5_000
    assert TABLE.count("\n|") == 42  # header + separator + 40 rows
    assert "| 0 | 0 | 0 |\n| 0 | 0 | 0 |\n| 0 | 0 | 0 |" in TABLE
    assert "=" * 80 in HEADINGS
    assert NUMBERED.endswith("100. item\n")
    assert len(LOG.splitlines()) == 62


@pytest.mark.parametrize("chunker", list(CHUNKERS), ids=list(CHUNKERS))
@pytest.mark.parametrize("name", list(ORDINARY), ids=list(ORDINARY))
def test_never_trips_on_ordinary_text(name: str, chunker: str) -> None:
    trip, seen = run_guard(ORDINARY[name], CHUNKERS[chunker])
    assert trip is None, f"{name}: {trip}"
    assert seen == len(ORDINARY[name])


@pytest.mark.parametrize("name", ["prose", "python", "table", "everything"])
def test_ordinary_text_repeated_twice_is_fine(name: str) -> None:
    # A model may legitimately restate a whole block once ("here it is again").
    trip, _ = run_guard(ORDINARY[name] + "\n" + ORDINARY[name])
    assert trip is None


# --------------------------------------------------------------------------
# Trips on loops
# --------------------------------------------------------------------------

PARAGRAPH = (
    "To configure the launcher, open the settings dialog from the toolbar and choose the "
    "server tab. Enter the address of your Ollama server, for example http://localhost:11434, "
    "and press Test to check the connection. If the server is not running the launcher can "
    "start it for you; tick the box labelled Start automatically and the status light will "
    "turn green within a few seconds once the first model has been loaded into memory.\n\n"
)

LOOPS: dict[str, str] = {
    "ha": "ha ",
    "sorry": "I am sorry. ",
    "paragraph": PARAGRAPH,
    "code_line": 'print("x")\n',
    "newlines": "\n",
    "spaces": " ",
    "blank_lines_with_indent": "    \n",
    "emoji": "😂",
}


def test_paragraph_length_in_range() -> None:
    assert 300 <= len(PARAGRAPH) <= 600


def _loop_bound(unit: str, settings: GuardSettings | None = None) -> int:
    """Chars of loop after which the guard must have tripped."""
    s = settings or GuardSettings()
    repeats = s.min_repeats_short if len(unit) < 20 else s.min_repeats_long
    return max(repeats * len(unit), s.min_repeated_chars) + CHECK_EVERY


@pytest.mark.parametrize("chunker", list(CHUNKERS), ids=list(CHUNKERS))
@pytest.mark.parametrize("name", list(LOOPS), ids=list(LOOPS))
def test_trips_on_loop_from_the_start(name: str, chunker: str) -> None:
    unit = LOOPS[name]
    text = unit * (3000 // len(unit) + 5)
    trip, seen = run_guard(text, CHUNKERS[chunker])
    assert trip is not None
    assert trip.reason == "repetition"
    assert trip.period == len(unit)
    assert trip.repeats is not None and trip.repeats >= 3
    if chunker != "whole":
        assert seen <= _loop_bound(unit) + 12  # + the largest delta


@pytest.mark.parametrize("name", list(LOOPS), ids=list(LOOPS))
def test_trips_soon_after_loop_starts_after_normal_text(name: str) -> None:
    unit = LOOPS[name]
    prefix = (PROSE + PROSE)[:2000]
    assert len(prefix) == 2000
    text = prefix + unit * (4000 // len(unit) + 5)
    trip, seen = run_guard(text, _random_split)
    assert trip is not None and trip.reason == "repetition"
    loop_chars = seen - len(prefix)
    assert 0 < loop_chars <= _loop_bound(unit) + 12


def test_paragraph_repeated_three_times_trips_during_third_copy_or_just_after() -> None:
    text = "Sure, here are the steps.\n\n" + PARAGRAPH * 4
    trip, seen = run_guard(text)
    assert trip is not None
    assert trip.period == len(PARAGRAPH)
    assert trip.repeats == 3
    assert seen <= len("Sure, here are the steps.\n\n") + 3 * len(PARAGRAPH) + CHECK_EVERY + 4


def test_long_paragraph_loop_up_to_max_period() -> None:
    unit = (PROSE[:1900]).rstrip() + "\n"
    trip, _ = run_guard(unit * 4)
    assert trip is not None and trip.period == len(unit) and trip.repeats == 3


def test_period_longer_than_max_period_is_not_a_repetition() -> None:
    settings = GuardSettings(max_period=100)
    trip, _ = run_guard(PARAGRAPH * 6, settings=settings)
    assert trip is None


def test_messages() -> None:
    trip, _ = run_guard("ha " * 200)
    assert trip is not None
    assert trip.message.startswith('Stopped: the reply kept repeating the same text ("ha") ')
    assert trip.message.endswith(f" {trip.repeats} times.")

    trip, _ = run_guard(PARAGRAPH * 5)
    assert trip is not None
    assert "\n" not in trip.message
    assert '("To configure the launcher, open the set…")' in trip.message

    trip, _ = run_guard("\n" * 2000)
    assert trip is not None
    assert trip.message.startswith("Stopped: the reply kept repeating blank space (")


def test_reports_smallest_period() -> None:
    # "ha ha " is "ha " twice; the period reported must be the primitive one.
    trip, _ = run_guard("Well. " + "ha " * 300)
    assert trip is not None and trip.period == 3


def test_primitive_period_threshold_is_used_for_multiples() -> None:
    # With a tiny character floor, a period-21 reading of a "ha " loop would pass
    # the long threshold (3 x 21 = 63 chars) long before "ha " passes the short one.
    settings = GuardSettings(min_repeated_chars=1, min_repeats_short=100, min_repeats_long=3)
    trip, seen = run_guard("ha " * 400, settings=settings)
    assert trip is not None and trip.period == 3
    assert seen >= 300


def test_short_refrains_below_threshold_do_not_trip() -> None:
    text = PROSE[:500] + "ha " * 40 + PROSE[500:1500] + "no, " * 30 + PROSE[1500:]
    trip, _ = run_guard(text)
    assert trip is None


def test_ruler_of_equals_is_fine_but_an_endless_one_is_a_loop() -> None:
    assert run_guard("Title\n" + "=" * 120 + "\nBody text.\n")[0] is None
    trip, _ = run_guard("Title\n" + "=" * 5000)
    assert trip is not None and trip.period == 1


@pytest.mark.parametrize("name", list(LOOPS), ids=list(LOOPS))
def test_trip_does_not_depend_on_chunking(name: str) -> None:
    text = PROSE[:777] + LOOPS[name] * (3000 // len(LOOPS[name]) + 5)
    trips = {key: run_guard(text, chunker)[0] for key, chunker in CHUNKERS.items()}
    trips["7char"] = run_guard(text, _fixed(7))[0]
    assert len(set(trips.values())) == 1, trips


# --------------------------------------------------------------------------
# Length limit
# --------------------------------------------------------------------------


def test_length_limit_default() -> None:
    text = _varied_words(100_500, seed=3)
    trip, seen = run_guard(text, _fixed(5))
    assert trip is not None
    assert trip.reason == "length"
    assert trip.message == "Stopped: the reply passed the length limit of 100,000 characters."
    assert trip.period is None and trip.repeats is None
    assert 100_000 < seen <= 100_005


@pytest.mark.parametrize("chunker", list(CHUNKERS), ids=list(CHUNKERS))
def test_length_limit_custom(chunker: str) -> None:
    settings = GuardSettings(max_chars=1000)
    trip, _ = run_guard(PROSE, CHUNKERS[chunker], settings)
    assert trip == GuardTrip(
        "length", "Stopped: the reply passed the length limit of 1,000 characters."
    )


def test_exactly_at_limit_is_fine() -> None:
    settings = GuardSettings(max_chars=len(PROSE))
    assert run_guard(PROSE, settings=settings)[0] is None
    assert run_guard(PROSE + "!", settings=settings)[0] is not None


def test_zero_means_no_length_limit() -> None:
    settings = GuardSettings(max_chars=0)
    assert run_guard(_varied_words(120_000, seed=5), _fixed(64), settings)[0] is None


def test_loop_before_limit_reports_repetition() -> None:
    settings = GuardSettings(max_chars=2000)
    trip, _ = run_guard(PROSE[:1000] + "ha " * 1000, settings=settings)
    assert trip is not None and trip.reason == "repetition"


# --------------------------------------------------------------------------
# Disabled, lifecycle
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LOOPS), ids=list(LOOPS))
def test_disabled_never_trips(name: str) -> None:
    settings = GuardSettings(enabled=False, max_chars=10)
    guard = RunawayGuard(settings)
    for delta in _fixed(4)(LOOPS[name] * 2000):
        assert guard.feed(delta) is None
    assert guard.tripped is None


def test_trip_returned_once_then_none_until_reset() -> None:
    guard = RunawayGuard()
    trips = [guard.feed("ha ") for _ in range(500)]
    fired = [t for t in trips if t is not None]
    assert len(fired) == 1
    assert guard.tripped is fired[0]
    seen = guard.chars_seen
    assert guard.feed("more text") is None
    assert guard.chars_seen == seen  # ignored after the trip
    guard.reset()
    assert guard.tripped is None and guard.chars_seen == 0
    for delta in _fixed(3)(PROSE):
        assert guard.feed(delta) is None
    assert sum(guard.feed("ha ") is not None for _ in range(500)) == 1


def test_empty_deltas_are_ignored() -> None:
    guard = RunawayGuard()
    for _ in range(1000):
        assert guard.feed("") is None
    assert guard.chars_seen == 0


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------


def test_settings_round_trip() -> None:
    s = GuardSettings(
        enabled=False,
        max_chars=5000,
        min_repeats_short=20,
        min_repeats_long=4,
        min_repeated_chars=300,
        max_period=1500,
    )
    d = s.to_dict()
    assert d == {
        "enabled": False,
        "max_chars": 5000,
        "min_repeats_short": 20,
        "min_repeats_long": 4,
        "min_repeated_chars": 300,
        "max_period": 1500,
    }
    assert GuardSettings.from_dict(d) == s
    assert GuardSettings.from_dict(json.loads(json.dumps(d))) == s
    assert GuardSettings.from_dict(GuardSettings().to_dict()) == GuardSettings()


def test_from_dict_is_tolerant() -> None:
    assert GuardSettings.from_dict({}) == GuardSettings()
    assert GuardSettings.from_dict(None) == GuardSettings()
    s = GuardSettings.from_dict({"max_chars": 7, "future_option": "x", "enabled": "false"})
    assert s == GuardSettings(enabled=False, max_chars=7)
    # Strings as returned by INI-backed QSettings.
    s = GuardSettings.from_dict({"enabled": "true", "min_repeats_long": "4", "max_period": "900"})
    assert s == GuardSettings(min_repeats_long=4, max_period=900)
    # Garbage and out-of-range values fall back to the default, field by field.
    s = GuardSettings.from_dict(
        {
            "enabled": "maybe",
            "max_chars": -5,
            "min_repeats_short": 1,
            "min_repeats_long": [3],
            "min_repeated_chars": "lots",
            "max_period": 800.0,
        }
    )
    assert s == GuardSettings(max_period=800)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_chars": -1},
        {"min_repeats_short": 1},
        {"min_repeats_long": 0},
        {"min_repeated_chars": 0},
        {"max_period": 0},
    ],
)
def test_invalid_settings_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        GuardSettings(**kwargs)  # type: ignore[arg-type]


def test_custom_thresholds_apply() -> None:
    ruler = "Title\n" + "=" * 200 + "\nBody.\n"
    assert run_guard(ruler)[0] is None
    strict = GuardSettings(min_repeated_chars=64, min_repeats_short=4)
    assert run_guard(ruler, settings=strict)[0] is not None
    lax = GuardSettings(min_repeated_chars=1000)
    trip, seen = run_guard("ha " * 1000, settings=lax)
    assert trip is not None and seen >= 1000


# --------------------------------------------------------------------------
# The fast scan agrees with a brute-force definition
# --------------------------------------------------------------------------


def _reference(text: str, s: GuardSettings) -> tuple[int, int] | None:
    """(check position, period) of the first trip, by brute force.

    At each check position B the tail of text[:B] trips with the smallest
    period p <= max_period whose last p chars are a primitive word and whose
    tail of max(repeats * p, min_repeated_chars) chars has period p.
    """
    for b in range(CHECK_EVERY, len(text) + 1, CHECK_EVERY):
        t = text[:b]
        for p in range(1, min(s.max_period, b) + 1):
            repeats = s.min_repeats_short if p < 20 else s.min_repeats_long
            need = max(repeats * p, s.min_repeated_chars)
            if need > b:
                continue
            tail = t[b - need :]
            unit = t[b - p :]
            if tail[p:] == tail[:-p] and (unit + unit).find(unit, 1) == p:
                return b, p
    return None


def _random_loopy_text(rng: random.Random, s: GuardSettings) -> str:
    """Noise, runs just below the thresholds and, now and then, a real loop."""
    alphabet = rng.choice(["ab", "ab \n", "abc=", "xyz .\n-"])
    parts: list[str] = []
    size = 0
    while size < 2500:
        if rng.random() < 0.4:
            piece = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))
        else:
            period = rng.choice([1, 2, 3, 5, 9, 17, 19, 20, 21, 33, 40, 70, 99, 100, 101])
            unit = "".join(rng.choice(alphabet) for _ in range(period))
            repeats = s.min_repeats_short if period < 20 else s.min_repeats_long
            need = max(repeats * period, s.min_repeated_chars)
            scale = 1.3 if rng.random() < 0.05 else rng.uniform(0.3, 0.99)
            piece = (unit * (need // period + 2))[: max(1, int(need * scale))]
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


BRUTE_FORCE_SETTINGS = {
    "small": GuardSettings(
        max_chars=0, min_repeats_short=4, min_repeats_long=3, min_repeated_chars=64, max_period=100
    ),
    "two_copies": GuardSettings(
        max_chars=0, min_repeats_short=4, min_repeats_long=2, min_repeated_chars=64, max_period=200
    ),
    "defaults": GuardSettings(max_chars=0, max_period=300),
}


def _runs_text(rng: random.Random) -> str:
    """A loop whose unit is a few chars then a long short-period run ("aabababab...").

    This is the structure the run-skipping shortcut of the scan must get right.
    """
    base = "".join(rng.choice("ab") for _ in range(rng.choice([1, 2, 3, 5])))
    unit = "".join(rng.choice("ab") for _ in range(rng.randint(1, 6)))
    unit += (base * 100)[: rng.randint(30, 140)]
    if rng.random() < 0.5:
        unit += "".join(rng.choice("ab") for _ in range(rng.randint(1, 4)))
    noise = "".join(rng.choice("abc") for _ in range(rng.randint(0, 300)))
    return noise + unit * rng.randint(1, 6)


def _assert_matches_reference(text: str, settings: GuardSettings) -> bool:
    expected = _reference(text, settings)
    guard = RunawayGuard(settings)
    trip: GuardTrip | None = None
    for delta in _random_split(text):
        trip = guard.feed(delta)
        if trip is not None:
            break
    if expected is None:
        assert trip is None, (trip, text)
        return False
    assert trip is not None, (expected, text)
    assert trip.period == expected[1], (trip, expected, text)
    # The tripping delta (at most 12 chars) may end past the check position.
    assert expected[0] <= guard.chars_seen < expected[0] + 12
    return True


@pytest.mark.parametrize("name", list(BRUTE_FORCE_SETTINGS))
def test_fast_scan_matches_brute_force(name: str) -> None:
    settings = BRUTE_FORCE_SETTINGS[name]
    rng = random.Random(2024)
    tripped = sum(
        _assert_matches_reference(_random_loopy_text(rng, settings), settings) for _ in range(150)
    )
    assert 10 <= tripped <= 140  # the generator produces both outcomes


@pytest.mark.parametrize("name", list(BRUTE_FORCE_SETTINGS))
def test_fast_scan_matches_brute_force_on_runs(name: str) -> None:
    settings = BRUTE_FORCE_SETTINGS[name]
    rng = random.Random(7)
    tripped = sum(_assert_matches_reference(_runs_text(rng), settings) for _ in range(400))
    assert 10 <= tripped <= 390
