"""Shifts: operators plan them; couriers start (on a vehicle), pause and end them.

Ad-hoc shifts: in a zone with `adhoc_shift_minutes > 0` a courier with no planned shift starting
now may start one anyway. It runs that long from now, but ends when the courier's next planned
shift begins (that one is theirs to start then), so shifts never overlap; the dispatcher sees it
as an ordinary shift (`courier.shift_started` with `adhoc: true`). With 0 (the default) every
shift must be planned by an operator, as before.

Starting a shift puts the courier into the next dispatch cycle at once (after commit). Ending it
with goods on board is refused: those orders must be delivered or handed over first (an operator
can still take the courier offline, which flags them).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, events
from core.errors import InvalidInput
from dispatch import after_commit
from dispatch import fleet_repository as repo
from dispatch.couriers import release_orders
from dispatch.fleet_errors import (
    AlreadyOnShift,
    CourierNotFound,
    GoodsOnBoard,
    NoPlannedShift,
    NotACourier,
    NotOnShift,
    VehicleInUse,
    VehicleNotFound,
)
from dispatch.fleet_models import Courier, CourierStatus, DispatchZone, FleetVehicle, Shift, ShiftStatus
from dispatch.fleet_schemas import ShiftIn, ShiftOut
from dispatch.route_models import CourierRoute

# A courier may start up to this long before the planned start.
EARLY_START = timedelta(minutes=30)
MAX_SHIFT = timedelta(hours=14)
NO_COURIER = "Your account has no courier profile."


def courier_for(session: Session, user_id: uuid.UUID, *, lock: bool = False) -> Courier:
    courier = repo.courier_of_user(session, user_id, lock=lock)
    if courier is None:
        raise NotACourier(NO_COURIER)
    return courier


def plan_shift(session: Session, *, data: ShiftIn) -> ShiftOut:
    courier = session.get(Courier, data.courier_id)
    if courier is None:
        raise CourierNotFound("No such courier.", courier_id=str(data.courier_id))
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise InvalidInput("Shift times need a timezone.", code="naive_datetime")
    if not data.starts_at < data.ends_at <= data.starts_at + MAX_SHIFT:
        raise InvalidInput("A shift ends after it starts and lasts at most 14 hours.", code="invalid_shift_window")
    if data.vehicle_id is not None:
        _vehicle(session, courier, data.vehicle_id)
    shift = Shift(
        courier_id=courier.id, planned_start=data.starts_at, planned_end=data.ends_at, vehicle_id=data.vehicle_id
    )
    session.add(shift)
    session.flush()
    return shift_out(shift, courier)


def shift_out(shift: Shift, courier: Courier) -> ShiftOut:
    return ShiftOut(
        id=shift.id,
        courier_id=shift.courier_id,
        planned_start=shift.planned_start,
        planned_end=shift.planned_end,
        status=shift.status,
        vehicle_id=shift.vehicle_id,
        started_at=shift.started_at,
        ended_at=shift.ended_at,
        courier_status=courier.status,
    )


def _vehicle(session: Session, courier: Courier, vehicle_id: uuid.UUID) -> FleetVehicle:
    vehicle = session.get(FleetVehicle, vehicle_id)
    if vehicle is None or not vehicle.active or vehicle.zone_id != courier.zone_id:
        raise VehicleNotFound("No such vehicle in your zone.", vehicle_id=str(vehicle_id))
    return vehicle


def start_shift(session: Session, *, user_id: uuid.UUID, vehicle_id: uuid.UUID) -> ShiftOut:
    courier = courier_for(session, user_id, lock=True)
    if repo.active_shift(session, courier.id) is not None:
        raise AlreadyOnShift("Your shift is already running.")
    vehicle = _vehicle(session, courier, vehicle_id)
    # Lock the vehicle row so two couriers cannot take the same one at the same moment.
    session.execute(select(FleetVehicle.id).where(FleetVehicle.id == vehicle.id).with_for_update())
    user_elsewhere = session.scalar(
        select(Courier.id).where(
            Courier.vehicle_id == vehicle.id, Courier.status != CourierStatus.offline, Courier.id != courier.id
        )
    )
    if user_elsewhere is not None:
        raise VehicleInUse("Another courier on shift has this vehicle.", vehicle_id=str(vehicle.id))
    now = clock.now()
    shift = repo.planned_shift_at(session, courier.id, at=now, early=now + EARLY_START)
    adhoc = shift is None
    if shift is None:
        shift = _adhoc_shift(session, courier)
    shift.status = ShiftStatus.active
    shift.started_at = now
    shift.vehicle_id = vehicle.id
    courier.status = CourierStatus.available
    courier.vehicle_id = vehicle.id
    session.add(CourierRoute(courier_id=courier.id, shift_id=shift.id))
    events.emit(
        session,
        "courier.shift_started",
        {"courier_id": str(courier.id), "shift_id": str(shift.id), "adhoc": adhoc},
    )
    after_commit.request_cycle(session, courier.zone_id)
    session.flush()
    return shift_out(shift, courier)


def _adhoc_shift(session: Session, courier: Courier) -> Shift:
    """An unplanned shift from now, if the courier's zone allows them (see the module doc)."""
    zone = session.get(DispatchZone, courier.zone_id)
    if zone is None or zone.adhoc_shift_minutes <= 0:
        raise NoPlannedShift("You have no planned shift starting now.")
    now = clock.now()
    end = now + timedelta(minutes=zone.adhoc_shift_minutes)
    following = repo.next_planned_start(session, courier.id, after=now)
    if following is not None:
        end = min(end, following)
    shift = Shift(courier_id=courier.id, planned_start=now, planned_end=end)
    session.add(shift)
    session.flush()
    return shift


def _running(session: Session, courier: Courier) -> Shift:
    shift = repo.active_shift(session, courier.id)
    if shift is None or courier.status is CourierStatus.offline:
        raise NotOnShift("You are not on shift.")
    return shift


def end_shift(session: Session, *, user_id: uuid.UUID) -> ShiftOut:
    courier = courier_for(session, user_id, lock=True)
    shift = _running(session, courier)
    released, on_board = release_orders(session, courier, reason="shift ended", actor_id=user_id)
    if on_board:
        raise GoodsOnBoard(
            "Deliver or return the orders you carry before ending the shift.", orders=[str(o) for o in on_board]
        )
    courier.status = CourierStatus.offline
    close_active_shift(session, courier)
    events.emit(
        session,
        "courier.shift_ended",
        {"courier_id": str(courier.id), "shift_id": str(shift.id), "released": [str(o) for o in released]},
    )
    if released:
        after_commit.request_cycle(session, courier.zone_id)
    session.flush()
    return shift_out(shift, courier)


def close_active_shift(session: Session, courier: Courier) -> None:
    shift = repo.active_shift(session, courier.id)
    if shift is None:
        return
    now = clock.now()
    if shift.break_started_at is not None:
        shift.break_s += int((now - shift.break_started_at).total_seconds())
        shift.break_started_at = None
    shift.status = ShiftStatus.ended
    shift.ended_at = now
    session.flush()


def set_break(session: Session, *, user_id: uuid.UUID, on: bool) -> ShiftOut:
    """A break takes the courier out of planning; orders not picked up yet go to others."""
    courier = courier_for(session, user_id, lock=True)
    shift = _running(session, courier)
    now = clock.now()
    if on and courier.status is not CourierStatus.on_break:
        _, on_board = release_orders(session, courier, reason="courier on break", actor_id=user_id)
        if on_board:
            raise GoodsOnBoard("Deliver what you carry before a break.", orders=[str(o) for o in on_board])
        courier.status = CourierStatus.on_break
        shift.break_started_at = now
        after_commit.request_cycle(session, courier.zone_id)
    elif not on and courier.status is CourierStatus.on_break:
        if shift.break_started_at is not None:
            shift.break_s += int((now - shift.break_started_at).total_seconds())
        shift.break_started_at = None
        courier.status = CourierStatus.available
        after_commit.request_cycle(session, courier.zone_id)
    session.flush()
    return shift_out(shift, courier)
