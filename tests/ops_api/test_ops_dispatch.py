"""Operators set up the fleet, read dispatch runs and explanations, pin an order to a courier and
take a courier offline (bulk reassignment)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.auth.models import Role
from dispatch import cycle, stop_events
from dispatch.route_models import OrderAssignment, RouteStop, StopKind
from tests.dispatch import fleet_world as fw
from tests.factories import auth_headers, create_location, create_user


@pytest.fixture
def ops(db_session) -> dict[str, str]:
    return auth_headers(create_user(db_session, role=Role.dispatcher))


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


def _plan(db_session, fleet) -> None:
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.3)


def test_operator_sets_up_zone_vehicle_courier_and_shift_and_the_courier_starts(client, db_session, ops) -> None:
    store = create_location(db_session)
    zone = client.post(
        "/ops/dispatch-zones", json={"code": "MITTE", "name": "Mitte", "location_ids": [str(store.id)]}, headers=ops
    )
    assert zone.status_code == 201, zone.text
    zone_id = zone.json()["id"]
    vehicle = client.post(
        "/ops/vehicles",
        json={
            "label": "E-1",
            "kind": "scooter",
            "capacity_units": 6,
            "capacity_kg": 40,
            "cold_box": True,
            "zone_id": zone_id,
        },
        headers=ops,
    )
    assert vehicle.status_code == 201, vehicle.text
    courier = client.post(
        "/ops/couriers",
        json={
            "email": "rider@example.test",
            "password": "a long password",
            "display_name": "Rider",
            "zone_id": zone_id,
        },
        headers=ops,
    )
    assert courier.status_code == 201, courier.text
    now = clock.now()
    shift = client.post(
        "/ops/shifts",
        json={
            "courier_id": courier.json()["id"],
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=4)).isoformat(),
        },
        headers=ops,
    )
    assert shift.status_code == 201, shift.text
    token = client.post("/auth/token", json={"email": "rider@example.test", "password": "a long password"})
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    started = client.post("/courier/shift/start", json={"vehicle": vehicle.json()["id"]}, headers=h)
    assert started.status_code == 200, started.text
    listed = client.get("/ops/couriers", params={"zone_id": zone_id}, headers=ops).json()["items"]
    assert [(c["display_name"], c["status"]) for c in listed] == [("Rider", "available")]


def test_in_a_zone_allowing_ad_hoc_shifts_a_courier_starts_without_a_planned_one(client, db_session, ops) -> None:
    zone = client.post(
        "/ops/dispatch-zones", json={"code": "ADHOC", "name": "Ad hoc", "adhoc_shift_minutes": 120}, headers=ops
    )
    assert zone.status_code == 201, zone.text
    assert zone.json()["adhoc_shift_minutes"] == 120
    zone_id = zone.json()["id"]
    vehicle = client.post(
        "/ops/vehicles",
        json={"label": "B-9", "kind": "bike", "capacity_units": 4, "capacity_kg": 20, "zone_id": zone_id},
        headers=ops,
    )
    courier = client.post(
        "/ops/couriers",
        json={"email": "adhoc@example.test", "password": "a long password", "display_name": "Ad", "zone_id": zone_id},
        headers=ops,
    )
    assert courier.status_code == 201, courier.text
    token = client.post("/auth/token", json={"email": "adhoc@example.test", "password": "a long password"})
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    started = client.post("/courier/shift/start", json={"vehicle": vehicle.json()["id"]}, headers=h)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "active"
    span = datetime.fromisoformat(body["planned_end"]) - datetime.fromisoformat(body["planned_start"])
    assert span == timedelta(minutes=120)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/ops/vehicles", {"label": "X", "kind": "bike", "capacity_units": 0, "capacity_kg": 10, "zone_id": "0" * 32}),
        ("/ops/vehicles", {"label": "X", "kind": "tank", "capacity_units": 2, "capacity_kg": 10, "zone_id": "0" * 32}),
        ("/ops/dispatch-zones", {"code": "", "name": "x"}),
        ("/ops/dispatch-zones", {"code": "Z1", "name": "x", "adhoc_shift_minutes": 721}),
        ("/ops/orders/00000000-0000-0000-0000-000000000000/assign", {"courier": "nope"}),
    ],
)
def test_bad_operator_input_is_422(client, ops, path, body) -> None:
    r = client.post(path, json=body, headers=ops)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_couriers_and_customers_cannot_use_ops_dispatch(client, db_session) -> None:
    for role in (Role.courier, Role.customer):
        r = client.get("/ops/dispatch-runs", headers=auth_headers(create_user(db_session, role=role)))
        assert r.status_code == 403


def test_runs_and_explanation_are_readable(client, db_session, fleet, ops) -> None:
    courier = fw.add_courier(db_session, fleet)
    fw.add_courier(db_session, fleet, lat=52.45, lon=13.30)
    oid = fw.order(db_session, fleet, lat=52.524, lon=13.404)
    fw.pack(db_session, fleet, oid)
    _plan(db_session, fleet)
    runs = client.get("/ops/dispatch-runs", params={"zone_id": str(fleet.zone.id)}, headers=ops).json()["items"]
    assert [(r["orders"], r["assigned"], r["unassigned"]) for r in runs] == [(1, 1, 0)]
    why = client.get(f"/ops/orders/{oid}/explanation", headers=ops).json()
    assert why["courier_id"] == str(courier.id)
    assert why["eta_at"] is not None
    assert why["detour_s"] >= 0
    assert why["details"]["next_best"]["reason"].startswith("would reach the store")
    missing = client.get("/ops/orders/00000000-0000-0000-0000-000000000000/explanation", headers=ops)
    assert missing.status_code == 404


def test_a_pinned_order_stays_on_the_chosen_courier(client, db_session, fleet, ops) -> None:
    near = fw.add_courier(db_session, fleet)
    far = fw.add_courier(db_session, fleet, lat=52.49, lon=13.36)
    oid = fw.order(db_session, fleet, lat=52.524, lon=13.404)
    fw.pack(db_session, fleet, oid)
    _plan(db_session, fleet)
    assert db_session.get(OrderAssignment, oid).courier_id == near.id
    r = client.post(f"/ops/orders/{oid}/assign", json={"courier": str(far.id)}, headers=ops)
    assert r.status_code == 204, r.text
    for _ in range(2):
        _plan(db_session, fleet)
        assert db_session.get(OrderAssignment, oid, populate_existing=True).courier_id == far.id
    stops = db_session.scalars(select(RouteStop).where(RouteStop.order_id == oid)).all()
    assert {s.courier_id for s in stops} == {far.id}


def test_taking_a_courier_offline_releases_what_is_not_picked_up(client, db_session, fleet, ops) -> None:
    gone = fw.add_courier(db_session, fleet)
    oids = []
    for lat, lon in ((52.524, 13.404), (52.523, 13.402)):
        oid = fw.order(db_session, fleet, lat=lat, lon=lon)
        fw.pack(db_session, fleet, oid)
        oids.append(oid)
    _plan(db_session, fleet)
    pickup = db_session.scalars(
        select(RouteStop).where(RouteStop.order_id == oids[0], RouteStop.kind == StopKind.pickup)
    ).one()
    stop_events.picked_up(db_session, user_id=fleet.users[gone.id].id, stop_id=pickup.id, bags=1)
    r = client.post(f"/ops/couriers/{gone.id}/offline", json={"reason": "bike stolen"}, headers=ops)
    assert r.status_code == 200, r.text
    assert r.json()["released"] == [str(oids[1])]
    assert r.json()["on_board"] == [str(oids[0])]
    flagged = client.get("/ops/couriers", params={"flagged": "true"}, headers=ops).json()["items"]
    assert [c["id"] for c in flagged] == [str(gone.id)]
    helper = fw.add_courier(db_session, fleet)
    _plan(db_session, fleet)
    assert db_session.get(OrderAssignment, oids[1], populate_existing=True).courier_id == helper.id
    assert db_session.get(OrderAssignment, oids[0], populate_existing=True).courier_id == gone.id
