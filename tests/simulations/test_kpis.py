"""KPIs on a small hand-made run: every figure checked against arithmetic done by hand."""

from __future__ import annotations

import uuid

import pytest

from simulations.kpis import CONTRACT_KEYS, compute, percentile, seeded_part
from simulations.records import CourierRecord, CycleRecord, OrderRecord, Records


def _order(placed_s: float, delivered_s: float | None, promised_end_s: float, **extra) -> OrderRecord:
    locations = extra.pop("locations", 1)
    return OrderRecord(uuid.uuid4(), placed_s, promised_end_s, 52.5, 13.4, locations, delivered_s=delivered_s, **extra)


@pytest.fixture
def records() -> Records:
    r = Records()
    orders = [
        _order(0, 600, 1800),  # 10 min, on time
        _order(60, 1260, 1800),  # 20 min, on time
        _order(120, 2520, 1800),  # 40 min, 12 min late
        _order(180, None, 1800, cancelled=True),
        _order(240, None, 2000, locations=2),  # split, never delivered
        _order(9000, 9600, 9900),  # placed after the window closed: not counted
    ]
    r.orders = {o.order_id: o for o in orders}
    a, b = uuid.uuid4(), uuid.uuid4()
    r.couriers = {a: CourierRecord(a, on_shift_s=3600, busy_s=1800, metres=6000), b: CourierRecord(b, 3600, 0, 3000)}
    r.cycles = [
        CycleRecord(zone_id=uuid.uuid4(), at_s=i * 30, cycle_s=float(i), solve_s=0.5, orders=1, assigned=1)
        for i in range(1, 101)
    ]
    r.lost_sales = 4
    r.late_pick_waits, r.late_pick_wait_s = 2, 240
    return r


def test_kpis_of_a_hand_made_run(records) -> None:
    kpis = compute(records, placed_before_s=7200)
    # Delivered in window: 10, 20, 40 minutes; linear percentiles: p50 = 20, p90 = 20 + 0.8 × 20 = 36.
    assert kpis["click_to_door_p50_min"] == 20.0
    assert kpis["click_to_door_p90_min"] == 36.0
    assert kpis["on_time_pct"] == pytest.approx(66.67)
    # 3 deliveries over 2 courier-hours; 9 km over 3 deliveries; 0.5 h busy of 2 h.
    assert kpis["orders_per_courier_hour"] == 1.5
    assert kpis["km_per_order"] == 3.0
    assert kpis["courier_utilisation_pct"] == 25.0
    assert kpis["stockouts"] == 4
    assert kpis["split_orders"] == 1
    assert (kpis["delivered"], kpis["cancelled"], kpis["undelivered"]) == (3, 1, 1)
    # Cycle times 1..100 s: p99 = 99 + 0.01 × 1.
    assert kpis["dispatch_cycle_p99_s"] == pytest.approx(99.01)
    assert kpis["late_pick_wait_avg_min"] == 2.0
    assert set(CONTRACT_KEYS) <= set(kpis)


def test_an_empty_run_has_zero_kpis_not_errors() -> None:
    kpis = compute(Records(), placed_before_s=3600)
    assert kpis["click_to_door_p90_min"] == 0.0
    assert kpis["orders_per_courier_hour"] == 0.0
    assert percentile([], 50) == 0.0


def test_the_seeded_part_leaves_out_wall_clock_figures(records) -> None:
    part = seeded_part(compute(records, placed_before_s=7200))
    assert "dispatch_cycle_p99_s" not in part
    assert part["on_time_pct"] == pytest.approx(66.67)


def test_click_to_door_splits_into_its_stages() -> None:
    r = Records()
    # (placed, picking started, packed, picked up, delivered) in seconds.
    timelines = [(0, 60, 360, 480, 1080), (0, 120, 540, 600, 1500), (0, 300, 600, 1200, 1800)]
    for placed, started, packed, picked_up, delivered in timelines:
        order = _order(placed, delivered, 3600, picking_started_s=started, packed_s=packed, picked_up_s=picked_up)
        r.orders[order.order_id] = order
    never = _order(0, None, 3600, picking_started_s=30, packed_s=90)  # not delivered: no stage counts
    r.orders[never.order_id] = never
    kpis = compute(r, placed_before_s=7200)
    # Queues 1, 2, 5 min; picking 5, 7, 5; courier waits 2, 1, 10; rides 10, 15, 10.
    assert (kpis["stage_store_queue_p50_min"], kpis["stage_store_queue_p90_min"]) == (2.0, 4.4)
    assert (kpis["stage_picking_p50_min"], kpis["stage_picking_p90_min"]) == (5.0, 6.6)
    assert (kpis["stage_courier_wait_p50_min"], kpis["stage_courier_wait_p90_min"]) == (2.0, 8.4)
    assert (kpis["stage_ride_p50_min"], kpis["stage_ride_p90_min"]) == (10.0, 14.0)
