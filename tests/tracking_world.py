"""A courier out on deliveries, for the tracking tests: committed for real (API processes read it),
one courier with a route of pickups then drop-offs for one or more customers' orders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.auth.models import User
from dispatch import orders, states
from dispatch.fleet_models import Courier, Shift
from dispatch.models import Order, OrderStatus
from dispatch.route_models import AssignmentState, CourierRoute, OrderAssignment, RouteStop, StopKind, StopStatus
from tests.dispatch import fleet_world as fw
from tests.factories import create_user, place_order, token_for

__all__ = ["DROPOFFS", "Delivery", "build", "token_for"]

DROPOFFS = [(52.530, 13.410), (52.526, 13.395), (52.512, 13.420)]


@dataclass
class Delivery:
    fleet: fw.Fleet
    courier: Courier
    courier_token: str
    orders: list[uuid.UUID]
    customers: list[User]
    tokens: list[str] = field(default_factory=list)


def build(session: Session, *, customers: int = 1, picked_up: bool = True) -> Delivery:
    """`customers` orders (one per customer) on one courier's route: all pickups first, then the
    drop-offs in order; the orders `assigned`, or `picked_up` with `picked_up=True`."""
    fleet = fw.build(session)
    courier = fw.add_courier(session, fleet)
    users = [create_user(session) for _ in range(customers)]
    ids = []
    for user, (lat, lon) in zip(users, DROPOFFS, strict=False):
        body: dict[str, Any] = place_order(session, customer=user, lines=[(fleet.skus[0], 1)], lat=lat, lon=lon)
        ids.append(uuid.UUID(body["id"]))
        fw.pack(session, fleet, ids[-1])
    shift = session.scalars(select(Shift).where(Shift.courier_id == courier.id)).one()
    route = session.scalars(select(CourierRoute).where(CourierRoute.shift_id == shift.id)).one()  # made at start
    store = fleet.stores[0]
    for seq, order_id in enumerate(ids):
        pickup = _stop(session, route, order_id, StopKind.pickup, seq, store.lat, store.lon)
        if picked_up:
            pickup.status, pickup.completed_at = StopStatus.done, clock.now()
    for seq, (order_id, (lat, lon)) in enumerate(zip(ids, DROPOFFS, strict=False), start=len(ids)):
        _stop(session, route, order_id, StopKind.dropoff, seq, lat, lon)
    for order_id in ids:
        session.add(OrderAssignment(order_id=order_id, courier_id=courier.id, state=AssignmentState.confirmed))
        session.flush()
        order = session.get(Order, order_id)
        assert order is not None
        states.transition(session, order, OrderStatus.assigned)
        if picked_up:
            orders.advance(session, order_id=order_id, to=OrderStatus.picked_up)
    session.flush()
    return Delivery(fleet, courier, token_for(fleet.users[courier.id]), ids, users, [token_for(u) for u in users])


def _stop(
    session: Session, route: CourierRoute, order_id: uuid.UUID, kind: StopKind, seq: int, lat: float, lon: float
) -> RouteStop:
    stop = RouteStop(
        route_id=route.id, courier_id=route.courier_id, order_id=order_id, kind=kind, seq=seq, lat=lat, lon=lon
    )
    session.add(stop)
    return stop
