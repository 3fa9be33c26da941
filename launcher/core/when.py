"""How a person reads a timestamp in a list: "Today 14:02", "Yesterday", "12 Mar", "12 Mar 2024".

Pure (no Qt, no clock of its own): the caller passes "now", so the rule is
tested with fixed dates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_date(when: datetime, now: datetime) -> str:
    """A short, local-time label for `when` as seen at `now` (both naive local times)."""
    day = when.date()
    today = now.date()
    if day == today:
        return f"Today {when:%H:%M}"
    if day == today - timedelta(days=1):
        return "Yesterday"
    label = f"{day.day} {MONTHS[day.month - 1]}"
    return label if day.year == today.year else f"{label} {day.year}"


def short_date_from_timestamp(timestamp: float, now: float) -> str:
    """`short_date` for Unix timestamps, in the local time zone."""
    return short_date(datetime.fromtimestamp(timestamp), datetime.fromtimestamp(now))
