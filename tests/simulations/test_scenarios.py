"""Scenarios: scaling keeps a scenario's shape; the fleet can be sized on its own."""

import pytest

from simulations.scenarios import SCENARIOS


def test_scaling_shrinks_orders_and_couriers_together() -> None:
    full = SCENARIOS["lunch_peak"]
    fifth = full.scaled(0.2)
    assert (fifth.orders, fifth.couriers) == (600, 24)
    assert fifth.duration_s == full.duration_s


def test_a_shorter_run_keeps_the_order_rate() -> None:
    half = SCENARIOS["lunch_peak"].scaled(1.0, duration_s=3600)
    assert half.orders == 1500
    assert half.couriers == 120


def test_the_fleet_can_be_sized_without_touching_demand() -> None:
    bigger = SCENARIOS["storm"].with_fleet(250)
    assert bigger.couriers == 250
    assert bigger.orders == SCENARIOS["storm"].orders
    assert bigger.storm_at_s == SCENARIOS["storm"].storm_at_s


@pytest.mark.parametrize("couriers", [0, 5001])
def test_a_fleet_out_of_range_is_refused(couriers: int) -> None:
    with pytest.raises(ValueError, match="couriers"):
        SCENARIOS["lunch_peak"].with_fleet(couriers)
