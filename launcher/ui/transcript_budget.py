"""Which messages of a long conversation are written first, and which in each later batch.

A pure rule (no Qt), so it is tested on its own: opening a conversation of thousands of
messages writes only the newest ones (enough to fill a large window many times over), and
"Show earlier messages" writes the next older batch. A batch always starts at one of the
user's messages, so the transcript looks exactly as if it had been written in one go.
"""

from __future__ import annotations

from collections.abc import Sequence

from launcher.core.conversation import Message

#: The first paint: at most this many characters (about 150 lines of 80: three screens
#: of a large window) or messages.
FIRST_CHARS = 12_000
FIRST_MESSAGES = 24
#: Each "Show earlier messages" batch: written in slices of a few milliseconds, then moved
#: in front in one step whose cost (the layout of what came in) grows with the batch.
BATCH_CHARS = 16_000
BATCH_MESSAGES = 30


def batch_start(
    messages: Sequence[Message],
    stop: int,
    *,
    chars: int = FIRST_CHARS,
    count: int = FIRST_MESSAGES,
) -> int:
    """The index of the oldest message to write so that messages[start:stop] stay within
    `chars` characters or `count` messages (at least one message); moved back to a user's
    message (a reply is written under the question it answers). 0: all of them."""
    stop = max(0, min(stop, len(messages)))
    start, total = stop, 0
    while start > 0 and stop - start < count and total < chars:
        start -= 1
        total += len(messages[start].content)
    while start > 0 and messages[start].role != "user":
        start -= 1
    return start
