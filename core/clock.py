"""The one place that reads the wall clock.

Everything asks `now()`; tests and the simulation swap the source with `use_clock(...)` so that
time-dependent rules (reservation expiry, ETAs, token expiry) are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

ClockSource = Callable[[], datetime]


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: ClockSource = _system_now


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    value = _source()
    if value.tzinfo is None:
        raise RuntimeError("clock sources must return timezone-aware datetimes")
    return value


def set_clock(source: ClockSource | None) -> None:
    """Replace the clock for the whole process (`None` restores the system clock)."""
    global _source
    _source = source or _system_now


@contextmanager
def use_clock(source: ClockSource) -> Iterator[None]:
    previous = _source
    set_clock(source)
    try:
        yield
    finally:
        set_clock(previous)


class FrozenClock:
    """A manually advanced clock for tests and virtual-time simulation."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start

    def __call__(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("value must be timezone-aware")
        self._now = value
