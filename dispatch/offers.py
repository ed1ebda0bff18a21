"""Offers: in a fleet with `require_accept`, a courier accepts each new assignment within the
zone's timeout; a decline or a timeout hands the order back to the next cycle, which does not
offer it to the same courier again (`declined_offers`; an operator may still pin it to them).

Until accepted, the order stays `packed` (the store and the customer see no courier yet); on accept
it becomes `assigned`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, events
from dispatch import after_commit
from dispatch import fleet_repository as repo
from dispatch.fleet_errors import OfferNotFound
from dispatch.fleet_models import Courier, DispatchZoneLocation
from dispatch.models import OrderFulfilment, OrderStatus
from dispatch.route_models import AssignmentState, OrderAssignment
from dispatch.shifts import courier_for
from dispatch.states import transition


def expire(session: Session, *, zone_id: uuid.UUID, now: datetime) -> int:
    """Offers past their deadline count as declined: the orders go back into planning."""
    zone_orders = (
        select(OrderFulfilment.order_id)
        .join(DispatchZoneLocation, DispatchZoneLocation.location_id == OrderFulfilment.location_id)
        .where(DispatchZoneLocation.zone_id == zone_id)
    )
    stale = session.scalars(
        select(OrderAssignment)
        .where(
            OrderAssignment.state == AssignmentState.offered,
            OrderAssignment.offer_expires_at < now,
            OrderAssignment.order_id.in_(zone_orders),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for a in stale:
        _withdraw(session, a, why="offer timed out", reason="timed_out")
    session.flush()
    return len(stale)


def _withdraw(session: Session, a: OrderAssignment, *, why: str, reason: str) -> None:
    """`reason` is what is recorded against the courier: "declined" or "timed_out"."""
    repo.record_decline(session, order_id=a.order_id, courier_id=a.courier_id, reason=reason)
    repo.delete_open_stops(session, [a.order_id])
    events.emit(
        session, "dispatch.offer_withdrawn", {"order_id": str(a.order_id), "courier_id": str(a.courier_id), "why": why}
    )
    after_commit.to_courier(session, a.courier_id, {"type": "offer_withdrawn", "order_id": str(a.order_id)})
    session.delete(a)


def _my_offer(session: Session, courier: Courier, order_id: uuid.UUID) -> OrderAssignment:
    # Order row first, then the assignment: the same lock order as the dispatch cycle.
    repo.lock_orders(session, [order_id])
    a = repo.lock_assignment(session, order_id)
    if a is None or a.courier_id != courier.id or a.state is not AssignmentState.offered:
        raise OfferNotFound("No such offer for you.", order_id=str(order_id))
    return a


def accept(session: Session, *, user_id: uuid.UUID, order_id: uuid.UUID) -> None:
    courier = courier_for(session, user_id)
    a = _my_offer(session, courier, order_id)
    if a.offer_expires_at is not None and a.offer_expires_at < clock.now():
        _withdraw(session, a, why="accepted too late", reason="timed_out")
        session.flush()
        raise OfferNotFound("The offer has expired.", code="offer_expired", order_id=str(order_id))
    a.state = AssignmentState.confirmed
    a.offer_expires_at = None
    order = repo.lock_orders(session, [order_id])[order_id]
    if order.status is OrderStatus.packed:
        transition(session, order, OrderStatus.assigned, actor_id=user_id, details={"courier_id": str(courier.id)})
    events.emit(session, "dispatch.offer_accepted", {"order_id": str(order_id), "courier_id": str(courier.id)})
    session.flush()


def decline(session: Session, *, user_id: uuid.UUID, order_id: uuid.UUID) -> None:
    courier = courier_for(session, user_id)
    a = _my_offer(session, courier, order_id)
    _withdraw(session, a, why="declined", reason="declined")
    after_commit.request_cycle(session, courier.zone_id)
    session.flush()
