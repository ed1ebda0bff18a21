"""How many SQL statements the courier's hot paths send (the simulation and a busy city pay
~1–2 ms for each): a route read is one statement, a ping batch two (lock the courier; write the
fixes and read who carries what), and a stop event locks its rows in two reads that also find
the courier. Budgets, not wall-clock times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.auth.models import Role
from dispatch import cycle, pings, routes, stop_events
from dispatch.fleet_errors import NotACourier, StopNotFound
from dispatch.fleet_schemas import DeliveredIn, PingIn
from dispatch.pins import delivery_pin
from dispatch.route_models import RouteStop, StopKind
from tests.dispatch import fleet_world as fw
from tests.factories import create_user
from tests.sql_statements import statements


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


def _two_assigned(db_session, fleet):
    courier = fw.add_courier(db_session, fleet, units=8)
    oids = [fw.order(db_session, fleet, lat=52.524 + 0.001 * i, lon=13.404) for i in range(2)]
    for oid in oids:
        fw.pack(db_session, fleet, oid)
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.3)
    stops = {
        (s.order_id, s.kind): s.id for s in db_session.scalars(select(RouteStop).where(RouteStop.order_id.in_(oids)))
    }
    assert len(stops) == 4
    db_session.flush()
    return fleet.users[courier.id].id, oids, stops


def test_the_route_is_one_statement_with_the_same_answer(db_session, fleet) -> None:
    user_id, _oids, stops = _two_assigned(db_session, fleet)
    with statements(db_session) as seen:
        route = routes.my_route(db_session, user_id=user_id)
    assert len(seen) == 1
    assert {s.id for s in route.stops} == set(stops.values())
    assert [s.seq for s in route.stops] == sorted(s.seq for s in route.stops)
    assert route.version >= 1
    assert route.status.value == "on_route"
    # Each stop with its order's assignment: confirmed offers; a proof policy on drop-offs only.
    assert {s.offer.value for s in route.stops} == {"confirmed"}
    assert all((s.pod_policy is not None) == (s.kind is StopKind.dropoff) for s in route.stops)


def test_stop_events_and_a_ping_batch_stay_within_their_budgets(db_session, fleet) -> None:
    user_id, oids, stops = _two_assigned(db_session, fleet)
    budgets: dict[str, int] = {}
    for oid in oids:
        pickup = stops[(oid, StopKind.pickup)]
        with statements(db_session) as seen:
            stop_events.arrive(db_session, user_id=user_id, stop_id=pickup)
        budgets["arrive"] = len(seen)
        with statements(db_session) as seen:
            stop_events.picked_up(db_session, user_id=user_id, stop_id=pickup, bags=1)
        budgets["picked_up"] = len(seen)
    now = clock.now()
    fixes = [
        PingIn(
            lat=52.52 + 0.0001 * k, lon=13.405, accuracy_m=5, speed_mps=4, heading=10, ts=now + timedelta(seconds=1 + k)
        )
        for k in range(8)
    ]
    with statements(db_session) as seen:
        result = pings.record(db_session, user_id=user_id, pings=fixes)
    budgets["pings"] = len(seen)
    assert result.accepted == 8
    assert sum("courier_positions" in s for s in seen) == 1  # the 8 fixes in one INSERT
    assert sum("FROM orders" in s for s in seen) == 1  # carried orders and their stops: one read
    dropoff = stops[(oids[0], StopKind.dropoff)]
    with statements(db_session) as seen:
        stop_events.delivered(
            db_session, user_id=user_id, stop_id=dropoff, proof=DeliveredIn(pin=delivery_pin(oids[0]))
        )
    budgets["delivered"] = len(seen)
    # order with its courier, stop+assignment, flush (outbox, stop); picked_up adds the parts
    # read and the order's UPDATE; delivered adds the payment capture and the assignment's DELETE.
    assert budgets["arrive"] <= 4, budgets
    assert budgets["picked_up"] <= 6, budgets
    assert budgets["pings"] <= 2, budgets
    assert budgets["delivered"] <= 9, budgets


def test_a_ping_keeps_a_courier_loaded_in_the_same_transaction_in_step_with_the_row(db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    user_id = fleet.users[courier.id].id
    at = clock.now() + timedelta(seconds=5)
    pings.record(db_session, user_id=user_id, pings=[PingIn(lat=52.5201, lon=13.4051, accuracy_m=5, ts=at)])
    # Written by SQL, not through the object: the object still tells what the row holds.
    assert (courier.last_lat, courier.last_lon, courier.last_seen_at) == (52.5201, 13.4051, at)
    db_session.expire(courier)
    assert (courier.last_lat, courier.last_lon, courier.last_seen_at) == (52.5201, 13.4051, at)


def test_users_without_a_courier_profile_are_told_so_by_pings_and_stop_events(db_session, fleet) -> None:
    _user_id, _oids, stops = _two_assigned(db_session, fleet)
    stranger = create_user(db_session, role=Role.courier)
    fix = PingIn(lat=52.52, lon=13.405, accuracy_m=5, ts=clock.now())
    with pytest.raises(NotACourier):
        pings.record(db_session, user_id=stranger.id, pings=[fix])
    with pytest.raises(NotACourier):
        stop_events.arrive(db_session, user_id=stranger.id, stop_id=next(iter(stops.values())))


def test_another_couriers_stop_is_not_found(db_session, fleet) -> None:
    _user_id, _oids, stops = _two_assigned(db_session, fleet)
    other = fw.add_courier(db_session, fleet)
    with pytest.raises(StopNotFound):
        stop_events.arrive(db_session, user_id=fleet.users[other.id].id, stop_id=next(iter(stops.values())))
