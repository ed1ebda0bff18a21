"""Opening hours are local wall-clock times: validated strictly, and checked in the location's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stores.errors import InvalidOpeningHours, InvalidTimezone
from stores.hours import DAYS, is_open_at, parse_opening_hours, validate_timezone

WEEKDAYS = {"mon": [["08:00", "20:00"]], "sat": [["09:00", "13:00"], ["14:00", "18:00"]]}


def test_hours_are_normalised_to_all_seven_days_with_missing_days_closed() -> None:
    hours = parse_opening_hours(WEEKDAYS)
    assert list(hours) == list(DAYS)
    assert hours["mon"] == [["08:00", "20:00"]]
    assert hours["tue"] == []
    assert hours["sun"] == []


def test_no_hours_at_all_means_around_the_clock() -> None:
    assert parse_opening_hours({}) == {}
    assert is_open_at({}, "Europe/Berlin", datetime(2026, 1, 4, 3, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("hours", "fragment"),
    [
        ({"Mon": []}, "Unknown day"),
        ({"mon": [["07:00", "06:00"]]}, "closes before it opens"),
        ({"mon": [["07:00", "12:00"], ["11:59", "13:00"]]}, "must not overlap"),
        ({"mon": [["24:00", "24:00"]]}, "closes before it opens"),
        ({"mon": [["07:00", "24:01"]]}, "HH:MM"),
        ({"mon": [[" 07:00", "12:00"]]}, "HH:MM"),
        ({"mon": [["07:00", "12:00", "13:00"]]}, "HH:MM"),
        ({"mon": None}, "expected a list"),
        ("08:00-20:00", "object keyed by day"),
    ],
)
def test_malformed_hours_say_what_is_wrong(hours, fragment: str) -> None:
    with pytest.raises(InvalidOpeningHours, match=fragment) as raised:
        parse_opening_hours(hours)
    assert raised.value.code == "invalid_opening_hours"
    assert raised.value.status_code == 422


def test_open_at_uses_the_local_time_of_the_location() -> None:
    hours = parse_opening_hours(WEEKDAYS)
    # Monday 2026-01-05, 07:30 UTC is 08:30 in Berlin (CET, UTC+1) but 07:30 in Lisbon.
    monday_0730_utc = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    assert is_open_at(hours, "Europe/Berlin", monday_0730_utc)
    assert not is_open_at(hours, "Europe/Lisbon", monday_0730_utc)


def test_open_at_respects_daylight_saving_time() -> None:
    hours = parse_opening_hours(WEEKDAYS)
    # Monday 2026-07-06: Berlin is UTC+2, so 06:30 UTC is 08:30 local; in winter it would be 07:30.
    assert is_open_at(hours, "Europe/Berlin", datetime(2026, 7, 6, 6, 30, tzinfo=UTC))
    assert not is_open_at(hours, "Europe/Berlin", datetime(2026, 1, 5, 6, 30, tzinfo=UTC))


def test_open_at_treats_the_closing_minute_as_closed_and_gaps_as_closed() -> None:
    hours = parse_opening_hours(WEEKDAYS)
    saturday = datetime(2026, 1, 10, tzinfo=UTC)  # a Saturday; UTC hours compared directly
    assert is_open_at(hours, "UTC", saturday.replace(hour=9))
    assert not is_open_at(hours, "UTC", saturday.replace(hour=13, minute=30))
    assert not is_open_at(hours, "UTC", saturday.replace(hour=18))
    assert not is_open_at(hours, "UTC", saturday.replace(day=11, hour=12))  # Sunday: closed


def test_an_interval_may_run_until_midnight() -> None:
    hours = parse_opening_hours({"fri": [["18:00", "24:00"]], "sat": [["00:00", "02:00"]]})
    assert is_open_at(hours, "UTC", datetime(2026, 1, 9, 23, 59, tzinfo=UTC))
    assert is_open_at(hours, "UTC", datetime(2026, 1, 10, 1, 0, tzinfo=UTC))


def test_a_naive_instant_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open_at(parse_opening_hours(WEEKDAYS), "UTC", datetime(2026, 1, 5, 8, 0))  # noqa: DTZ001


def test_time_zones_are_iana_names() -> None:
    assert validate_timezone("America/Mexico_City") == "America/Mexico_City"
    for bad in ("Berlin", "/etc/localtime", "UTC+2", ""):
        with pytest.raises(InvalidTimezone):
            validate_timezone(bad)
