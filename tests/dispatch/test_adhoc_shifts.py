"""Ad-hoc shifts: where the zone allows them, a courier without a planned shift starts one that
lasts the zone's length but ends when their next planned shift begins; elsewhere it is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from core.auth.models import Role
from dispatch import shifts
from dispatch.fleet_errors import NoPlannedShift
from dispatch.fleet_models import Courier, CourierStatus, FleetVehicle, Shift, ShiftStatus
from dispatch.fleet_schemas import ShiftIn
from tests.dispatch import fleet_world as fw
from tests.factories import create_user


def _unplanned_courier(db_session, fleet: fw.Fleet) -> tuple[Courier, FleetVehicle]:
    user = create_user(db_session, role=Role.courier)
    courier = Courier(user_id=user.id, zone_id=fleet.zone.id, status=CourierStatus.offline)
    vehicle = FleetVehicle(label="V-adhoc", kind="bike", capacity_units=4, capacity_kg=30, zone_id=fleet.zone.id)
    db_session.add_all([courier, vehicle])
    db_session.flush()
    return courier, vehicle


def test_without_ad_hoc_shifts_a_shift_must_be_planned(db_session) -> None:
    fleet = fw.build(db_session)
    courier, vehicle = _unplanned_courier(db_session, fleet)
    with pytest.raises(NoPlannedShift):
        shifts.start_shift(db_session, user_id=courier.user_id, vehicle_id=vehicle.id)
    assert db_session.query(Shift).filter(Shift.courier_id == courier.id).count() == 0


def test_an_ad_hoc_shift_runs_the_zone_length(db_session) -> None:
    fleet = fw.build(db_session)
    fleet.zone.adhoc_shift_minutes = 180
    courier, vehicle = _unplanned_courier(db_session, fleet)
    out = shifts.start_shift(db_session, user_id=courier.user_id, vehicle_id=vehicle.id)
    assert out.status is ShiftStatus.active
    assert out.courier_status is CourierStatus.available
    assert out.planned_end - out.planned_start == timedelta(minutes=180)
    assert abs((out.planned_start - clock.now()).total_seconds()) < 60


def test_an_ad_hoc_shift_ends_where_the_next_planned_one_begins(db_session) -> None:
    fleet = fw.build(db_session)
    fleet.zone.adhoc_shift_minutes = 240
    courier, vehicle = _unplanned_courier(db_session, fleet)
    later = clock.now() + timedelta(hours=2)
    planned = shifts.plan_shift(
        db_session, data=ShiftIn(courier_id=courier.id, starts_at=later, ends_at=later + timedelta(hours=4))
    )
    out = shifts.start_shift(db_session, user_id=courier.user_id, vehicle_id=vehicle.id)
    assert out.id != planned.id
    assert out.planned_end == planned.planned_start
    # The planned shift is still there to start after this one.
    assert db_session.get(Shift, planned.id).status is ShiftStatus.planned
