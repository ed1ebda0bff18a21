"""The rota: couriers are based where the orders are, pickers rostered for the peak."""

import random
import uuid
from dataclasses import dataclass

import pytest

from simulations import rota
from simulations.scenarios import SCENARIOS


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
