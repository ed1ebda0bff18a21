"""The courier app over HTTP: shift, route, stop events with proof of delivery, failures, offers,
pings; couriers see only their own stops, customers are turned away."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.auth.models import Role
from dispatch import cycle, repository, stop_events
from dispatch.fleet_models import Courier, CourierPosition, CourierStatus
from dispatch.models import Order, OrderStatus
from dispatch.pins import delivery_pin
from dispatch.route_models import RouteStop, StopKind
from tests.dispatch import fleet_world as fw
from tests.factories import auth_headers, create_user
from warehouse.models import MovementKind, StockLevel, StockMovement


@pytest.fixture
def fleet(db_session) -> fw.Fleet:
    return fw.build(db_session)


def _plan(db_session, fleet) -> None:
    cycle.run_zone(fleet.zone.id, scope=fw.scope_of(db_session), time_limit_s=0.3)


def _h(fleet, courier) -> dict[str, str]:
    return auth_headers(fleet.users[courier.id])


def _assigned_order(db_session, fleet, courier, **kw):
    oid = fw.order(db_session, fleet, lat=52.524, lon=13.404, **kw)
    fw.pack(db_session, fleet, oid)
    _plan(db_session, fleet)
    stops = {s.kind: s for s in db_session.scalars(select(RouteStop).where(RouteStop.order_id == oid))}
    assert stops[StopKind.pickup].courier_id == courier.id
    return oid, stops[StopKind.pickup].id, stops[StopKind.dropoff].id


def test_route_shows_my_stops_in_order_with_planned_times(client, db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    _, pickup, dropoff = _assigned_order(db_session, fleet, courier)
    body = client.get("/courier/route", headers=_h(fleet, courier)).json()
    assert [(s["id"], s["kind"]) for s in body["stops"]] == [(str(pickup), "pickup"), (str(dropoff), "dropoff")]
    assert body["status"] == "on_route"
    assert all(s["planned_arrival_at"] for s in body["stops"])
    assert body["stops"][1]["address"]
    assert "phone" not in body["stops"][1]


def test_pick_up_with_bag_check_then_deliver_with_pin(client, db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    oid, pickup, dropoff = _assigned_order(db_session, fleet, courier)
    h = _h(fleet, courier)
    assert client.post(f"/courier/stops/{pickup}/arrive", headers=h).json()["status"] == "arrived"
    wrong = client.post(f"/courier/stops/{pickup}/picked-up", json={"bags": 3}, headers=h)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "bag_count_mismatch")
    ok = client.post(f"/courier/stops/{pickup}/picked-up", json={"bags": 1}, headers=h)
    assert ok.status_code == 200, ok.text
    assert db_session.get(Order, oid, populate_existing=True).status is OrderStatus.picked_up
    pin = delivery_pin(oid)
    bad_pin = f"{(int(pin) + 1) % 10000:04d}"
    refused = client.post(f"/courier/stops/{dropoff}/delivered", json={"pin": bad_pin}, headers=h)
    assert (refused.status_code, refused.json()["code"]) == (422, "wrong_pin")
    none = client.post(f"/courier/stops/{dropoff}/delivered", json={}, headers=h)
    assert (none.status_code, none.json()["code"]) == (422, "proof_of_delivery_required")
    done = client.post(f"/courier/stops/{dropoff}/delivered", json={"pin": pin}, headers=h)
    assert done.status_code == 200, done.text
    order = db_session.get(Order, oid, populate_existing=True)
    assert (order.status, order.payment_status.value) == (OrderStatus.delivered, "captured")
    assert client.get("/courier/route", headers=h).json()["stops"] == []


def test_refused_delivery_goes_back_to_the_store(client, db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    oid, pickup, dropoff = _assigned_order(db_session, fleet, courier)
    h = _h(fleet, courier)
    client.post(f"/courier/stops/{pickup}/picked-up", json={"bags": 1}, headers=h)
    r = client.post(f"/courier/stops/{dropoff}/failed", json={"reason": "refused"}, headers=h)
    assert r.status_code == 200, r.text
    assert db_session.get(Order, oid, populate_existing=True).status is OrderStatus.failed_delivery
    _plan(db_session, fleet)
    stops = client.get("/courier/route", headers=h).json()["stops"]
    assert [(s["order_id"], s["kind"]) for s in stops] == [(str(oid), "return")]
    fulfilment = repository.fulfilments_of(db_session, [oid])[0]
    shelf_before = _on_hand(db_session, fulfilment.location_id, fleet.skus[0].id)
    back = client.post(f"/courier/stops/{stops[0]['id']}/delivered", json={}, headers=h)
    assert back.status_code == 200, back.text
    order = db_session.get(Order, oid, populate_existing=True)
    assert (order.status, order.payment_status.value) == (OrderStatus.returned, "voided")
    # The unit that left the shelf at picking is back on it, through a `return` ledger line.
    assert _on_hand(db_session, fulfilment.location_id, fleet.skus[0].id) == shelf_before + 1
    kinds = db_session.scalars(select(StockMovement.kind).where(StockMovement.ref_id == oid)).all()
    assert MovementKind.return_ in kinds


def _on_hand(db_session, location_id, sku_id) -> int:
    level = db_session.get(StockLevel, (location_id, sku_id), populate_existing=True)
    assert level is not None
    on_hand: int = level.on_hand
    return on_hand


def test_customer_absent_is_reattempted_later(client, db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    oid, pickup, dropoff = _assigned_order(db_session, fleet, courier)
    h = _h(fleet, courier)
    client.post(f"/courier/stops/{pickup}/picked-up", json={"bags": 1}, headers=h)
    client.post(f"/courier/stops/{dropoff}/failed", json={"reason": "customer_absent"}, headers=h)
    assert db_session.get(Order, oid, populate_existing=True).status is OrderStatus.picked_up
    _plan(db_session, fleet)
    (again,) = client.get("/courier/route", headers=h).json()["stops"]
    assert (again["kind"], again["id"] == str(dropoff)) == ("dropoff", False)
    # The courier may get there sooner, but hands over no earlier than the retry time.
    handover_done = datetime.fromisoformat(again["planned_departure_at"])
    assert handover_done >= clock.now() + stop_events.RETRY_AFTER


def test_a_courier_cannot_see_or_touch_another_couriers_stop(client, db_session, fleet) -> None:
    mine = fw.add_courier(db_session, fleet)
    other = fw.add_courier(db_session, fleet, lat=52.40, lon=13.20)
    _, pickup, _ = _assigned_order(db_session, fleet, mine)
    for path in ("arrive", "picked-up", "delivered", "failed"):
        body = {"picked-up": {"bags": 1}, "failed": {"reason": "refused"}, "delivered": {}}.get(path)
        r = client.post(f"/courier/stops/{pickup}/{path}", json=body, headers=_h(fleet, other))
        assert (r.status_code, r.json()["code"]) == (404, "stop_not_found")
    assert client.get("/courier/route", headers=_h(fleet, other)).json()["stops"] == []


def test_customers_and_staff_get_403_on_courier_endpoints(client, db_session) -> None:
    for role in (Role.customer, Role.dispatcher):
        h = auth_headers(create_user(db_session, role=role))
        for method, path in (("get", "/courier/route"), ("post", "/courier/shift/end")):
            r = getattr(client, method)(path, headers=h)
            assert (r.status_code, r.json()["code"]) == (403, "forbidden_role")


def test_shift_start_break_and_end(client, db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet, start=False)
    from dispatch.fleet_models import FleetVehicle

    vehicle = db_session.scalars(select(FleetVehicle).where(FleetVehicle.zone_id == fleet.zone.id)).first()
    h = _h(fleet, courier)
    started = client.post("/courier/shift/start", json={"vehicle": str(vehicle.id)}, headers=h)
    assert started.status_code == 200, started.text
    assert started.json()["courier_status"] == "available"
    again = client.post("/courier/shift/start", json={"vehicle": str(vehicle.id)}, headers=h)
    assert (again.status_code, again.json()["code"]) == (409, "already_on_shift")
    assert client.post("/courier/shift/break", json={"on": True}, headers=h).json()["courier_status"] == "break"
    assert client.post("/courier/shift/break", json={"on": False}, headers=h).json()["courier_status"] == "available"
    ended = client.post("/courier/shift/end", headers=h)
    assert ended.json()["status"] == "ended"
    assert db_session.get(Courier, courier.id, populate_existing=True).status is CourierStatus.offline


def test_ending_a_shift_with_goods_on_board_is_refused(client, db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    _, pickup, _ = _assigned_order(db_session, fleet, courier)
    h = _h(fleet, courier)
    client.post(f"/courier/stops/{pickup}/picked-up", json={"bags": 1}, headers=h)
    r = client.post("/courier/shift/end", headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "goods_on_board")


def test_ping_batch_applies_the_sanity_rules(client, db_session, fleet) -> None:
    courier = fw.add_courier(db_session, fleet)
    courier.last_lat = courier.last_lon = courier.last_seen_at = None  # no fix yet
    db_session.flush()
    now = clock.now()
    base = {"lat": 52.52, "lon": 13.405, "accuracy_m": 10, "speed_mps": 4.0, "heading": 90}

    def ping(seconds: float, **kw):
        return {**base, **kw, "ts": (now + timedelta(seconds=seconds)).isoformat()}

    pings = [
        ping(-600, lat=52.5201),  # after a dead zone: history only
        ping(-10, lat=52.5202),  # live
        ping(-9.5, lat=52.5203),  # < 1 s after the previous: rate limited
        ping(-20),  # out of order
        ping(-5, lat=53.0),  # 50 km in 5 s
        ping(-4, accuracy_m=500),  # inaccurate
        ping(120),  # in the future
        ping(-1, lat=52.5204),  # live
    ]
    r = client.post("/courier/pings", json={"pings": pings}, headers=_h(fleet, courier))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "accepted": 3,
        "history_only": 1,
        "dropped": {"rate_limited": 1, "out_of_order": 1, "too_fast": 1, "inaccurate": 1, "future": 1},
    }
    rows = db_session.scalars(select(CourierPosition).where(CourierPosition.courier_id == courier.id)).all()
    assert sorted(r.lat for r in rows) == [52.5201, 52.5202, 52.5204]
    c = db_session.get(Courier, courier.id, populate_existing=True)
    assert c.last_lat == 52.5204


@pytest.mark.parametrize(
    "body",
    [
        {"pings": []},
        {"pings": [{"lat": 91, "lon": 0, "accuracy_m": 5, "ts": "2026-01-01T00:00:00Z"}]},
        {"pings": [{"lat": "NaN", "lon": 0, "accuracy_m": 5, "ts": "2026-01-01T00:00:00Z"}]},
    ],
)
def test_bad_ping_batches_are_422(client, db_session, fleet, body) -> None:
    courier = fw.add_courier(db_session, fleet)
    r = client.post("/courier/pings", json=body, headers=_h(fleet, courier))
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


def test_offers_must_be_accepted_in_a_require_accept_fleet(client, db_session) -> None:
    fleet = fw.build(db_session, require_accept=True)
    courier = fw.add_courier(db_session, fleet)
    oid = fw.order(db_session, fleet, lat=52.524, lon=13.404)
    fw.pack(db_session, fleet, oid)
    _plan(db_session, fleet)
    h = _h(fleet, courier)
    (pickup, _) = client.get("/courier/route", headers=h).json()["stops"]
    assert pickup["offer"] == "offered"
    assert db_session.get(Order, oid, populate_existing=True).status is OrderStatus.packed
    early = client.post(f"/courier/stops/{pickup['id']}/picked-up", json={"bags": 1}, headers=h)
    assert (early.status_code, early.json()["code"]) == (404, "offer_not_accepted")
    assert client.post(f"/courier/offers/{oid}/accept", headers=h).status_code == 204
    assert db_session.get(Order, oid, populate_existing=True).status is OrderStatus.assigned


def test_declined_offer_goes_back_to_planning(client, db_session) -> None:
    fleet = fw.build(db_session, require_accept=True)
    courier = fw.add_courier(db_session, fleet)
    oid = fw.order(db_session, fleet, lat=52.524, lon=13.404)
    fw.pack(db_session, fleet, oid)
    _plan(db_session, fleet)
    h = _h(fleet, courier)
    assert client.post(f"/courier/offers/{oid}/decline", headers=h).status_code == 204
    assert client.get("/courier/route", headers=h).json()["stops"] == []
    again = client.post(f"/courier/offers/{oid}/accept", headers=h)
    assert (again.status_code, again.json()["code"]) == (404, "offer_not_found")
