"""A small city for dispatch tests: two stores in one dispatch zone, customers around them,
couriers on vehicles with planned shifts, and helpers to place and pack orders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import clock
from core.auth.models import Role, User
from dispatch import picking, shifts
from dispatch.fleet_models import Courier, CourierStatus, DispatchZone, DispatchZoneLocation, FleetVehicle, Shift
from dispatch.fleet_schemas import ShiftIn
from dispatch.schemas import PackIn, PickLineIn
from stores.models import Location
from tests.factories import create_category, create_location, create_sku, create_user, place_order, stock
from warehouse.models import Sku, TemperatureClass

CENTRE = (52.52, 13.405)


@dataclass
class Fleet:
    zone: DispatchZone
    stores: list[Location]
    skus: list[Sku]
    ice: Sku
    customer: User
    staff: dict[uuid.UUID, User]
    couriers: list[Courier] = field(default_factory=list)
    users: dict[uuid.UUID, User] = field(default_factory=dict)  # courier id -> user


def build(session: Session, *, require_accept: bool = False, code: str | None = None) -> Fleet:
    zone = DispatchZone(code=code or f"Z-{uuid.uuid4().hex[:6]}", name="Mitte", require_accept=require_accept)
    session.add(zone)
    stores = [
        create_location(session, lat=52.522, lon=13.401, zone=None, with_zone=True),
        create_location(session, lat=52.516, lon=13.412, zone=None, with_zone=True),
    ]
    session.flush()
    for s in stores:
        session.add(DispatchZoneLocation(location_id=s.id, zone_id=zone.id))
    category = create_category(session)
    skus = [create_sku(session, category=category, price_minor=300) for _ in range(3)]
    ice = create_sku(session, category=category, price_minor=400, temperature=TemperatureClass.frozen)
    for s in stores:
        for sku in [*skus, ice]:
            stock(session, s, sku, 500)
    session.flush()
    staff = {s.id: create_user(session, role=Role.staff, location_id=s.id) for s in stores}
    return Fleet(zone, stores, skus, ice, create_user(session), staff)


def add_courier(
    session: Session,
    fleet: Fleet,
    *,
    kind: str = "bike",
    units: int = 4,
    cold_box: bool = True,
    lat: float = CENTRE[0],
    lon: float = CENTRE[1],
    start: bool = True,
) -> Courier:
    user = create_user(session, role=Role.courier)
    courier = Courier(user_id=user.id, zone_id=fleet.zone.id, status=CourierStatus.offline)
    vehicle = FleetVehicle(
        label=f"V-{uuid.uuid4().hex[:8]}",
        kind=kind,
        capacity_units=units,
        capacity_kg=30,
        cold_box=cold_box,
        zone_id=fleet.zone.id,
    )
    session.add_all([courier, vehicle])
    session.flush()
    now = clock.now()
    shifts.plan_shift(
        session,
        data=ShiftIn(courier_id=courier.id, starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=6)),
    )
    courier.last_lat, courier.last_lon, courier.last_seen_at = lat, lon, now
    if start:
        shifts.start_shift(session, user_id=user.id, vehicle_id=vehicle.id)
    session.flush()
    fleet.couriers.append(courier)
    fleet.users[courier.id] = user
    return courier


def vehicle_of(session: Session, courier: Courier) -> FleetVehicle:
    shift = session.query(Shift).filter(Shift.courier_id == courier.id).one()
    assert shift.vehicle_id is not None
    vehicle = session.get(FleetVehicle, shift.vehicle_id)
    assert vehicle is not None
    return vehicle


def order(session: Session, fleet: Fleet, *, lat: float, lon: float, qty: int = 1, cold: bool = False) -> uuid.UUID:
    lines = [(fleet.skus[0], qty)] + ([(fleet.ice, 1)] if cold else [])
    body: dict[str, Any] = place_order(session, customer=fleet.customer, lines=lines, lat=lat, lon=lon)
    return uuid.UUID(body["id"])


def pack(session: Session, fleet: Fleet, order_id: uuid.UUID, *, bags: int = 1) -> None:
    from dispatch import repository

    (f,) = repository.fulfilments_of(session, [order_id])
    staff = fleet.staff[f.location_id]
    picking.start_picking(session, order_id=order_id, location_id=f.location_id, actor_id=staff.id)
    for line in repository.lines_of(session, [order_id]):
        picking.pick_line(
            session,
            order_id=order_id,
            line_no=line.line_no,
            location_id=f.location_id,
            data=PickLineIn(picked=line.qty),
            actor_id=staff.id,
        )
    cold = any(line.sku_id == fleet.ice.id for line in repository.lines_of(session, [order_id]))
    picking.pack(
        session,
        order_id=order_id,
        location_id=f.location_id,
        data=PackIn(bags=bags, cold_chain=cold),
        actor_id=staff.id,
    )


@contextmanager
def _nested(session: Session) -> Iterator[Session]:
    scope = session.begin_nested()
    try:
        yield session
        scope.commit()
    except BaseException:
        scope.rollback()
        raise


def scope_of(session: Session) -> Any:
    """A `dispatch.cycle` unit-of-work factory that works inside the test's outer transaction."""
    return lambda: _nested(session)
