"""Operators' side of the fleet: dispatch zones, vehicles, courier accounts, taking a courier
offline (bulk reassignment) and pinning an order to a courier.

Taking a courier offline releases every order they have not picked up yet (the next cycle plans
it again) and flags the courier to operators when goods are still on board: those cannot be moved
by software, someone has to call the courier.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import clock, events
from core.auth.models import Role, User
from core.auth.service import create_user
from dispatch import after_commit
from dispatch import fleet_repository as repo
from dispatch.errors import OrderNotFound
from dispatch.fleet_errors import CourierNotFound, LocationInOtherZone, NotAssignable, ZoneNotFound
from dispatch.fleet_models import Courier, CourierStatus, DispatchZone, DispatchZoneLocation, FleetVehicle
from dispatch.fleet_schemas import CourierIn, CourierOut, OfflineOut, Position, VehicleIn, VehicleOut, ZoneIn, ZoneOut
from dispatch.models import OrderStatus
from dispatch.route_models import AssignmentState, OrderAssignment
from stores.models import Location

# Orders dispatch may still give to another courier (the goods are at the store).
REASSIGNABLE = frozenset({OrderStatus.accepted, OrderStatus.picking, OrderStatus.packed, OrderStatus.assigned})


def create_zone(session: Session, *, data: ZoneIn) -> ZoneOut:
    zone = DispatchZone(
        code=data.code,
        name=data.name,
        require_accept=data.require_accept,
        offer_timeout_s=data.offer_timeout_s,
        adhoc_shift_minutes=data.adhoc_shift_minutes,
    )
    session.add(zone)
    session.flush()
    add_locations(session, zone_id=zone.id, location_ids=data.location_ids)
    return zone_out(session, zone)


def add_locations(session: Session, *, zone_id: uuid.UUID, location_ids: Sequence[uuid.UUID]) -> None:
    wanted = set(location_ids)
    if not wanted:
        return
    found = set(session.scalars(select(Location.id).where(Location.id.in_(wanted))))
    if missing := wanted - found:
        raise ZoneNotFound("Unknown location(s).", code="location_not_found", locations=sorted(map(str, missing)))
    taken = session.scalars(
        select(DispatchZoneLocation).where(
            DispatchZoneLocation.location_id.in_(wanted), DispatchZoneLocation.zone_id != zone_id
        )
    ).all()
    if taken:
        raise LocationInOtherZone(
            "A store belongs to one dispatch zone.", locations=sorted(str(t.location_id) for t in taken)
        )
    for location_id in sorted(wanted):
        session.merge(DispatchZoneLocation(location_id=location_id, zone_id=zone_id))
    session.flush()


def detach_locations(session: Session, *, location_ids: Sequence[uuid.UUID], zone_code_prefix: str) -> int:
    """Take these locations out of the zones whose code starts with `zone_code_prefix`; returns how
    many links went. A new live simulation takes over the stores an earlier, stopped one planned."""
    zone_ids = select(DispatchZone.id).where(DispatchZone.code.startswith(zone_code_prefix, autoescape=True))
    result = session.execute(
        delete(DispatchZoneLocation).where(
            DispatchZoneLocation.location_id.in_(location_ids), DispatchZoneLocation.zone_id.in_(zone_ids)
        )
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def zone_out(session: Session, zone: DispatchZone) -> ZoneOut:
    return ZoneOut(
        id=zone.id,
        code=zone.code,
        name=zone.name,
        location_ids=sorted(repo.zone_locations(session, zone.id)),
        require_accept=zone.require_accept,
        offer_timeout_s=zone.offer_timeout_s,
        adhoc_shift_minutes=zone.adhoc_shift_minutes,
    )


def get_zone(session: Session, zone_id: uuid.UUID) -> DispatchZone:
    zone = session.get(DispatchZone, zone_id)
    if zone is None:
        raise ZoneNotFound("No such dispatch zone.", zone_id=str(zone_id))
    return zone


def create_vehicle(session: Session, *, data: VehicleIn) -> VehicleOut:
    get_zone(session, data.zone_id)
    vehicle = FleetVehicle(**data.model_dump())
    session.add(vehicle)
    session.flush()
    return VehicleOut.model_validate(vehicle, from_attributes=True)


def create_courier(session: Session, *, data: CourierIn) -> CourierOut:
    get_zone(session, data.zone_id)
    user = create_user(
        session,
        email=data.email,
        password=data.password,
        role=Role.courier,
        display_name=data.display_name,
        phone=data.phone,
    )
    courier = Courier(user_id=user.id, zone_id=data.zone_id, status=CourierStatus.offline)
    session.add(courier)
    session.flush()
    return courier_out(courier, user.display_name)


def courier_out(courier: Courier, display_name: str) -> CourierOut:
    position = None
    if courier.last_lat is not None and courier.last_lon is not None and courier.last_seen_at is not None:
        position = Position(lat=courier.last_lat, lon=courier.last_lon, at=courier.last_seen_at)
    return CourierOut(
        id=courier.id,
        user_id=courier.user_id,
        zone_id=courier.zone_id,
        display_name=display_name,
        status=courier.status,
        vehicle_id=courier.vehicle_id,
        position=position,
        flagged_at=courier.flagged_at,
        flag_reason=courier.flag_reason,
    )


def list_couriers(
    session: Session, *, zone_id: uuid.UUID | None = None, flagged_only: bool = False, limit: int = 100
) -> list[CourierOut]:
    query = select(Courier, User.display_name).join(User, User.id == Courier.user_id)
    if zone_id is not None:
        query = query.where(Courier.zone_id == zone_id)
    if flagged_only:
        query = query.where(Courier.flagged_at.is_not(None))
    rows = session.execute(query.order_by(User.display_name, Courier.id).limit(limit)).all()
    return [courier_out(c, name) for c, name in rows]


def release_orders(
    session: Session, courier: Courier, *, reason: str, actor_id: uuid.UUID | None
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Take every order the courier has not picked up off them; (released, still on board)."""
    assignments = repo.assignments_of(session, [courier.id])
    orders = repo.lock_orders(session, sorted(a.order_id for a in assignments))
    released: list[uuid.UUID] = []
    on_board: list[uuid.UUID] = []
    # A split order with one part collected is still `assigned`, but goods are on board.
    collected = repo.partly_collected(session, [o.id for o in orders.values() if o.status in REASSIGNABLE])
    for a in sorted(assignments, key=lambda a: a.order_id):
        order = orders.get(a.order_id)
        if order is not None and order.status in REASSIGNABLE and order.id not in collected:
            released.append(a.order_id)
            session.delete(a)
        else:
            on_board.append(a.order_id)
    repo.delete_open_stops(session, released)
    for order_id in released:
        events.emit(
            session,
            "dispatch.order_released",
            {"order_id": str(order_id), "courier_id": str(courier.id), "reason": reason, "actor_id": _s(actor_id)},
        )
    session.flush()
    return released, on_board


def take_offline(
    session: Session, *, courier_id: uuid.UUID, reason: str, actor_id: uuid.UUID | None = None
) -> OfflineOut:
    """Bulk reassignment: the courier is offline; orders not picked up go back to the next cycle,
    picked-up ones stay theirs and the courier is flagged for an operator to follow up."""
    courier = repo.lock_courier(session, courier_id)
    if courier is None:
        raise CourierNotFound("No such courier.", courier_id=str(courier_id))
    released, on_board = release_orders(session, courier, reason=reason, actor_id=actor_id)
    courier.status = CourierStatus.offline
    if on_board:
        courier.flagged_at = clock.now()
        courier.flag_reason = f"offline with {len(on_board)} order(s) on board: {reason}"[:200]
        events.emit(
            session,
            "dispatch.courier_flagged",
            {"courier_id": str(courier.id), "orders": [str(o) for o in on_board], "reason": reason},
        )
    from dispatch import shifts  # shifts imports this module for release_orders

    shifts.close_active_shift(session, courier)
    after_commit.request_cycle(session, courier.zone_id)
    after_commit.to_courier(session, courier.id, {"type": "offline", "reason": reason})
    session.flush()
    return OfflineOut(courier_id=courier.id, released=released, on_board=on_board)


def pin_order(session: Session, *, order_id: uuid.UUID, courier_id: uuid.UUID, actor_id: uuid.UUID) -> None:
    """An operator's manual assignment: the next cycles keep the order on this courier."""
    order = repo.lock_orders(session, [order_id]).get(order_id)
    if order is None:
        raise OrderNotFound("No such order.", order_id=str(order_id))
    courier = repo.lock_courier(session, courier_id)
    if courier is None:
        raise CourierNotFound("No such courier.", courier_id=str(courier_id))
    if order.status not in REASSIGNABLE:
        raise NotAssignable(f"An order that is {order.status.value} cannot be reassigned.", status=order.status.value)
    if courier.status not in (CourierStatus.available, CourierStatus.on_route):
        raise NotAssignable("The courier is not on shift.", courier_status=courier.status.value)
    assignment = repo.lock_assignment(session, order_id)
    if assignment is not None and assignment.courier_id != courier_id:
        repo.delete_open_stops(session, [order_id])
    if assignment is None:
        assignment = OrderAssignment(order_id=order_id, courier_id=courier_id, state=AssignmentState.confirmed)
        session.add(assignment)
    assignment.courier_id = courier_id
    assignment.state = AssignmentState.confirmed
    assignment.offer_expires_at = None
    assignment.pinned = True
    assignment.since = clock.now()
    events.emit(
        session,
        "dispatch.order_pinned",
        {"order_id": str(order_id), "courier_id": str(courier_id), "actor_id": str(actor_id)},
    )
    after_commit.request_cycle(session, courier.zone_id)
    session.flush()


def _s(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
