"""SQL of the fleet: couriers, shifts, routes, stops and assignments (one place for it, §2)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core import clock
from dispatch.fleet_models import Courier, CourierStatus, DispatchZoneLocation, Shift, ShiftStatus
from dispatch.models import Order, OrderFulfilment, OrderStatus
from dispatch.route_models import (
    OPEN_STOP,
    CourierRoute,
    DeclinedOffer,
    OrderAssignment,
    RouteStop,
    StopKind,
    StopStatus,
)

OPEN_STATUSES = (StopStatus.pending, StopStatus.arrived)


def courier_of_user(session: Session, user_id: uuid.UUID, *, lock: bool = False) -> Courier | None:
    query = select(Courier).where(Courier.user_id == user_id)
    return session.scalar(query.with_for_update() if lock else query)


def lock_courier(session: Session, courier_id: uuid.UUID) -> Courier | None:
    return session.get(Courier, courier_id, with_for_update=True, populate_existing=True)


def zone_locations(session: Session, zone_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(select(DispatchZoneLocation.location_id).where(DispatchZoneLocation.zone_id == zone_id))
    )


def active_shift(session: Session, courier_id: uuid.UUID) -> Shift | None:
    return session.scalar(select(Shift).where(Shift.courier_id == courier_id, Shift.status == ShiftStatus.active))


def planned_shift_at(session: Session, courier_id: uuid.UUID, *, at: datetime, early: datetime) -> Shift | None:
    """The planned shift that may start now: begins before `early` (a little ahead is fine) and has
    not ended yet; the earliest such."""
    return session.scalar(
        select(Shift)
        .where(
            Shift.courier_id == courier_id,
            Shift.status == ShiftStatus.planned,
            Shift.planned_start <= early,
            Shift.planned_end > at,
        )
        .order_by(Shift.planned_start)
        .limit(1)
    )


def next_planned_start(session: Session, courier_id: uuid.UUID, *, after: datetime) -> datetime | None:
    start: datetime | None = session.scalar(
        select(Shift.planned_start)
        .where(Shift.courier_id == courier_id, Shift.status == ShiftStatus.planned, Shift.planned_start > after)
        .order_by(Shift.planned_start)
        .limit(1)
    )
    return start


def route_of_shift(session: Session, shift_id: uuid.UUID) -> CourierRoute | None:
    return session.scalar(select(CourierRoute).where(CourierRoute.shift_id == shift_id))


def current_route(session: Session, courier_id: uuid.UUID) -> CourierRoute | None:
    shift = active_shift(session, courier_id)
    return route_of_shift(session, shift.id) if shift is not None else None


# The statements of a courier's every step (route reads, stop events) are built once, with
# bound parameters: constructing them and their cache keys anew at each call cost more than
# PostgreSQL's work on them.
# What a route read shows of each open stop, read as columns: the rows are only rendered, so
# loading them as ORM objects into the session would be work nobody uses.
ROUTE_STOP_FIELDS = (
    "id",
    "seq",
    "kind",
    "status",
    "order_id",
    "lat",
    "lon",
    "address",
    "note",
    "items",
    "bags",
    "planned_arrival_at",
    "planned_departure_at",
    "arrived_at",
    "completed_at",
)
_ROUTE_VIEW = (
    select(
        Courier.id.label("courier_id"),
        Courier.status.label("courier_status"),
        select(CourierRoute.version)
        .join(Shift, Shift.id == CourierRoute.shift_id)
        .where(Shift.courier_id == Courier.id, Shift.status == ShiftStatus.active)
        .limit(1)  # at most one active shift (a unique index) and one route per shift
        .scalar_subquery()
        .label("version"),
        *(getattr(RouteStop, name).label(name) for name in ROUTE_STOP_FIELDS),
        OrderAssignment.state.label("offer"),
        OrderAssignment.pod_policy.label("pod_policy"),
    )
    .outerjoin(RouteStop, (RouteStop.courier_id == Courier.id) & RouteStop.status.in_(OPEN_STATUSES))
    .outerjoin(OrderAssignment, OrderAssignment.order_id == RouteStop.order_id)
    .where(Courier.user_id == bindparam("user_id"))
    .order_by(RouteStop.seq)
)


@dataclass(frozen=True, slots=True)
class RouteView:
    courier_id: uuid.UUID
    courier_status: CourierStatus
    version: int | None
    # Per open stop in route order: `ROUTE_STOP_FIELDS`, then `offer` and `pod_policy` of its
    # order's assignment (None without one).
    stops: list[RowMapping]


def route_view(session: Session, user_id: uuid.UUID) -> RouteView | None:
    """The user's courier, the version of their running shift's route and their open stops in
    order, each with its order's assignment: one statement (it was five: courier, shift, route,
    stops, assignments). None when the user has no courier profile."""
    rows = session.execute(_ROUTE_VIEW, {"user_id": user_id}).mappings().all()
    if not rows:
        return None
    first = rows[0]
    stops = [row for row in rows if row["id"] is not None]
    return RouteView(first["courier_id"], first["courier_status"], first["version"], stops)


def assignments_of(session: Session, courier_ids: Collection[uuid.UUID]) -> list[OrderAssignment]:
    if not courier_ids:
        return []
    return list(session.scalars(select(OrderAssignment).where(OrderAssignment.courier_id.in_(courier_ids))))


def assignments_for(session: Session, order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, OrderAssignment]:
    if not order_ids:
        return {}
    rows = session.scalars(select(OrderAssignment).where(OrderAssignment.order_id.in_(order_ids)))
    return {a.order_id: a for a in rows}


def lock_assignment(session: Session, order_id: uuid.UUID) -> OrderAssignment | None:
    return session.get(OrderAssignment, order_id, with_for_update=True, populate_existing=True)


def open_stops(session: Session, *, courier_id: uuid.UUID) -> list[RouteStop]:
    return list(
        session.scalars(
            select(RouteStop)
            .where(RouteStop.courier_id == courier_id, RouteStop.status.in_((StopStatus.pending, StopStatus.arrived)))
            .order_by(RouteStop.seq)
        )
    )


def open_stops_of_couriers(session: Session, courier_ids: Collection[uuid.UUID]) -> list[RouteStop]:
    if not courier_ids:
        return []
    return list(
        session.scalars(
            select(RouteStop)
            .where(
                RouteStop.courier_id.in_(courier_ids),
                RouteStop.status.in_((StopStatus.pending, StopStatus.arrived)),
            )
            .order_by(RouteStop.courier_id, RouteStop.seq)
        )
    )


def stops_of_order(session: Session, order_id: uuid.UUID, *, open_only: bool = True) -> list[RouteStop]:
    query = select(RouteStop).where(RouteStop.order_id == order_id)
    if open_only:
        query = query.where(RouteStop.status.in_((StopStatus.pending, StopStatus.arrived)))
    return list(session.scalars(query))


def collected_locations(session: Session, order_id: uuid.UUID) -> set[uuid.UUID]:
    """Stores whose part of the order a courier has picked up (done pickup stops)."""
    return set(
        session.scalars(
            select(RouteStop.location_id).where(
                RouteStop.order_id == order_id,
                RouteStop.kind == StopKind.pickup,
                RouteStop.status == StopStatus.done,
                RouteStop.location_id.is_not(None),
            )
        )
    )


def partly_collected(session: Session, order_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `order_ids` still at a store by status but with a part picked up (split orders
    between their two pickups): goods are on board."""
    if not order_ids:
        return set()
    return set(
        session.scalars(
            select(RouteStop.order_id)
            .where(
                RouteStop.order_id.in_(list(order_ids)),
                RouteStop.kind == StopKind.pickup,
                RouteStop.status == StopStatus.done,
            )
            .distinct()
        )
    )


def record_decline(session: Session, *, order_id: uuid.UUID, courier_id: uuid.UUID, reason: str) -> None:
    """Remember that this courier turned the order down (once is enough: a repeat is a no-op)."""
    session.execute(
        pg_insert(DeclinedOffer)
        .values(order_id=order_id, courier_id=courier_id, reason=reason, at=clock.now())
        .on_conflict_do_nothing(index_elements=["order_id", "courier_id"])
    )


def delete_open_stops(session: Session, order_ids: Collection[uuid.UUID]) -> None:
    if order_ids:
        session.execute(
            delete(RouteStop).where(
                RouteStop.order_id.in_(order_ids), RouteStop.status.in_((StopStatus.pending, StopStatus.arrived))
            )
        )


def lock_order_at_users_stop(
    session: Session, *, stop_id: uuid.UUID, user_id: uuid.UUID, load: bool = True
) -> tuple[Order | None, uuid.UUID, uuid.UUID] | None:
    """The order of stop `stop_id`, locked, with the id and zone of the courier it belongs to,
    if that courier is `user_id`'s; None when there is no such stop of theirs. One statement
    where reading the courier, then the order through the stop took two; only the order is
    locked (the courier and the stop are read as of the statement's start, as the subquery of
    the two-statement version read them), and still before the stop (`lock_stop_and_assignment`),
    as everywhere else. Without `load` the row is locked but not loaded (the order is None): a
    caller that changes only the stop skips building the ORM object."""
    statement = _LOCK_ORDER_AT_USERS_STOP if load else _LOCK_ORDER_ROW_AT_USERS_STOP
    row = session.execute(statement, {"stop_id": stop_id, "user_id": user_id}).first()
    if row is None:
        return None
    return (row[0] if load else None), row[1], row[2]


def _lock_order_at_users_stop(order: Any) -> Select[Any, uuid.UUID, uuid.UUID]:
    return (
        select(order, Courier.id, Courier.zone_id)
        .join(RouteStop, RouteStop.order_id == Order.id)
        .join(Courier, Courier.id == RouteStop.courier_id)
        .where(RouteStop.id == bindparam("stop_id"), Courier.user_id == bindparam("user_id"))
        .with_for_update(of=Order)
    )


_LOCK_ORDER_AT_USERS_STOP = _lock_order_at_users_stop(Order).execution_options(populate_existing=True)
_LOCK_ORDER_ROW_AT_USERS_STOP = _lock_order_at_users_stop(Order.id)
_LOCK_STOP_AND_ASSIGNMENT = (
    select(RouteStop, OrderAssignment)
    .join(OrderAssignment, OrderAssignment.order_id == RouteStop.order_id)
    .where(RouteStop.id == bindparam("stop_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_stop_and_assignment(session: Session, stop_id: uuid.UUID) -> tuple[RouteStop, OrderAssignment] | None:
    """The stop and its order's assignment, both locked (stop first: the FROM order is the lock
    order) and read fresh; None when either is gone. One statement where there were two."""
    row = session.execute(_LOCK_STOP_AND_ASSIGNMENT, {"stop_id": stop_id}).first()
    return None if row is None else (row[0], row[1])


def parts_collected(session: Session, order_id: uuid.UUID) -> list[tuple[OrderFulfilment, bool]]:
    """The order's fulfilments (as `dispatch.repository.fulfilments_of` orders them), each with
    whether a courier has picked that store's part up (a done pickup stop there): one statement
    where the fulfilments and the collected stores took two."""
    collected = exists().where(
        RouteStop.order_id == OrderFulfilment.order_id,
        RouteStop.location_id == OrderFulfilment.location_id,
        RouteStop.kind == StopKind.pickup,
        RouteStop.status == StopStatus.done,
    )
    rows = session.execute(
        select(OrderFulfilment, collected)
        .where(OrderFulfilment.order_id == order_id)
        .order_by(OrderFulfilment.order_id, OrderFulfilment.location_id)
    ).all()
    return [(f, bool(done)) for f, done in rows]


def lock_stop(session: Session, stop_id: uuid.UUID) -> RouteStop | None:
    return session.get(RouteStop, stop_id, with_for_update=True, populate_existing=True)


def lock_order_statuses(session: Session, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OrderStatus]:
    """`lock_orders` for a caller that needs only their statuses (no Order objects built)."""
    if not order_ids:
        return {}
    rows = session.execute(
        select(Order.id, Order.status).where(Order.id.in_(order_ids)).order_by(Order.id).with_for_update()
    )
    return {row.id: row.status for row in rows}


def lock_orders(session: Session, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Order]:
    """Rows locked in id order, so two cycles (or a cycle and a courier) never deadlock."""
    if not order_ids:
        return {}
    rows = session.scalars(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id).with_for_update())
    return {o.id: o for o in rows}


__all__ = ["OPEN_STOP"]
