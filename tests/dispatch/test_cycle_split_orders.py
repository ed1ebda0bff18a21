"""Orders split over two stores are dispatched like any other: one courier collects both parts
(each not before it is packed) and then delivers them together; the order is picked up when
its last part is on board. Over two dispatch zones, exactly one zone plans it."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import select

from core.auth.models import Role
from dispatch import cycle, picking, repository, stop_events
from dispatch.config import Policy
from dispatch.fleet_models import DispatchZone, DispatchZoneLocation
from dispatch.models import Order, OrderStatus
from dispatch.route_models import DispatchExplanation, OrderAssignment, RouteStop, StopKind, StopStatus
from dispatch.schemas import PackIn, PickLineIn
from tests.dispatch import fleet_world as fw
from tests.factories import create_location, create_sku, create_user, place_order, stock

DOOR = (52.519, 13.407)


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


def _split_order(db_session, fleet: fw.Fleet) -> uuid.UUID:
    """An order of two SKUs that only one store each has: checkout splits it over both."""
    only = []
    for store in fleet.stores:
        sku = create_sku(db_session, price_minor=300)
        stock(db_session, store, sku, 50)
        only.append(sku)
    db_session.flush()
    body = place_order(db_session, customer=fleet.customer, lines=[(sku, 1) for sku in only], lat=DOOR[0], lon=DOOR[1])
    oid = uuid.UUID(body["id"])
    assert len(repository.fulfilments_of(db_session, [oid])) == 2
    return oid


def _pack_all(db_session, fleet: fw.Fleet, oid: uuid.UUID) -> None:
    lines = repository.lines_of(db_session, [oid])
    for f in repository.fulfilments_of(db_session, [oid]):
        staff = fleet.staff[f.location_id].id
        picking.start_picking(db_session, order_id=oid, location_id=f.location_id, actor_id=staff)
        for line in (x for x in lines if x.fulfilment_id == f.id):
            picking.pick_line(
                db_session,
                order_id=oid,
                line_no=line.line_no,
                location_id=f.location_id,
                data=PickLineIn(picked=line.qty),
                actor_id=staff,
            )
        picking.pack(
            db_session, order_id=oid, location_id=f.location_id, data=PackIn(bags=1, cold_chain=False), actor_id=staff
        )


def _run(db_session, fleet: fw.Fleet, policy: Policy = "vrp") -> cycle.CycleResult:
    return cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.5, policy=policy)


def _stops(db_session, oid: uuid.UUID) -> list[RouteStop]:
    return list(db_session.scalars(select(RouteStop).where(RouteStop.order_id == oid).order_by(RouteStop.seq)))


@pytest.mark.parametrize("policy", ["vrp", "greedy"])
def test_a_split_order_gets_one_courier_with_a_pickup_at_each_store(db_session, fleet, policy) -> None:
    # A courier next to each store: each would be nearest to "their" part.
    for store in fleet.stores:
        fw.add_courier(db_session, fleet, lat=store.lat, lon=store.lon)
    oid = _split_order(db_session, fleet)
    _pack_all(db_session, fleet, oid)
    _run(db_session, fleet, policy)

    stops = _stops(db_session, oid)
    assert {s.courier_id for s in stops} == {db_session.get(OrderAssignment, oid).courier_id}
    assert sorted((s.kind, s.location_id) for s in stops if s.kind is StopKind.pickup) == sorted(
        (StopKind.pickup, store.id) for store in fleet.stores
    )
    (drop,) = [s for s in stops if s.kind is StopKind.dropoff]
    assert all(s.seq < drop.seq for s in stops if s.kind is StopKind.pickup)
    assert drop.bags == 2
    assert db_session.get(Order, oid).status is OrderStatus.assigned
    why = db_session.scalars(select(DispatchExplanation).where(DispatchExplanation.order_id == oid)).one()
    assert "split order" in why.decision
    assert {p["location_id"] for p in why.details["pickups"]} == {str(s.id) for s in fleet.stores}


def test_a_split_order_is_picked_up_with_its_last_part_and_stays_on_its_courier(db_session, fleet) -> None:
    first = fw.add_courier(db_session, fleet)
    oid = _split_order(db_session, fleet)
    _pack_all(db_session, fleet, oid)
    _run(db_session, fleet)
    user = fleet.users[first.id]
    pickups = [s for s in _stops(db_session, oid) if s.kind is StopKind.pickup]

    stop_events.picked_up(db_session, user_id=user.id, stop_id=pickups[0].id, bags=1)
    assert db_session.get(Order, oid).status is OrderStatus.assigned  # one part still at its store
    # A courier appears right at the second store: the order (half on board) stays with the first.
    second_store = db_session.get(RouteStop, pickups[1].id).location_id
    store = next(s for s in fleet.stores if s.id == second_store)
    fw.add_courier(db_session, fleet, lat=store.lat, lon=store.lon)
    _run(db_session, fleet)
    assert db_session.get(OrderAssignment, oid).courier_id == first.id
    still_open = [s for s in _stops(db_session, oid) if s.status is StopStatus.pending]
    assert {(s.kind, s.location_id, s.courier_id) for s in still_open} == {
        (StopKind.pickup, second_store, first.id),
        (StopKind.dropoff, None, first.id),
    }

    stop_events.picked_up(db_session, user_id=user.id, stop_id=pickups[1].id, bags=1)
    assert db_session.get(Order, oid).status is OrderStatus.picked_up


def test_a_courier_going_offline_keeps_a_half_collected_split_order(db_session, fleet) -> None:
    from dispatch import couriers

    first = fw.add_courier(db_session, fleet)
    oid = _split_order(db_session, fleet)
    _pack_all(db_session, fleet, oid)
    _run(db_session, fleet)
    pickup = next(s for s in _stops(db_session, oid) if s.kind is StopKind.pickup)
    stop_events.picked_up(db_session, user_id=fleet.users[first.id].id, stop_id=pickup.id, bags=1)

    out = couriers.take_offline(db_session, courier_id=first.id, reason="phone died")
    assert out.on_board == [oid]
    fw.add_courier(db_session, fleet)
    _run(db_session, fleet)
    # Half of it is on the offline courier's bike: nobody else is sent to the stores for it.
    assert db_session.get(OrderAssignment, oid).courier_id == first.id
    assert not [s for s in _stops(db_session, oid) if s.status is StopStatus.pending and s.courier_id != first.id]


def _other_zone(db_session, fleet: fw.Fleet, store) -> fw.Fleet:
    """A second dispatch zone with one store of its own (and no couriers yet)."""
    zone = DispatchZone(code=f"Z-{uuid.uuid4().hex[:6]}", name="Friedrichshain")
    db_session.add(zone)
    db_session.flush()
    db_session.add(DispatchZoneLocation(location_id=store.id, zone_id=zone.id))
    fleet.staff[store.id] = create_user(db_session, role=Role.staff, location_id=store.id)
    return replace(fleet, zone=zone, stores=[store], couriers=[], users={})


@pytest.mark.parametrize("door_near", ["first zone", "second zone"])
def test_a_split_order_over_two_zones_is_planned_once_by_the_zone_of_the_store_nearest_the_door(
    db_session, fleet, door_near
) -> None:
    ours = fleet.stores[0]  # 52.522, 13.401
    theirs = create_location(db_session, lat=52.522, lon=13.421)
    second = _other_zone(db_session, fleet, theirs)
    couriers = {
        "first zone": fw.add_courier(db_session, fleet, lat=ours.lat, lon=ours.lon),
        "second zone": fw.add_courier(db_session, second, lat=theirs.lat, lon=theirs.lon),
    }
    only = [create_sku(db_session, price_minor=300) for _ in range(2)]
    stock(db_session, ours, only[0], 50)
    stock(db_session, theirs, only[1], 50)
    db_session.flush()
    door = (52.519, 13.403) if door_near == "first zone" else (52.519, 13.419)
    body = place_order(db_session, customer=fleet.customer, lines=[(sku, 1) for sku in only], lat=door[0], lon=door[1])
    oid = uuid.UUID(body["id"])
    assert {f.location_id for f in repository.fulfilments_of(db_session, [oid])} == {ours.id, theirs.id}
    _pack_all(db_session, fleet, oid)
    planner, bystander = (fleet, second) if door_near == "first zone" else (second, fleet)

    passed_by = cycle.run_zone(bystander.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.5)
    assert passed_by.orders == 0  # not even read: no explanation competes with the planner's
    assert db_session.get(OrderAssignment, oid) is None
    cycle.run_zone(planner.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.5)

    assert db_session.get(OrderAssignment, oid).courier_id == couriers[door_near].id
    stops = _stops(db_session, oid)
    assert {s.location_id for s in stops if s.kind is StopKind.pickup} == {ours.id, theirs.id}
    why = db_session.scalars(select(DispatchExplanation).where(DispatchExplanation.order_id == oid)).one()
    assert why.courier_id == couriers[door_near].id
