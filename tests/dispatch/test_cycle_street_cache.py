"""Consecutive dispatch cycles on streets plan exactly what they planned before the street graph
remembered its weights: the same inputs give the same assignments, stops (order, sequence,
planned times) and routes, cycle after cycle, whether the matrices come from the cache or are
computed afresh."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from core import clock
from dispatch import cycle
from dispatch.fleet_models import Courier
from dispatch.models import Order, OrderStatus
from dispatch.route_models import CourierRoute, OrderAssignment, RouteStop
from routing.street_graph import StreetGraph
from routing.synthetic_city import synthetic_city
from tests.dispatch import fleet_world as fw

DOORS = [(52.525, 13.40), (52.519, 13.415), (52.512, 13.405), (52.528, 13.41), (52.515, 13.398), (52.521, 13.42)]
MOVES = [(0.0008, -0.0011), (-0.0006, 0.0009), (0.0, 0.0)]  # the third courier waits where they are


@pytest.fixture(scope="module")
def city() -> Any:
    return synthetic_city(11, 4.0, center=(52.519, 13.407))


def _state(session: Any) -> dict[str, Any]:
    """Everything a cycle writes that a plan decides (stops by courier, order door and kind: row
    ids are new in each run)."""
    door = {
        oid: (lat, lon) for oid, lat, lon in session.execute(select(Order.id, Order.dropoff_lat, Order.dropoff_lon))
    }
    stops = session.execute(
        select(
            RouteStop.courier_id,
            RouteStop.order_id,
            RouteStop.kind,
            RouteStop.location_id,
            RouteStop.seq,
            RouteStop.planned_arrival_at,
            RouteStop.planned_departure_at,
        ).order_by(RouteStop.courier_id, RouteStop.seq)
    ).all()
    routes = session.execute(
        select(CourierRoute.courier_id, CourierRoute.version, CourierRoute.travel_s, CourierRoute.distance_m)
    ).all()
    assignments = session.execute(select(OrderAssignment.order_id, OrderAssignment.courier_id)).all()
    return {
        "stops": sorted((c, door[o], *rest) for c, o, *rest in stops),
        "routes": sorted(map(tuple, routes)),
        "assigned": sorted((door[o], c) for o, c in assignments),
    }


def _cycles(
    session: Any, fleet: fw.Fleet, couriers: list[Courier], graph: StreetGraph, start: datetime, cancelled: uuid.UUID
) -> list[dict[str, Any]]:
    """Three cycles 30 s apart on a stopped clock: couriers move (one waits), an order goes away.
    (Orders are not placed between cycles: their random ids would order them differently in each
    run, and greedy takes orders by id.)"""
    frozen = clock.FrozenClock(start)
    states = []
    with clock.use_clock(frozen):
        for n in range(3):
            if n == 2:
                session.execute(
                    update(Order)
                    .where(Order.id == cancelled)
                    .values(status=OrderStatus.cancelled, cancelled_at=clock.now())
                )
            if n:
                for courier, (north, east) in zip(couriers, MOVES, strict=True):
                    session.execute(
                        update(Courier)
                        .where(Courier.id == courier.id)
                        .values(last_lat=Courier.last_lat + north, last_lon=Courier.last_lon + east)
                    )
            result = cycle.run_zone(fleet.zone.id, scope=fw.scope_of(session), policy="greedy", travel=graph)
            assert not result.skipped
            states.append(_state(session))
            frozen.advance(30)
    return states


def test_cached_matrices_plan_the_same_cycles_as_fresh_ones(db_session, city) -> None:
    fleet = fw.build(db_session)
    couriers = [
        fw.add_courier(db_session, fleet, kind="bike", units=3, lat=52.520, lon=13.402),
        fw.add_courier(db_session, fleet, kind="scooter", units=3, lat=52.514, lon=13.410),
        fw.add_courier(db_session, fleet, kind="bike", units=3, lat=52.524, lon=13.414),
    ]
    orders = [fw.order(db_session, fleet, lat=lat, lon=lon) for lat, lon in DOORS]
    for oid in orders:
        fw.pack(db_session, fleet, oid)
    db_session.flush()
    start = clock.now()
    runs = {}
    for name, graph in (
        ("cached", StreetGraph(city, engine="hierarchy")),
        ("fresh", StreetGraph(city, engine="hierarchy", matrix_cache_nodes=0)),
    ):
        savepoint = db_session.begin_nested()
        runs[name] = _cycles(db_session, fleet, couriers, graph, start, orders[2])
        savepoint.rollback()
        db_session.expire_all()
        if name == "cached":
            # ≤ 11 points: the later cycles computed only the moved couriers' rows and columns,
            # not their whole matrices again (else this would prove nothing).
            assert graph._weight_caches["bike"].computed_pairs < 2 * 11**2
    assert runs["cached"] == runs["fresh"]
    last = runs["cached"][-1]
    # Every order planned, and the cancelled one's stops gone.
    assert {stop[1] for stop in last["stops"]} == set(DOORS) - {DOORS[2]}
    assert {r[0] for r in last["routes"] if r[1] > 0} == {
        c.id for c in couriers if any(s[0] == c.id for s in last["stops"])
    }
