"""An order the plan no longer carries goes back to `packed` (no assignment, no stops, an
explanation saying why), unless an operator pinned it to its courier; re-running the cycle with
nothing changed then changes nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, select, update

from core import clock
from core.events import OutboxEvent
from dispatch import cycle, stop_events
from dispatch.fleet_models import Courier, CourierStatus, Shift, ShiftStatus
from dispatch.models import Order, OrderStatus
from dispatch.route_models import DispatchExplanation, DispatchRun, OrderAssignment, RouteStop, StopKind
from tests.dispatch import fleet_world as fw

DOOR = (52.525, 13.40)


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


def _run(db_session, fleet, **kwargs) -> cycle.CycleResult:
    return cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.5, **kwargs)


def _status(db_session, oid: uuid.UUID) -> OrderStatus:
    order = db_session.get(Order, oid, populate_existing=True)
    assert order is not None
    status: OrderStatus = order.status
    return status


def _assigned_order(db_session, fleet, policy: str) -> tuple[uuid.UUID, uuid.UUID]:
    courier = fw.add_courier(db_session, fleet)
    oid = fw.order(db_session, fleet, lat=DOOR[0], lon=DOOR[1])
    fw.pack(db_session, fleet, oid)
    _run(db_session, fleet, policy=policy)
    assert _status(db_session, oid) is OrderStatus.assigned
    assert db_session.scalars(select(OrderAssignment.courier_id)).all() == [courier.id]
    return oid, courier.id


def _no_room(db_session, courier_id: uuid.UUID) -> None:
    """The courier's shift is cut short: it ends now, so no delivery fits in it any more."""
    db_session.execute(
        update(Shift)
        .where(Shift.courier_id == courier_id, Shift.status == ShiftStatus.active)
        .values(planned_end=clock.now())
    )


def _events(db_session, oid: uuid.UUID, topic: str) -> list[OutboxEvent]:
    return [
        e
        for e in db_session.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic)).all()
        if e.payload.get("order_id") == str(oid)
    ]


@pytest.mark.parametrize("policy", ["vrp", "greedy"])
def test_an_order_the_plan_drops_goes_back_to_packed(db_session, fleet, policy) -> None:
    oid, courier_id = _assigned_order(db_session, fleet, policy)
    _no_room(db_session, courier_id)

    result = _run(db_session, fleet, policy=policy)

    assert result.unassigned == 1
    assert _status(db_session, oid) is OrderStatus.packed
    assert db_session.scalars(select(OrderAssignment)).all() == []
    assert db_session.scalars(select(RouteStop).where(RouteStop.order_id == oid)).all() == []
    (back,) = _events(db_session, oid, "order.packed")[-1:]
    assert (back.payload["previous"], back.payload["status"]) == ("assigned", "packed")
    assert back.payload["reason"]
    run = db_session.scalars(select(DispatchRun).where(DispatchRun.id == result.run_id)).one()
    (why,) = db_session.scalars(select(DispatchExplanation).where(DispatchExplanation.run_id == run.id)).all()
    assert (why.order_id, why.courier_id) == (oid, None)
    assert why.decision.startswith("Not assigned")
    assert back.payload["reason"] == why.details["reason"]

    # Stable: nothing changed, so the next cycle moves nothing and emits nothing.
    events_before = db_session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1))
    again = _run(db_session, fleet, policy=policy)
    assert (again.assigned, again.moved, again.unassigned) == (0, 0, 1)
    assert _status(db_session, oid) is OrderStatus.packed
    assert db_session.scalars(select(OrderAssignment)).all() == []
    later = db_session.scalars(select(OutboxEvent).where(OutboxEvent.id > events_before)).all()
    assert [e for e in later if e.payload.get("order_id") == str(oid)] == []


def test_a_dropped_order_is_assigned_again_when_a_courier_can_take_it(db_session, fleet) -> None:
    oid, courier_id = _assigned_order(db_session, fleet, "vrp")
    _no_room(db_session, courier_id)
    _run(db_session, fleet)
    assert _status(db_session, oid) is OrderStatus.packed
    other = fw.add_courier(db_session, fleet)
    _run(db_session, fleet)
    assert _status(db_session, oid) is OrderStatus.assigned
    assert db_session.scalars(select(OrderAssignment.courier_id)).all() == [other.id]


def test_an_order_whose_courier_went_offline_goes_back_to_packed(db_session, fleet) -> None:
    oid, courier_id = _assigned_order(db_session, fleet, "vrp")
    db_session.execute(update(Courier).where(Courier.id == courier_id).values(status=CourierStatus.offline))
    _run(db_session, fleet)
    assert _status(db_session, oid) is OrderStatus.packed
    assert db_session.scalars(select(OrderAssignment)).all() == []
    # The off-shift courier's route no longer sends them to the store or the door.
    assert db_session.scalars(select(RouteStop).where(RouteStop.order_id == oid)).all() == []
    why = db_session.scalars(select(DispatchExplanation).where(DispatchExplanation.order_id == oid)).all()[-1]
    assert why.courier_id is None
    assert why.decision.startswith("Not assigned")


def test_a_pinned_order_keeps_its_courier_when_the_plan_drops_it(db_session, fleet) -> None:
    oid, courier_id = _assigned_order(db_session, fleet, "vrp")
    db_session.execute(update(OrderAssignment).where(OrderAssignment.order_id == oid).values(pinned=True))
    stops = set(db_session.scalars(select(RouteStop.id).where(RouteStop.order_id == oid)))
    _no_room(db_session, courier_id)
    _run(db_session, fleet)
    assert _status(db_session, oid) is OrderStatus.assigned
    assert db_session.scalars(select(OrderAssignment.courier_id)).all() == [courier_id]
    assert set(db_session.scalars(select(RouteStop.id).where(RouteStop.order_id == oid))) == stops
    assert len(stops) == 2
    assert _events(db_session, oid, "order.packed")[-1].payload.get("previous") != "assigned"


def _pickup_stop(db_session, oid: uuid.UUID) -> RouteStop:
    stop: RouteStop = db_session.scalars(
        select(RouteStop).where(RouteStop.order_id == oid, RouteStop.kind == StopKind.pickup)
    ).one()
    return stop


def test_an_order_on_board_keeps_its_courier_when_the_plan_cannot_fit_it(db_session, fleet) -> None:
    oid, courier_id = _assigned_order(db_session, fleet, "vrp")
    user = fleet.users[courier_id]
    pickup = _pickup_stop(db_session, oid)
    stop_events.arrive(db_session, user_id=user.id, stop_id=pickup.id)
    stop_events.picked_up(db_session, user_id=user.id, stop_id=pickup.id, bags=1)
    _no_room(db_session, courier_id)
    _run(db_session, fleet)
    assert _status(db_session, oid) is OrderStatus.picked_up
    assert db_session.scalars(select(OrderAssignment.courier_id)).all() == [courier_id]
    drop = db_session.scalars(
        select(RouteStop).where(RouteStop.order_id == oid, RouteStop.kind == StopKind.dropoff)
    ).one()
    assert drop.courier_id == courier_id


@pytest.mark.parametrize("policy", ["vrp", "greedy"])
def test_goods_on_board_past_the_shift_end_do_not_stop_the_rest_of_the_zone(db_session, fleet, policy) -> None:
    # The courier's shift ends before they can reach the door: they still deliver (the route runs
    # over), and the zone's other orders are planned as usual instead of the whole cycle failing.
    oid, courier_id = _assigned_order(db_session, fleet, policy)
    user = fleet.users[courier_id]
    pickup = _pickup_stop(db_session, oid)
    stop_events.arrive(db_session, user_id=user.id, stop_id=pickup.id)
    stop_events.picked_up(db_session, user_id=user.id, stop_id=pickup.id, bags=1)
    _no_room(db_session, courier_id)
    other = fw.add_courier(db_session, fleet)
    second = fw.order(db_session, fleet, lat=DOOR[0] + 0.004, lon=DOOR[1])
    fw.pack(db_session, fleet, second)

    result = _run(db_session, fleet, policy=policy)

    run = db_session.scalars(select(DispatchRun).where(DispatchRun.id == result.run_id)).one()
    assert not run.stats["status"].startswith("not_solved"), run.stats["status"]
    assert (result.assigned, result.unassigned) == (1, 0)
    assert _status(db_session, second) is OrderStatus.assigned
    assert db_session.scalars(select(OrderAssignment.courier_id).where(OrderAssignment.order_id == second)).all() == [
        other.id
    ]
    drop = db_session.scalars(
        select(RouteStop).where(RouteStop.order_id == oid, RouteStop.kind == StopKind.dropoff)
    ).one()
    assert drop.courier_id == courier_id
    assert drop.planned_arrival_at is not None
    assert drop.planned_arrival_at > clock.now()


def test_an_order_whose_courier_is_at_the_store_keeps_its_courier(db_session, fleet) -> None:
    oid, courier_id = _assigned_order(db_session, fleet, "vrp")
    pickup_id = _pickup_stop(db_session, oid).id
    stop_events.arrive(db_session, user_id=fleet.users[courier_id].id, stop_id=pickup_id)
    _no_room(db_session, courier_id)
    _run(db_session, fleet)
    assert _status(db_session, oid) is OrderStatus.assigned
    assert db_session.scalars(select(OrderAssignment.courier_id)).all() == [courier_id]
    assert _pickup_stop(db_session, oid).id == pickup_id


def test_an_assigned_order_left_without_an_assignment_is_put_back(db_session, fleet) -> None:
    # Orders stranded by earlier cycles (status `assigned`, no assignment row, no stops) heal.
    oid, courier_id = _assigned_order(db_session, fleet, "vrp")
    _no_room(db_session, courier_id)
    db_session.execute(delete(RouteStop).where(RouteStop.order_id == oid))
    db_session.execute(delete(OrderAssignment).where(OrderAssignment.order_id == oid))
    _run(db_session, fleet)
    assert _status(db_session, oid) is OrderStatus.packed
    assert _events(db_session, oid, "order.packed")[-1].payload["previous"] == "assigned"
