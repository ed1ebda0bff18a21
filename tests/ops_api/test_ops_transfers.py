"""Dispatchers and admins steer transfers (`/ops/transfers`) and see stock alerts
(`/ops/stock-alerts`); every refusal is problem+json with a code."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from core.auth.models import Role
from stores.models import LocationKind
from tests.factories import auth_headers, create_location, create_sku, stock
from tests.problems import check_problem
from warehouse import replenishment

PROBLEM = "application/problem+json"


@pytest.fixture
def world(db_session, make_user):
    central = create_location(db_session, kind=LocationKind.central_warehouse, with_zone=False)
    dc = create_location(db_session, kind=LocationKind.distribution_centre, parent=central)
    store = create_location(db_session, parent=dc)
    milk, eggs = create_sku(db_session), create_sku(db_session)
    for sku in (milk, eggs):
        stock(db_session, dc, sku, 100)
    dispatcher = auth_headers(make_user(role=Role.dispatcher))
    return {"central": central, "dc": dc, "store": store, "milk": milk, "eggs": eggs, "ops": dispatcher}


def _create(client: TestClient, w, *pairs, source="dc", destination="store"):
    body = {
        "from_location_id": str(w[source].id),
        "to_location_id": str(w[destination].id),
        "lines": [{"sku_id": str(w[sku].id), "qty": qty} for sku, qty in pairs],
    }
    return client.post("/ops/transfers", json=body, headers=w["ops"])


def test_an_operator_plans_dispatches_and_follows_a_transfer(client: TestClient, world) -> None:
    created = _create(client, world, ("milk", 10), ("eggs", 4))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "planned"
    assert body["reason"] == "manual"
    assert body["total_qty"] == 14
    assert {line["sku_code"]: line["qty"] for line in body["lines"]} == {
        world["milk"].code: 10,
        world["eggs"].code: 4,
    }

    dispatched = client.post(f"/ops/transfers/{body['id']}/dispatch", headers=world["ops"])
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["status"] == "in_transit"
    assert dispatched.json()["expected_at"] > dispatched.json()["dispatched_at"]

    fetched = client.get(f"/ops/transfers/{body['id']}", headers=world["ops"])
    assert fetched.json()["status"] == "in_transit"


def test_a_planned_transfer_can_be_cancelled_but_not_once_it_has_left(client: TestClient, world) -> None:
    first = _create(client, world, ("milk", 3)).json()
    cancelled = client.post(f"/ops/transfers/{first['id']}/cancel", headers=world["ops"])
    assert cancelled.json()["status"] == "cancelled"

    second = _create(client, world, ("milk", 3)).json()
    client.post(f"/ops/transfers/{second['id']}/dispatch", headers=world["ops"])
    refused = client.post(f"/ops/transfers/{second['id']}/cancel", headers=world["ops"])
    check_problem(refused, 409, "invalid_transition")
    assert (refused.json()["current_status"], refused.json()["action"]) == ("in_transit", "cancel")
    again = client.post(f"/ops/transfers/{second['id']}/dispatch", headers=world["ops"])
    check_problem(again, 409, "invalid_transition")


def test_transfers_are_listed_newest_first_with_filters_and_pages(client: TestClient, world) -> None:
    ids = [_create(client, world, ("milk", n)).json()["id"] for n in (1, 2, 3)]
    client.post(f"/ops/transfers/{ids[0]}/dispatch", headers=world["ops"])

    page = client.get("/ops/transfers", params={"limit": 2}, headers=world["ops"]).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 0, 2)
    rest = client.get("/ops/transfers", params={"limit": 2, "offset": 2}, headers=world["ops"]).json()
    assert len(rest["items"]) == 1
    assert {t["id"] for t in page["items"] + rest["items"]} == set(ids)

    planned = client.get("/ops/transfers", params={"status": "planned"}, headers=world["ops"]).json()
    assert {t["id"] for t in planned["items"]} == set(ids[1:])
    both = client.get(
        "/ops/transfers", params=[("status", "planned"), ("status", "in_transit")], headers=world["ops"]
    ).json()
    assert both["total"] == 3
    elsewhere = client.get(
        "/ops/transfers", params={"to_location_id": str(world["dc"].id)}, headers=world["ops"]
    ).json()
    assert elsewhere["total"] == 0
    from_dc = client.get("/ops/transfers", params={"from_location_id": str(world["dc"].id)}, headers=world["ops"])
    assert from_dc.json()["total"] == 3


@pytest.mark.parametrize(
    "params",
    [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"status": "lost"}, {"to_location_id": "not-a-uuid"}],
)
def test_list_parameters_are_bounded(client: TestClient, world, params) -> None:
    check_problem(client.get("/ops/transfers", params=params, headers=world["ops"]), 422, "invalid_request")


def test_a_transfer_must_go_down_the_tiers(client: TestClient, world) -> None:
    up = _create(client, world, ("milk", 1), source="store", destination="dc")
    check_problem(up, 422, "transfer_not_down_tiers")
    same = _create(client, world, ("milk", 1), source="dc", destination="dc")
    check_problem(same, 422, "same_location")


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"qty": 1}],
        [{"sku_id": "not-a-uuid", "qty": 1}],
        [{"sku_id": "MILK", "qty": 0}],
        [{"sku_id": "MILK", "qty": 1_000_001}],
        [{"sku_id": "MILK", "qty": 1.5}],
        [{"sku_id": "MILK", "qty": 1, "note": "extra fields are refused"}],
    ],
)
def test_bad_lines_are_rejected(client: TestClient, world, lines) -> None:
    for line in lines:
        if line.get("sku_id") == "MILK":
            line["sku_id"] = str(world["milk"].id)
    body = {"from_location_id": str(world["dc"].id), "to_location_id": str(world["store"].id), "lines": lines}
    check_problem(client.post("/ops/transfers", json=body, headers=world["ops"]), 422, "invalid_request")


def test_planning_more_than_the_source_has_is_a_conflict(client: TestClient, world) -> None:
    refused = _create(client, world, ("milk", 101))
    check_problem(refused, 409, "insufficient_stock")
    assert refused.json()["available"] == 100
    assert client.get("/ops/transfers", headers=world["ops"]).json()["total"] == 0


def test_duplicate_skus_and_unknown_ends_are_refused(client: TestClient, world) -> None:
    check_problem(_create(client, world, ("milk", 1), ("milk", 2)), 422, "duplicate_sku")
    body = {
        "from_location_id": str(world["dc"].id),
        "to_location_id": str(uuid.uuid4()),
        "lines": [{"sku_id": str(world["milk"].id), "qty": 1}],
    }
    check_problem(client.post("/ops/transfers", json=body, headers=world["ops"]), 404, "location_not_found")
    check_problem(client.get(f"/ops/transfers/{uuid.uuid4()}", headers=world["ops"]), 404, "transfer_not_found")
    check_problem(
        client.post(f"/ops/transfers/{uuid.uuid4()}/dispatch", headers=world["ops"]), 404, "transfer_not_found"
    )


def test_open_stock_alerts_show_stock_outs_and_unfillable_replenishment(client: TestClient, db_session, world) -> None:
    sku = create_sku(db_session)
    stock(db_session, world["dc"], sku, 5)
    stock(db_session, world["store"], sku, 0, reorder_point=5, target_level=20)
    replenishment.replenish_location(db_session, location_id=world["store"].id)

    alerts = client.get("/ops/stock-alerts", headers=world["ops"])
    assert alerts.status_code == 200, alerts.text
    by_kind = {a["kind"]: a for a in alerts.json()["items"]}
    assert set(by_kind) == {"stock_out", "unfillable_transfer"}
    assert by_kind["unfillable_transfer"]["shortfall"] == 15
    assert by_kind["unfillable_transfer"]["sku_code"] == sku.code
    assert by_kind["stock_out"]["location_code"] == world["store"].code

    only = client.get("/ops/stock-alerts", params={"kind": "stock_out"}, headers=world["ops"]).json()
    assert [a["kind"] for a in only["items"]] == ["stock_out"]
    elsewhere = client.get("/ops/stock-alerts", params={"location_id": str(world["dc"].id)}, headers=world["ops"])
    assert elsewhere.json()["total"] == 0
    check_problem(client.get("/ops/stock-alerts", params={"limit": 500}, headers=world["ops"]), 422, "invalid_request")


def test_short_receipts_can_be_listed_for_carrier_claims(client: TestClient, db_session, world) -> None:
    from warehouse import transfers
    from warehouse.transfer_schemas import ReceiptLineIn

    created = _create(client, world, ("milk", 10)).json()
    full = _create(client, world, ("eggs", 2)).json()
    for transfer, counted in ((created, 8), (full, 2)):
        client.post(f"/ops/transfers/{transfer['id']}/dispatch", headers=world["ops"])
        sku = world["milk"] if transfer is created else world["eggs"]
        transfers.receive_transfer(
            db_session,
            transfer_id=uuid.UUID(transfer["id"]),
            lines=[ReceiptLineIn(sku_id=sku.id, qty_received=counted)],
        )

    short = client.get("/ops/transfers", params={"short_only": True}, headers=world["ops"]).json()
    assert [t["id"] for t in short["items"]] == [created["id"]]
    assert short["items"][0]["lost_qty"] == 2
    assert short["items"][0]["lines"][0]["qty_lost"] == 2


@pytest.mark.parametrize("role", [Role.customer, Role.courier, Role.staff])
def test_only_dispatchers_and_admins_may_use_these_endpoints(client: TestClient, make_user, world, role) -> None:
    user = make_user(role=role, location_id=world["store"].id if role is Role.staff else None)
    headers = auth_headers(user)
    check_problem(client.get("/ops/transfers", headers=headers), 403, "forbidden_role")
    check_problem(client.get("/ops/stock-alerts", headers=headers), 403, "forbidden_role")
    body = {"from_location_id": str(world["dc"].id), "to_location_id": str(world["store"].id), "lines": []}
    check_problem(client.post("/ops/transfers", json=body, headers=headers), 403, "forbidden_role")


def test_admins_may_too_and_anonymous_callers_may_not(client: TestClient, make_user, world) -> None:
    admin = auth_headers(make_user(role=Role.admin))
    assert client.get("/ops/transfers", headers=admin).status_code == 200
    check_problem(client.get("/ops/transfers"), 401, "not_authenticated")
