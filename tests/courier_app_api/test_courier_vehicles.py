"""`GET /courier/vehicles`: what a courier may start a shift on — their own zone's active vehicles
that no other courier on shift rides, the one planned for their shift first."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core.auth.models import Role
from dispatch import shifts
from dispatch.fleet_models import Courier, FleetVehicle, Shift, VehicleKind
from tests.dispatch import fleet_world as fw
from tests.factories import auth_headers, create_user
from tests.problems import check_problem


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


def _vehicle(db_session, fleet: fw.Fleet, *, kind: VehicleKind = VehicleKind.car, active: bool = True) -> FleetVehicle:
    vehicle = FleetVehicle(
        label=f"V-{uuid.uuid4().hex[:8]}",
        kind=kind,
        capacity_units=12,
        capacity_kg=150,
        cold_box=False,
        zone_id=fleet.zone.id,
        active=active,
    )
    db_session.add(vehicle)
    db_session.flush()
    return vehicle


def _listed(client, fleet: fw.Fleet, courier: Courier) -> list[dict[str, Any]]:
    response = client.get("/courier/vehicles", headers=auth_headers(fleet.users[courier.id]))
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def _active_in_zone(db_session, zone_id: uuid.UUID) -> set[str]:
    query = select(FleetVehicle.id).where(FleetVehicle.zone_id == zone_id, FleetVehicle.active)
    return {str(v) for v in db_session.scalars(query)}


def test_lists_my_zones_vehicles_except_retired_ones_and_other_zones(client, db_session, fleet) -> None:
    me = fw.add_courier(db_session, fleet, start=False)
    car = _vehicle(db_session, fleet)
    retired = _vehicle(db_session, fleet, active=False)
    elsewhere = fw.build(db_session)
    fw.add_courier(db_session, elsewhere, start=False)
    _vehicle(db_session, elsewhere)

    listed = _listed(client, fleet, me)
    ids = {v["id"] for v in listed}
    assert ids == _active_in_zone(db_session, fleet.zone.id)
    assert str(car.id) in ids
    assert str(retired.id) not in ids
    assert ids.isdisjoint(_active_in_zone(db_session, elsewhere.zone.id))
    # Smallest vehicle first; each entry says what it carries.
    assert [v["kind"] for v in listed] == ["bike", "car"]
    assert listed[1] == {
        "id": str(car.id),
        "label": car.label,
        "kind": "car",
        "capacity_units": 12,
        "capacity_kg": 150,
        "cold_box": False,
        "zone_id": str(fleet.zone.id),
        "planned": False,
    }


def test_a_vehicle_ridden_by_a_courier_on_shift_is_not_offered_until_the_shift_ends(client, db_session, fleet) -> None:
    me = fw.add_courier(db_session, fleet, start=False)
    other = fw.add_courier(db_session, fleet, start=True)
    taken = str(fw.vehicle_of(db_session, other).id)
    assert taken not in {v["id"] for v in _listed(client, fleet, me)}
    assert len(_listed(client, fleet, me)) == len(_active_in_zone(db_session, fleet.zone.id)) - 1

    shifts.end_shift(db_session, user_id=fleet.users[other.id].id)
    assert taken in {v["id"] for v in _listed(client, fleet, me)}


def test_the_vehicle_planned_for_my_shift_comes_first(client, db_session, fleet) -> None:
    me = fw.add_courier(db_session, fleet, start=False)
    van = _vehicle(db_session, fleet, kind=VehicleKind.car)
    shift = db_session.scalars(select(Shift).where(Shift.courier_id == me.id)).one()
    shift.vehicle_id = van.id
    db_session.flush()

    listed = _listed(client, fleet, me)
    assert (listed[0]["id"], listed[0]["planned"]) == (str(van.id), True)
    assert [v["planned"] for v in listed[1:]] == [False] * (len(listed) - 1)
    started = client.post("/courier/shift/start", json={"vehicle": listed[0]["id"]}, headers=_h(fleet, me))
    assert started.status_code == 200, started.text


def _h(fleet: fw.Fleet, courier: Courier) -> dict[str, str]:
    return auth_headers(fleet.users[courier.id])


def test_customers_and_couriers_without_a_profile_are_refused(client, db_session, fleet) -> None:
    customer = client.get("/courier/vehicles", headers=auth_headers(fleet.customer))
    check_problem(customer, 403, "forbidden_role")
    no_profile = client.get("/courier/vehicles", headers=auth_headers(create_user(db_session, role=Role.courier)))
    check_problem(no_profile, 403, "not_a_courier")
    check_problem(client.get("/courier/vehicles"), 401, "not_authenticated")
