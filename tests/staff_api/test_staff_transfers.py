"""Store staff see what is coming to their location and book its arrival as counted; for them,
other locations' transfers do not exist."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.auth.models import Role
from stores.models import LocationKind
from tests.factories import auth_headers, create_location, create_sku, stock
from tests.problems import check_problem
from warehouse import transfers
from warehouse.models import StockAlert, StockLevel
from warehouse.transfer_schemas import ReceiptLineIn, TransferLineIn

PROBLEM = "application/problem+json"


@pytest.fixture
def world(db_session, make_user):
    dc = create_location(db_session, kind=LocationKind.distribution_centre)
    store = create_location(db_session, parent=dc)
    other_store = create_location(db_session, parent=dc)
    milk, eggs = create_sku(db_session), create_sku(db_session)
    for sku in (milk, eggs):
        stock(db_session, dc, sku, 100)
    return {
        "dc": dc,
        "store": store,
        "other_store": other_store,
        "milk": milk,
        "eggs": eggs,
        "staff": auth_headers(make_user(role=Role.staff, location_id=store.id)),
        "other_staff": auth_headers(make_user(role=Role.staff, location_id=other_store.id)),
    }


def _transfer(db_session, w, *pairs, to="store", dispatch=True):
    transfer = transfers.create_transfer(
        db_session,
        from_location_id=w["dc"].id,
        to_location_id=w[to].id,
        lines=[TransferLineIn(sku_id=w[sku].id, qty=qty) for sku, qty in pairs],
    )
    if dispatch:
        transfers.dispatch_transfer(db_session, transfer_id=transfer.id)
    return transfer


def _receipt(w, *pairs) -> dict[str, list[dict[str, object]]]:
    return {"lines": [{"sku_id": str(w[sku].id), "qty_received": qty} for sku, qty in pairs]}


def _on_hand(db_session, location, sku) -> int:
    level = db_session.get(StockLevel, (location.id, sku.id), populate_existing=True)
    return level.on_hand if level else 0


def test_staff_see_what_is_coming_to_their_location_only(client: TestClient, db_session, world) -> None:
    on_road = _transfer(db_session, world, ("milk", 5))
    planned = _transfer(db_session, world, ("eggs", 2), dispatch=False)
    done = _transfer(db_session, world, ("milk", 1))
    transfers.receive_transfer(
        db_session, transfer_id=done.id, lines=[ReceiptLineIn(sku_id=world["milk"].id, qty_received=1)]
    )
    _transfer(db_session, world, ("milk", 7), to="other_store")

    incoming = client.get("/staff/transfers", headers=world["staff"])
    assert incoming.status_code == 200, incoming.text
    assert {t["id"] for t in incoming.json()["items"]} == {str(on_road.id), str(planned.id)}

    history = client.get("/staff/transfers", params={"status": "received"}, headers=world["staff"]).json()
    assert [t["id"] for t in history["items"]] == [str(done.id)]
    theirs = client.get("/staff/transfers", headers=world["other_staff"]).json()
    assert theirs["total"] == 1


def test_staff_receive_an_arrival_as_counted(client: TestClient, db_session, world) -> None:
    transfer = _transfer(db_session, world, ("milk", 10), ("eggs", 6))

    received = client.post(
        f"/staff/transfers/{transfer.id}/receive",
        json=_receipt(world, ("milk", 10), ("eggs", 6)),
        headers=world["staff"],
    )

    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received"
    assert received.json()["lost_qty"] == 0
    assert (
        _on_hand(db_session, world["store"], world["milk"]),
        _on_hand(db_session, world["store"], world["eggs"]),
    ) == (
        10,
        6,
    )


def test_a_short_delivery_is_booked_as_counted_and_the_loss_recorded(client: TestClient, db_session, world) -> None:
    transfer = _transfer(db_session, world, ("milk", 10), ("eggs", 6))

    received = client.post(
        f"/staff/transfers/{transfer.id}/receive",
        json=_receipt(world, ("milk", 9), ("eggs", 0)),
        headers=world["staff"],
    )

    assert received.status_code == 200, received.text
    body = received.json()
    assert body["lost_qty"] == 7
    assert {line["sku_id"]: (line["qty_received"], line["qty_lost"]) for line in body["lines"]} == {
        str(world["milk"].id): (9, 1),
        str(world["eggs"].id): (0, 6),
    }
    assert _on_hand(db_session, world["store"], world["milk"]) == 9
    assert _on_hand(db_session, world["store"], world["eggs"]) == 0


def test_counting_more_than_was_sent_is_refused(client: TestClient, db_session, world) -> None:
    transfer = _transfer(db_session, world, ("milk", 10))

    refused = client.post(
        f"/staff/transfers/{transfer.id}/receive", json=_receipt(world, ("milk", 11)), headers=world["staff"]
    )

    check_problem(refused, 422, "over_receipt")
    assert refused.json()["qty"] == 10
    assert _on_hand(db_session, world["store"], world["milk"]) == 0
    assert client.get(f"/staff/transfers/{transfer.id}", headers=world["staff"]).json()["status"] == "in_transit"


def test_a_receipt_must_count_every_line(client: TestClient, db_session, world) -> None:
    transfer = _transfer(db_session, world, ("milk", 10), ("eggs", 6))
    refused = client.post(
        f"/staff/transfers/{transfer.id}/receive", json=_receipt(world, ("milk", 10)), headers=world["staff"]
    )
    check_problem(refused, 422, "receipt_lines_mismatch")
    assert refused.json()["missing"] == [str(world["eggs"].id)]


@pytest.mark.parametrize(
    "body",
    [{}, {"lines": []}, {"lines": [{"sku_id": "x", "qty_received": 1}]}, {"lines": [{"qty_received": -1}]}],
)
def test_malformed_receipts_are_rejected(client: TestClient, db_session, world, body) -> None:
    transfer = _transfer(db_session, world, ("milk", 10))
    for line in body.get("lines", []):
        line.setdefault("sku_id", str(world["milk"].id))
    check_problem(
        client.post(f"/staff/transfers/{transfer.id}/receive", json=body, headers=world["staff"]),
        422,
        "invalid_request",
    )


def test_a_transfer_still_planned_cannot_be_received(client: TestClient, db_session, world) -> None:
    transfer = _transfer(db_session, world, ("milk", 10), dispatch=False)
    refused = client.post(
        f"/staff/transfers/{transfer.id}/receive", json=_receipt(world, ("milk", 10)), headers=world["staff"]
    )
    check_problem(refused, 409, "invalid_transition")


def test_receiving_twice_is_a_conflict_not_double_stock(client: TestClient, db_session, world) -> None:
    transfer = _transfer(db_session, world, ("milk", 10))
    url = f"/staff/transfers/{transfer.id}/receive"
    assert client.post(url, json=_receipt(world, ("milk", 10)), headers=world["staff"]).status_code == 200
    check_problem(
        client.post(url, json=_receipt(world, ("milk", 10)), headers=world["staff"]), 409, "invalid_transition"
    )
    assert _on_hand(db_session, world["store"], world["milk"]) == 10


def test_another_locations_transfer_is_not_found(client: TestClient, db_session, world) -> None:
    transfer = _transfer(db_session, world, ("milk", 10))

    check_problem(
        client.get(f"/staff/transfers/{transfer.id}", headers=world["other_staff"]), 404, "transfer_not_found"
    )
    refused = client.post(
        f"/staff/transfers/{transfer.id}/receive", json=_receipt(world, ("milk", 10)), headers=world["other_staff"]
    )
    check_problem(refused, 404, "transfer_not_found")
    assert _on_hand(db_session, world["other_store"], world["milk"]) == 0
    check_problem(client.get(f"/staff/transfers/{uuid.uuid4()}", headers=world["staff"]), 404, "transfer_not_found")


def test_a_receipt_clears_the_stock_out_alert(client: TestClient, db_session, world) -> None:
    from warehouse import replenishment

    stock(db_session, world["store"], world["milk"], 0, reorder_point=5, target_level=20)
    replenishment.replenish_location(db_session, location_id=world["store"].id)
    [transfer] = client.get("/staff/transfers", headers=world["staff"]).json()["items"]
    transfers.dispatch_transfer(db_session, transfer_id=uuid.UUID(transfer["id"]))

    client.post(
        f"/staff/transfers/{transfer['id']}/receive", json=_receipt(world, ("milk", 20)), headers=world["staff"]
    )

    open_alerts = db_session.scalars(
        select(StockAlert).where(StockAlert.location_id == world["store"].id, StockAlert.resolved_at.is_(None))
    ).all()
    assert open_alerts == []


@pytest.mark.parametrize("role", [Role.customer, Role.courier, Role.dispatcher, Role.admin])
def test_only_staff_use_the_receiving_endpoints(client: TestClient, make_user, world, role) -> None:
    headers = auth_headers(make_user(role=role))
    check_problem(client.get("/staff/transfers", headers=headers), 403, "forbidden_role")
    check_problem(
        client.post(f"/staff/transfers/{uuid.uuid4()}/receive", json={"lines": []}, headers=headers),
        403,
        "forbidden_role",
    )


def test_list_parameters_are_bounded(client: TestClient, world) -> None:
    check_problem(client.get("/staff/transfers", params={"limit": 101}, headers=world["staff"]), 422, "invalid_request")
    check_problem(
        client.get("/staff/transfers", params={"status": "lost"}, headers=world["staff"]), 422, "invalid_request"
    )
