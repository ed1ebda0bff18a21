"""Store staff pick, substitute and pack over HTTP — their own location's orders only."""

from __future__ import annotations

import uuid

import pytest

from dispatch.models import Order
from tests.dispatch.world import World, build, level
from tests.factories import place_order, stock
from tests.problems import check_problem

PROBLEM = "application/problem+json"


@pytest.fixture
def w(db_session) -> World:
    world = build(db_session)
    for sku in (world.milk, world.bread, world.ice):
        stock(db_session, world.near, sku, 10)
    return world


def test_the_pick_list_shows_my_open_orders_with_lines_along_the_pick_path(client, db_session, w) -> None:
    first = place_order(db_session, customer=w.customer, lines=[(w.ice, 1), (w.milk, 2), (w.bread, 1)])
    second = place_order(db_session, customer=w.other, lines=[(w.milk, 1)])
    response = client.get("/staff/picklist", headers=w.headers("near_staff"))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["order_id"] for item in items] == [first["id"], second["id"]]
    assert [item["courier_expected_at"] for item in items] == sorted(item["courier_expected_at"] for item in items)
    assert [line["sku_code"] for line in items[0]["lines"]] == [w.bread.code, w.milk.code, w.ice.code]
    assert items[0]["lines"][2]["temperature"] == "frozen"
    assert client.get("/staff/picklist", headers=w.headers("far_staff")).json()["items"] == []
    check_problem(client.get("/staff/picklist", headers=w.headers("customer")), 403, "forbidden_role")


def test_start_pick_short_and_pack_over_http(client, db_session, w) -> None:
    order = place_order(db_session, customer=w.customer, lines=[(w.milk, 2), (w.ice, 1)], substitution="allow")
    base = f"/staff/orders/{order['id']}"
    staff = w.headers("near_staff")

    assert client.post(f"{base}/accept", headers=staff).json()["order_status"] == "accepted"
    assert client.post(f"{base}/start-picking", headers=staff).json()["fulfilment_status"] == "picking"
    swap = {"picked": 1, "substitute": {"sku_id": str(w.bread.id), "qty": 1}}
    ticket = client.post(f"{base}/lines/1/pick", json=swap, headers=staff).json()
    milk = next(line for line in ticket["lines"] if line["line_no"] == 1)
    assert (milk["state"], milk["picked_qty"], milk["substitute"]["state"]) == ("short", 1, "approved")
    assert client.post(f"{base}/lines/2/pick", json={"picked": 1}, headers=staff).status_code == 200
    check_problem(
        client.post(f"{base}/pack", json={"bags": 1, "cold_chain": False}, headers=staff), 422, "cold_chain_required"
    )
    packed = client.post(f"{base}/pack", json={"bags": 2, "cold_chain": True}, headers=staff)
    assert packed.status_code == 200, packed.text
    assert packed.json()["ready_at"] is not None

    detail = client.get(f"/customer/orders/{order['id']}", headers=w.headers("customer")).json()
    assert detail["status"] == "packed"
    assert detail["ready_at"] == packed.json()["ready_at"]
    assert detail["timestamps"]["packed_at"] is not None
    assert level(db_session, w.near, w.milk) == (9, 0)
    assert level(db_session, w.near, w.bread) == (9, 0)
    assert db_session.get(Order, uuid.UUID(order["id"])).total_minor == detail["price"]["total_minor"]


def test_staff_of_another_store_get_404_for_every_step(client, db_session, w) -> None:
    order = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    base = f"/staff/orders/{order['id']}"
    other = w.headers("far_staff")
    check_problem(client.post(f"{base}/accept", headers=other), 404, "order_not_found")
    check_problem(client.post(f"{base}/start-picking", headers=other), 404, "order_not_found")
    check_problem(client.post(f"{base}/lines/1/pick", json={"picked": 1}, headers=other), 404, "order_not_found")
    check_problem(
        client.post(f"{base}/pack", json={"bags": 1, "cold_chain": False}, headers=other), 404, "order_not_found"
    )
    check_problem(
        client.post(f"/staff/orders/{uuid.uuid4()}/accept", headers=w.headers("near_staff")), 404, "order_not_found"
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("lines/1/pick", {"picked": -1}),
        ("lines/1/pick", {"picked": "1"}),
        ("lines/1/pick", {"picked": 1, "state": "picked"}),
        ("lines/1/pick", {"picked": 0, "substitute": {"sku_id": "nope", "qty": 1}}),
        ("lines/1/pick", {"picked": 0, "substitute": {"sku_id": str(uuid.UUID(int=1)), "qty": 0}}),
        ("lines/0/pick", {"picked": 1}),
        ("lines/51/pick", {"picked": 1}),
        ("pack", {"bags": 0, "cold_chain": False}),
        ("pack", {"bags": 51, "cold_chain": False}),
        ("pack", {"bags": 1}),
        ("pack", {"bags": 1, "cold_chain": "yes"}),
        ("lines/pick", {}),
        ("lines/pick", {"lines": []}),
        ("lines/pick", {"lines": [{"picked": 1}]}),
        ("lines/pick", {"lines": [{"line_no": 0, "picked": 1}]}),
        ("lines/pick", {"lines": [{"line_no": 1, "picked": 1}] * 51}),
        ("lines/pick", {"lines": [{"line_no": 1, "picked": 1}], "bags": 1}),
    ],
)
def test_bad_picking_input_is_422(client, db_session, w, path, body) -> None:
    order = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    base = f"/staff/orders/{order['id']}"
    client.post(f"{base}/start-picking", headers=w.headers("near_staff"))
    check_problem(client.post(f"{base}/{path}", json=body, headers=w.headers("near_staff")), 422, "invalid_request")


def test_a_whole_basket_in_one_request(client, db_session, w) -> None:
    order = place_order(
        db_session, customer=w.customer, lines=[(w.milk, 2), (w.bread, 1), (w.ice, 1)], substitution="allow"
    )
    base = f"/staff/orders/{order['id']}"
    staff = w.headers("near_staff")
    assert client.post(f"{base}/start-picking", headers=staff).json()["order_status"] == "picking"

    twice = {"lines": [{"line_no": 1, "picked": 2}, {"line_no": 1, "picked": 1}]}
    assert check_problem(client.post(f"{base}/lines/pick", json=twice, headers=staff), 422, "duplicate_line")[
        "line_nos"
    ] == [1]
    unknown = {"lines": [{"line_no": 1, "picked": 2}, {"line_no": 7, "picked": 1}]}
    check_problem(client.post(f"{base}/lines/pick", json=unknown, headers=staff), 404, "line_not_found")
    assert level(db_session, w.near, w.milk) == (10, 2)  # the refused baskets picked nothing

    basket = {
        "lines": [
            {"line_no": 3, "picked": 1},
            {"line_no": 1, "picked": 1, "substitute": {"sku_id": str(w.bread.id), "qty": 1}},
            {"line_no": 2, "picked": 1},
        ]
    }
    response = client.post(f"{base}/lines/pick", json=basket, headers=staff)
    assert response.status_code == 200, response.text
    lines = {line["line_no"]: line for line in response.json()["lines"]}
    assert (lines[1]["state"], lines[1]["picked_qty"], lines[1]["substitute"]["state"]) == ("short", 1, "approved")
    assert [lines[n]["state"] for n in (2, 3)] == ["picked", "picked"]
    check_problem(client.post(f"{base}/lines/pick", json=basket, headers=staff), 409, "line_already_done")
    check_problem(
        client.post(f"{base}/lines/pick", json=basket, headers=w.headers("far_staff")), 404, "order_not_found"
    )
    assert client.post(f"{base}/pack", json={"bags": 1, "cold_chain": True}, headers=staff).status_code == 200
    assert (level(db_session, w.near, w.milk), level(db_session, w.near, w.bread)) == ((9, 0), (8, 0))
