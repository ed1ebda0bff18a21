"""My orders over HTTP: list and detail (mine only), cancel, and answering a proposed substitute."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dispatch import picking
from dispatch.models import Order, OrderStatus
from dispatch.pins import delivery_pin
from dispatch.schemas import PickLineIn, SubstituteIn
from dispatch.states import transition
from tests.dispatch.world import World, build, level
from tests.factories import place_order, stock

PROBLEM = "application/problem+json"


@pytest.fixture
def w(db_session) -> World:
    world = build(db_session)
    for sku in (world.milk, world.bread):
        stock(db_session, world.near, sku, 10)
    return world


def _problem(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    problem: dict[str, Any] = response.json()
    return problem


def test_a_customer_lists_and_reads_their_orders_and_nobody_elses(client, db_session, w) -> None:
    older = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    newer = place_order(db_session, customer=w.customer, lines=[(w.bread, 2)])
    theirs = place_order(db_session, customer=w.other, lines=[(w.milk, 1)])

    page = client.get("/customer/orders", headers=w.headers("customer")).json()
    assert page["total"] == 2
    assert {item["id"] for item in page["items"]} == {older["id"], newer["id"]}
    assert client.get("/customer/orders?limit=1", headers=w.headers("customer")).json()["items"][0]["id"] in {
        older["id"],
        newer["id"],
    }
    detail = client.get(f"/customer/orders/{older['id']}", headers=w.headers("customer"))
    assert detail.status_code == 200
    assert detail.json() == older

    _problem(client.get(f"/customer/orders/{theirs['id']}", headers=w.headers("customer")), 404, "order_not_found")
    _problem(client.get(f"/customer/orders/{uuid.uuid4()}", headers=w.headers("customer")), 404, "order_not_found")
    _problem(client.get("/customer/orders/not-a-uuid", headers=w.headers("customer")), 422, "invalid_request")
    _problem(client.get("/customer/orders?limit=101", headers=w.headers("customer")), 422, "invalid_request")


def test_cancel_releases_the_stock_and_a_second_cancel_is_409(client, db_session, w) -> None:
    order = place_order(db_session, customer=w.customer, lines=[(w.milk, 3)])
    url = f"/customer/orders/{order['id']}/cancel"
    _problem(client.post(url, headers=w.headers("other")), 404, "order_not_found")
    response = client.post(url, json={"reason": "ordered by mistake"}, headers=w.headers("customer"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["payment"]["status"] == "voided"
    assert level(db_session, w.near, w.milk) == (10, 0)
    _problem(client.post(url, headers=w.headers("customer")), 409, "invalid_transition")
    _problem(
        client.post(url, json={"reason": "x", "status": "placed"}, headers=w.headers("customer")),
        422,
        "invalid_request",
    )


def test_the_customer_approves_a_proposed_substitute(client, db_session, w) -> None:
    order = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)], substitution="contact")
    order_id = uuid.UUID(order["id"])
    at = {"order_id": order_id, "location_id": w.near.id, "actor_id": w.near_staff.id}
    picking.start_picking(db_session, **at)
    picking.pick_line(
        db_session, line_no=1, data=PickLineIn(picked=0, substitute=SubstituteIn(sku_id=w.bread.id, qty=1)), **at
    )
    url = f"/customer/orders/{order_id}/substitutions/1"

    _problem(client.post(url, json={"decision": "maybe"}, headers=w.headers("customer")), 422, "invalid_request")
    _problem(client.post(url, json={"decision": "approve"}, headers=w.headers("other")), 404, "order_not_found")
    _problem(
        client.post(
            f"/customer/orders/{order_id}/substitutions/0", json={"decision": "approve"}, headers=w.headers("customer")
        ),
        422,
        "invalid_request",
    )
    response = client.post(url, json={"decision": "approve"}, headers=w.headers("customer"))
    assert response.status_code == 200, response.text
    line = response.json()["lines"][0]
    assert line["substitute"]["state"] == "approved"
    assert line["substitute"]["sku_code"] == w.bread.code
    assert line["amount_minor"] == 129  # capped at the missing milk's price
    assert level(db_session, w.near, w.bread) == (9, 0)
    _problem(
        client.post(url, json={"decision": "reject"}, headers=w.headers("customer")), 409, "no_substitution_pending"
    )


def test_the_delivery_pin_shows_only_while_a_courier_is_on_the_way(client, db_session, w) -> None:
    placed = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    order = db_session.get(Order, uuid.UUID(placed["id"]))
    url = f"/customer/orders/{placed['id']}"
    assert placed["delivery_pin"] is None
    assert client.get(url, headers=w.headers("customer")).json()["delivery_pin"] is None
    for status in (OrderStatus.accepted, OrderStatus.picking, OrderStatus.packed, OrderStatus.assigned):
        transition(db_session, order, status)
    db_session.flush()
    shown = client.get(url, headers=w.headers("customer")).json()["delivery_pin"]
    assert shown == delivery_pin(order.id)
    assert len(shown) == 4
    assert shown.isdigit()
    transition(db_session, order, OrderStatus.picked_up)
    db_session.flush()
    assert client.get(url, headers=w.headers("customer")).json()["delivery_pin"] == shown
    transition(db_session, order, OrderStatus.delivered)
    db_session.flush()
    assert client.get(url, headers=w.headers("customer")).json()["delivery_pin"] is None
