"""The rota: couriers are based where the orders are, pickers rostered for the peak."""

import random
import uuid
from dataclasses import dataclass

import pytest

from simulations import rota
from simulations.scenarios import SCENARIOS, Scenario, demand_weight


@dataclass(frozen=True)
class Shop:
    id: uuid.UUID
    code: str


SHOPS = [Shop(uuid.UUID(int=n + 1), f"S{n}") for n in range(5)]


def test_shares_sum_to_one_and_the_same_seed_draws_the_same_city() -> None:
    a = rota.demand_shares(SHOPS, random.Random(3))
    assert sum(a.values()) == pytest.approx(1.0)
    assert a == rota.demand_shares(SHOPS, random.Random(3))
    assert a != rota.demand_shares(SHOPS, random.Random(4))


def test_couriers_are_based_in_proportion_to_the_orders() -> None:
    shares = dict(zip((s.id for s in SHOPS), (0.4, 0.3, 0.15, 0.1, 0.05), strict=True))
    homes = rota.courier_homes(SHOPS, shares, 40)
    counts = {s.code: sum(1 for h in homes if h is s) for s in SHOPS}
    assert counts == {"S0": 16, "S1": 12, "S2": 6, "S3": 4, "S4": 2}


def test_a_small_fleet_starts_at_the_busiest_stores() -> None:
    shares = dict(zip((s.id for s in SHOPS), (0.05, 0.1, 0.5, 0.15, 0.2), strict=True))
    assert [h.code for h in rota.courier_homes(SHOPS, shares, 3)] == ["S2", "S4", "S2"]


def test_busier_stores_roster_more_pickers_within_bounds() -> None:
    lunch = SCENARIOS["lunch_peak"]
    quiet = rota.pickers_needed(lunch, 0.01, seconds_per_line=20, pack_seconds=40)
    busy = rota.pickers_needed(lunch, 0.2, seconds_per_line=20, pack_seconds=40)
    assert 1 <= quiet < busy <= rota.MAX_STAFF
    # 3,000 orders over the lunch curve: the busiest hour is well above the average 1,500.
    assert rota.peak_orders_per_hour(lunch, 1.0) > 1500


def _staffed(windows: list[tuple[float, float]], at_s: float) -> int:
    return sum(1 for start, end in windows if start <= at_s < end)


def test_a_short_run_has_everyone_on_shift_from_start_to_wind_down() -> None:
    lunch = SCENARIOS["lunch_peak"]
    homes = rota.courier_homes(SHOPS, rota.demand_shares(SHOPS, random.Random(1)), 12)
    windows = rota.shifts(lunch, homes, random.Random(1))
    assert windows == [(0.0, lunch.duration_s + rota.WIND_DOWN_S)] * 12


def _needed(day: Scenario, at_s: float) -> float:
    """Couriers that carry the orders placed around `at_s` at the rota's rate."""
    run_h = day.duration_s / 3600
    mean = sum(demand_weight(day.start_hour_utc + (m + 0.5) / 60) for m in range(int(run_h * 60))) / (run_h * 60)
    per_hour = day.orders / run_h * demand_weight(day.start_hour_utc + at_s / 3600) / mean
    return per_hour / rota.ORDERS_PER_COURIER_HOUR


def test_a_days_rota_asks_for_the_hours_its_orders_need_and_staffs_the_peaks() -> None:
    """A fleet big enough: the hours carry the day's orders at the rate (plus the wind-down), and
    the lunch and evening peaks get most of the couriers they need, the evening at least as many
    as lunch."""
    day = SCENARIOS["city_day"]
    homes = [SHOPS[0]] * 1400
    windows = rota.shifts(day, homes, random.Random(5))
    hours = [(end - start) / 3600 for start, end in windows]
    assert min(hours) >= rota.SHIFT_HOURS[0]
    assert max(hours) <= rota.SHIFT_HOURS[1]
    assert all(start >= 0 and end <= day.duration_s + rota.WIND_DOWN_S for start, end in windows)
    carry_h = day.orders / rota.ORDERS_PER_COURIER_HOUR
    assert carry_h <= sum(hours) <= 1.15 * carry_h
    lunch, evening, trough = 4.5 * 3600, 10.5 * 3600, 7.5 * 3600  # 12:30, 18:30, 15:30 in Berlin
    for peak in (lunch, evening):
        assert 0.8 * _needed(day, peak) <= _staffed(windows, peak) <= 1.1 * _needed(day, peak)
    assert _staffed(windows, evening) >= _staffed(windows, lunch)
    assert _staffed(windows, evening) > 2 * _staffed(windows, trough)


def test_a_fleet_too_small_for_the_day_works_long_shifts_where_the_demand_is() -> None:
    day = SCENARIOS["city_day"]
    windows = rota.shifts(day, [SHOPS[0]] * 400, random.Random(5))
    hours = sum(end - start for start, end in windows) / 3600
    assert hours > 400 * sum(rota.SHIFT_HOURS) / 2  # longer than the mean shift
    assert hours < day.orders / rota.ORDERS_PER_COURIER_HOUR
    assert _staffed(windows, 10.5 * 3600) > 1.5 * _staffed(windows, 7.5 * 3600)


def test_each_store_opens_the_day_and_the_same_seed_plans_the_same_rota() -> None:
    day = SCENARIOS["city_day"]
    homes = rota.courier_homes(SHOPS, rota.demand_shares(SHOPS, random.Random(2)), 60)
    windows = rota.shifts(day, homes, random.Random(7))
    assert windows == rota.shifts(day, homes, random.Random(7))
    for shop in SHOPS:
        mine = [w for h, w in zip(homes, windows, strict=True) if h is shop]
        assert mine[0][0] == 0.0  # the first courier based there opens
        assert any(end == day.duration_s + rota.WIND_DOWN_S for _, end in mine)  # and someone closes
