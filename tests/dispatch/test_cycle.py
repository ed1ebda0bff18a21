"""The dispatch cycle on a small zone: every packed order gets a courier, capacity holds, no order
is on two couriers, picked-up orders stay with their courier, an unchanged input changes nothing."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import delete, select, update

from dispatch import cycle
from dispatch.fleet_models import Courier, CourierStatus
from dispatch.models import Order, OrderFulfilment, OrderStatus
from dispatch.route_models import DispatchExplanation, DispatchRun, OrderAssignment, RouteStop, StopKind
from tests.dispatch import fleet_world as fw
from tests.sql_statements import statements

DOORS = [(52.525, 13.40), (52.519, 13.415), (52.512, 13.405), (52.528, 13.41), (52.515, 13.398), (52.521, 13.42)]


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


def _run(db_session, fleet, **kwargs) -> cycle.CycleResult:
    return cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.5, **kwargs)


def _assignments(db_session) -> dict[uuid.UUID, uuid.UUID]:
    return dict(db_session.execute(select(OrderAssignment.order_id, OrderAssignment.courier_id)).all())


def _packed_orders(db_session, fleet, n: int) -> list[uuid.UUID]:
    ids = []
    for lat, lon in DOORS[:n]:
        oid = fw.order(db_session, fleet, lat=lat, lon=lon)
        fw.pack(db_session, fleet, oid)
        ids.append(oid)
    return ids


@pytest.mark.parametrize("policy", ["vrp", "greedy"])
def test_every_packed_order_gets_one_courier_within_capacity(db_session, fleet, policy) -> None:
    couriers = [fw.add_courier(db_session, fleet, units=2) for _ in range(3)]
    orders = _packed_orders(db_session, fleet, 6)
    result = _run(db_session, fleet, policy=policy)
    assert not result.skipped
    assert (result.orders, result.unassigned) == (6, 0)
    owner = _assignments(db_session)
    assert set(owner) == set(orders)
    assert all(c in {c.id for c in couriers} for c in owner.values())
    for oid in orders:
        assert db_session.get(Order, oid, populate_existing=True).status is OrderStatus.assigned
    stops = db_session.scalars(select(RouteStop)).all()
    # One pickup and one drop-off per order, each on the order's courier.
    assert Counter((s.order_id, s.kind) for s in stops) == Counter(
        {(o, k): 1 for o in orders for k in (StopKind.pickup, StopKind.dropoff)}
    )
    assert all(owner[s.order_id] == s.courier_id for s in stops)
    # Capacity 2 bags: the load along each route never exceeds it.
    for courier in couriers:
        load = peak = 0
        for s in sorted((s for s in stops if s.courier_id == courier.id), key=lambda s: s.seq):
            load += 1 if s.kind is StopKind.pickup else -1
            peak = max(peak, load)
        assert peak <= 2
    run = db_session.scalars(select(DispatchRun)).one()
    assert (run.policy, run.assigned, run.orders) == (policy, 6, 6)
    explanations = db_session.scalars(select(DispatchExplanation)).all()
    assert {e.order_id for e in explanations} == set(orders)
    assert all(e.courier_id == owner[e.order_id] and e.eta_at is not None for e in explanations)
    # Staff now know when each courier comes.
    for oid in orders:
        (f,) = db_session.scalars(select(OrderFulfilment).where(OrderFulfilment.order_id == oid)).all()
        pickup = next(s for s in stops if s.order_id == oid and s.kind is StopKind.pickup)
        assert f.courier_expected_at == pickup.planned_arrival_at


def test_rerunning_with_unchanged_input_changes_no_assignment(db_session, fleet) -> None:
    for _ in range(3):
        fw.add_courier(db_session, fleet)
    _packed_orders(db_session, fleet, 6)
    _run(db_session, fleet)
    first = _assignments(db_session)
    stop_ids = set(db_session.scalars(select(RouteStop.id)))
    second = _run(db_session, fleet)
    assert _assignments(db_session) == first
    assert (second.assigned, second.moved) == (0, 0)
    assert set(db_session.scalars(select(RouteStop.id))) == stop_ids  # stops updated in place


def test_an_order_picked_up_stays_with_its_courier_across_replans(db_session, fleet) -> None:
    from dispatch import stop_events

    first_courier = fw.add_courier(db_session, fleet)
    oid = _packed_orders(db_session, fleet, 1)[0]
    _run(db_session, fleet)
    pickup = db_session.scalars(
        select(RouteStop).where(RouteStop.order_id == oid, RouteStop.kind == StopKind.pickup)
    ).one()
    user = fleet.users[first_courier.id]
    stop_events.arrive(db_session, user_id=user.id, stop_id=pickup.id)
    stop_events.picked_up(db_session, user_id=user.id, stop_id=pickup.id, bags=1)
    # A closer courier turns up at the door; the order is on board and does not move.
    lat, lon = DOORS[0]
    fw.add_courier(db_session, fleet, lat=lat, lon=lon)
    _run(db_session, fleet)
    assert _assignments(db_session)[oid] == first_courier.id
    drop = db_session.scalars(
        select(RouteStop).where(RouteStop.order_id == oid, RouteStop.kind == StopKind.dropoff)
    ).one()
    assert drop.courier_id == first_courier.id


@pytest.mark.parametrize("policy", ["vrp", "greedy"])
def test_frozen_goods_only_go_to_a_courier_with_a_cold_box(db_session, fleet, policy) -> None:
    # The courier without a cold box is much closer: both policies (and the solver's greedy
    # fallback) must still pass them over.
    warm = fw.add_courier(db_session, fleet, cold_box=False, lat=52.522, lon=13.401)
    cold = fw.add_courier(db_session, fleet, cold_box=True, lat=52.50, lon=13.38)
    oid = fw.order(db_session, fleet, lat=52.523, lon=13.402, cold=True)
    fw.pack(db_session, fleet, oid)
    _run(db_session, fleet, policy=policy)
    assert _assignments(db_session)[oid] == cold.id
    explanation = db_session.scalars(select(DispatchExplanation)).one()
    assert explanation.details["next_best"]["courier_id"] == str(warm.id)
    assert "no room" in explanation.details["next_best"]["reason"]


def test_a_cycle_finding_the_zone_locked_is_skipped(db_session, fleet) -> None:
    from core.redis import get_redis

    fw.add_courier(db_session, fleet)
    _packed_orders(db_session, fleet, 1)
    lock = get_redis().lock(cycle.LOCK_KEY.format(zone_id=fleet.zone.id), timeout=10)
    assert lock.acquire(blocking=False)
    try:
        assert _run(db_session, fleet).skipped
        assert db_session.scalars(select(DispatchRun)).first() is None
    finally:
        lock.release()
    assert not _run(db_session, fleet).skipped


def test_courier_status_follows_the_route(db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    _packed_orders(db_session, fleet, 1)
    _run(db_session, fleet)
    assert db_session.get(Courier, courier.id, populate_existing=True).status is CourierStatus.on_route


def _statements_of_a_cycle(db_session, fleet) -> int:
    """SQL statements (an executemany counts once) that one cycle sends."""
    with statements(db_session) as seen:
        _run(db_session, fleet)
    return len(seen)


def test_a_cycle_sends_as_many_statements_for_six_orders_as_for_one(db_session, fleet) -> None:
    # Set-based writes: the statement count does not grow with the orders (a flush or INSERT per
    # order or stop made the 1,000-order cycle take seconds).
    fw.add_courier(db_session, fleet)
    fw.add_courier(db_session, fleet, lat=52.515, lon=13.41)
    _packed_orders(db_session, fleet, 1)
    one = _statements_of_a_cycle(db_session, fleet)
    db_session.execute(delete(RouteStop))
    db_session.execute(delete(OrderAssignment))
    db_session.execute(update(Order).values(status=OrderStatus.packed, assigned_at=None))
    for lat, lon in DOORS[1:]:
        fw.pack(db_session, fleet, fw.order(db_session, fleet, lat=lat, lon=lon))
    six = _statements_of_a_cycle(db_session, fleet)
    assert len(_assignments(db_session)) == 6
    assert six <= one
