"""Opening hours and time zones: validation, and "is this location open at that instant?".

Hours are local wall-clock times in the location's own time zone, so that "08:00" stays 08:00
across daylight-saving changes. Format: `{"mon": [["08:00", "13:00"], ["14:00", "22:00"]], …}`.
An empty mapping means no hours are kept (open around the clock, e.g. a warehouse or a 24/7 dark
store); once any day is given, a day left out is closed. An interval ends at most at "24:00";
past midnight it continues as the next day's ["00:00", …] interval.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from stores.errors import InvalidOpeningHours, InvalidTimezone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 6
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")

OpeningHours = dict[str, list[list[str]]]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(name: str) -> str:
    """An IANA zone name ("Europe/Berlin"). Checked against the installed database rather than
    by trying `ZoneInfo(name)`, which would also accept file-system-like keys."""
    if name not in _known_zones():
        raise InvalidTimezone(f"Unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'.", timezone=name)
    return name


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _parse_day(day: str, raw: Any) -> list[list[str]]:
    if not isinstance(raw, list):
        raise InvalidOpeningHours(f"{day}: expected a list of [open, close] intervals.", day=day)
    if len(raw) > MAX_INTERVALS_PER_DAY:
        raise InvalidOpeningHours(f"{day}: at most {MAX_INTERVALS_PER_DAY} intervals a day.", day=day)
    intervals: list[list[str]] = []
    previous_end = -1
    for interval in raw:
        if (
            not isinstance(interval, list)
            or len(interval) != 2
            or not all(isinstance(t, str) and _TIME.fullmatch(t) for t in interval)
        ):
            raise InvalidOpeningHours(
                f'{day}: each interval is ["HH:MM", "HH:MM"] (00:00 to 24:00), got {interval!r:.60}.', day=day
            )
        start, end = _minutes(interval[0]), _minutes(interval[1])
        if start >= end:
            raise InvalidOpeningHours(
                f"{day}: {interval[0]}–{interval[1]} closes before it opens; split an interval that passes midnight"
                ' into this day\'s ["…", "24:00"] and the next day\'s ["00:00", "…"].',
                day=day,
            )
        if start < previous_end:
            raise InvalidOpeningHours(
                f"{day}: intervals must be in order and must not overlap ({interval[0]} starts before the previous"
                " interval ends).",
                day=day,
            )
        previous_end = end
        intervals.append([interval[0], interval[1]])
    return intervals


def parse_opening_hours(raw: Any) -> OpeningHours:
    """Validate hours and return them normalised: `{}`, or all seven days in order."""
    if not isinstance(raw, dict):
        raise InvalidOpeningHours("Opening hours are an object keyed by day: mon, tue, wed, thu, fri, sat, sun.")
    unknown = sorted(str(key) for key in raw if key not in DAYS)
    if unknown:
        raise InvalidOpeningHours(f"Unknown day(s) {unknown}; use {', '.join(DAYS)}.", days=unknown)
    if not raw:
        return {}
    return {day: _parse_day(day, raw.get(day, [])) for day in DAYS}


def is_open_at(opening_hours: OpeningHours, timezone: str, at: datetime) -> bool:
    """Whether the location takes work at instant `at` (timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    if not opening_hours:
        return True
    local = at.astimezone(ZoneInfo(timezone))
    minute_of_day = local.hour * 60 + local.minute
    for start, end in opening_hours.get(DAYS[local.weekday()], []):
        if _minutes(start) <= minute_of_day < _minutes(end):
            return True
    return False
