"""A customer cancels an order a courier was already given: it leaves that courier's plan at
once, so the courier's app re-reads the route and the courier can still end the shift."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch import after_commit, cycle, orders, shifts
from dispatch.fleet_models import CourierStatus
from dispatch.fleet_schemas import ShiftOut
from dispatch.models import Order, OrderStatus
from dispatch.route_models import OrderAssignment, RouteStop
from tests.dispatch import fleet_world as fw


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


@pytest.mark.parametrize("policy", ["vrp", "greedy"])
def test_cancelling_an_assigned_order_frees_its_courier(db_session, fleet, policy) -> None:
    courier = fw.add_courier(db_session, fleet)
    oid = fw.order(db_session, fleet, lat=52.525, lon=13.40)
    fw.pack(db_session, fleet, oid)
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.5, policy=policy)
    assert db_session.get(Order, oid).status is OrderStatus.assigned
    after_commit._drop_pending(db_session)  # the cycle's own route messages are not what we test

    orders.cancel(db_session, order_id=oid, customer_id=fleet.customer.id, reason="changed my mind")

    assert db_session.scalars(select(OrderAssignment).where(OrderAssignment.order_id == oid)).all() == []
    assert db_session.scalars(select(RouteStop).where(RouteStop.order_id == oid)).all() == []
    assert after_commit.couriers_messaged(db_session) == {courier.id}
    ended = shifts.end_shift(db_session, user_id=fleet.users[courier.id].id)
    assert isinstance(ended, ShiftOut)
    assert courier.status is CourierStatus.offline


def test_cancelling_an_order_nobody_was_given_messages_no_courier(db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    oid = fw.order(db_session, fleet, lat=52.525, lon=13.40)
    after_commit._drop_pending(db_session)

    orders.cancel(db_session, order_id=oid, customer_id=fleet.customer.id)

    assert after_commit.couriers_messaged(db_session) == set()
    shifts.end_shift(db_session, user_id=fleet.users[courier.id].id)
    assert courier.status is CourierStatus.offline
