"""The vehicles a courier may start a shift on: the active vehicles of their dispatch zone that
no other courier on shift is riding (the same rule `shifts.start_shift` enforces), so the app
offers a choice instead of asking for an id off a sticker.

The vehicle an operator put on the courier's shift starting now is marked `planned`, so the app
can preselect it; the courier's own current vehicle stays listed (it is not taken by *another*).
"""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from dispatch import fleet_repository as repo
from dispatch.fleet_models import Courier, CourierStatus, FleetVehicle, VehicleKind
from dispatch.fleet_schemas import VehicleOut
from dispatch.shifts import EARLY_START, courier_for

MAX_LISTED: Final = 100  # the API's page size; a zone's fleet is smaller in practice
# Smallest first: a bike is what most couriers take, the car the exception.
_KIND_ORDER: Final = {VehicleKind.bike: 0, VehicleKind.scooter: 1, VehicleKind.car: 2}


class FreeVehicleOut(VehicleOut):
    planned: bool = Field(description="The operator put this vehicle on your shift starting now.")


def free_vehicles(session: Session, *, user_id: uuid.UUID) -> list[FreeVehicleOut]:
    courier = courier_for(session, user_id)
    now = clock.now()
    shift = repo.planned_shift_at(session, courier.id, at=now, early=now + EARLY_START)
    planned = shift.vehicle_id if shift is not None else None
    rows = _free_in_zone(session, zone_id=courier.zone_id, courier_id=courier.id, first=planned)
    rows.sort(key=lambda v: (v.id != planned, _KIND_ORDER[v.kind], v.label))
    return [_out(v, planned=v.id == planned) for v in rows]


def _out(vehicle: FleetVehicle, *, planned: bool) -> FreeVehicleOut:
    return FreeVehicleOut(
        id=vehicle.id,
        label=vehicle.label,
        kind=vehicle.kind,
        capacity_units=vehicle.capacity_units,
        capacity_kg=vehicle.capacity_kg,
        cold_box=vehicle.cold_box,
        zone_id=vehicle.zone_id,
        planned=planned,
    )


def _free_in_zone(
    session: Session, *, zone_id: uuid.UUID, courier_id: uuid.UUID, first: uuid.UUID | None
) -> list[FleetVehicle]:
    taken = select(Courier.vehicle_id).where(
        Courier.vehicle_id.is_not(None), Courier.status != CourierStatus.offline, Courier.id != courier_id
    )
    query = (
        select(FleetVehicle)
        .where(FleetVehicle.zone_id == zone_id, FleetVehicle.active, FleetVehicle.id.not_in(taken))
        # The planned vehicle first, so the page limit never cuts it off.
        .order_by((FleetVehicle.id == first).desc().nulls_last(), FleetVehicle.label)
        .limit(MAX_LISTED)
    )
    return list(session.scalars(query))
