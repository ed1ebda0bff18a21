"""`POST /customer/orders` over HTTP: the contract, idempotency, and every kind of bad input as a
4xx problem+json with a machine-readable code (never a 500)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatch.models import Order
from tests.dispatch.world import DOOR, World, build, count, level
from tests.factories import auth_headers, stock
from tests.problems import check_problem

PROBLEM = "application/problem+json"


@pytest.fixture
def w(db_session) -> World:
    world = build(db_session)
    for sku in (world.milk, world.bread, world.eggs):
        stock(db_session, world.near, sku, 30)
    return world


def _order(w: World, *lines, **extra) -> dict[str, Any]:
    return {
        "dropoff": DOOR,
        "address": "Torstraße 1, 10119 Berlin",
        "lines": [{"sku": str(getattr(w, name).id), "qty": qty} for name, qty in lines],
        **extra,
    }


def _post(client, w: World, body, *, key: str | None = "key-1", who: str = "customer"):
    headers = auth_headers(getattr(w, who))
    if key is not None:
        headers["Idempotency-Key"] = key
    if isinstance(body, str | bytes):
        return client.post("/customer/orders", content=body, headers={**headers, "content-type": "application/json"})
    return client.post("/customer/orders", json=body, headers=headers)


def test_checkout_answers_201_with_where_when_how_much_and_why(client: TestClient, db_session, w) -> None:
    response = _post(client, w, _order(w, ("milk", 2), ("bread", 1), substitution="contact", note="ring twice"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/customer/orders/{body['id']}"
    uuid.UUID(body["id"])
    assert body["status"] == "placed"
    assert body["substitution"] == "contact"
    assert body["note"] == "ring twice"
    assert body["fulfilments"][0]["location_id"] == str(w.near.id)
    assert set(body["promised_window"]) == {"start", "end"}
    assert body["price"] == {"currency": "EUR", "subtotal_minor": 607, "delivery_fee_minor": 299, "total_minor": 906}
    assert body["explanation"]["decision"]
    assert [c["code"] for c in body["explanation"]["candidates"]] == [w.near.code, w.far.code]
    assert level(db_session, w.near, w.milk) == (30, 2)


def test_without_an_idempotency_key_it_is_400_and_nothing_happens(client, db_session, w) -> None:
    check_problem(_post(client, w, _order(w, ("milk", 1)), key=None), 400, "idempotency_key_required")
    check_problem(_post(client, w, _order(w, ("milk", 1)), key="bad key"), 400, "invalid_idempotency_key")
    assert count(db_session, Order) == 0


def test_a_retry_gets_the_same_response_and_a_changed_body_with_the_same_key_is_422(client, db_session, w) -> None:
    first = _post(client, w, _order(w, ("milk", 1)))
    again = _post(client, w, _order(w, ("milk", 1)))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    check_problem(_post(client, w, _order(w, ("milk", 2))), 422, "idempotency_key_reused")
    # Another customer's identical key is theirs alone.
    assert _post(client, w, _order(w, ("milk", 1)), who="other").json()["id"] != first.json()["id"]
    assert count(db_session, Order) == 2
    assert level(db_session, w.near, w.milk) == (30, 2)


def test_a_declined_card_is_402_and_the_stock_stays_free(client, db_session, w) -> None:
    check_problem(_post(client, w, _order(w, ("milk", 3), payment_method="sim_decline")), 402, "payment_declined")
    assert level(db_session, w.near, w.milk) == (30, 0)
    assert count(db_session, Order) == 0
    # The same key may be retried with another card.
    assert _post(client, w, _order(w, ("milk", 3))).status_code == 201


def test_nothing_to_deliver_is_409_with_per_line_availability(client, w) -> None:
    problem = check_problem(_post(client, w, _order(w, ("milk", 20), ("ice", 1))), 409, "insufficient_stock")
    lines = {line["sku_id"]: line for line in problem["lines"]}
    assert lines[str(w.ice.id)]["available"] == 0
    assert lines[str(w.milk.id)] == {"sku_id": str(w.milk.id), "requested": 20, "available": 30}


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b: b["lines"].__setitem__(0, {"sku": "NO-SUCH", "qty": 1}), "unknown_sku"),
        (lambda b: b["lines"].__setitem__(0, {"sku": str(uuid.uuid4()), "qty": 1}), "unknown_sku"),
        (lambda b: b["lines"][0].update(qty=0), "invalid_request"),
        (lambda b: b["lines"][0].update(qty=-3), "invalid_request"),
        (lambda b: b["lines"][0].update(qty=1000), "invalid_request"),
        (lambda b: b["lines"][0].update(qty="2"), "invalid_request"),
        (lambda b: b["lines"][0].update(qty=1.5), "invalid_request"),
        (lambda b: b.update(lines=[b["lines"][0]] * 500), "invalid_request"),
        (lambda b: b.update(lines=[]), "invalid_request"),
        (lambda b: b.update(address=""), "invalid_request"),
        (lambda b: b.update(address="x" * 301), "invalid_request"),
        (lambda b: b.update(note="x" * 501), "invalid_request"),
        (lambda b: b.update(substitution="whatever"), "invalid_request"),
        (lambda b: b.update(total=1), "invalid_request"),
        (lambda b: b.update(status="delivered"), "invalid_request"),
        (lambda b: b["lines"][0].update(price_minor=1), "invalid_request"),
        (lambda b: b.update(dropoff={"lat": 91, "lon": 13.4}), "invalid_coordinates"),
        (lambda b: b.update(dropoff={"lat": 52.5, "lon": -181}), "invalid_coordinates"),
        (lambda b: b.update(dropoff={"lat": "52.5", "lon": 13.4}), "invalid_coordinates"),
        (lambda b: b.update(dropoff={"lat": None, "lon": 13.4}), "invalid_coordinates"),
        (lambda b: b.update(dropoff={"lat": 52.5}), "invalid_request"),
        (lambda b: b.update(dropoff={"lat": 48.1, "lon": 11.5}), "outside_service_area"),
        (lambda b: b.update(dropoff={"lat": 13.405, "lon": 52.52}), "coordinates_possibly_swapped"),
    ],
)
def test_bad_input_is_a_422_with_a_code(client, db_session, w, mutate, code) -> None:
    body = _order(w, ("milk", 1))
    mutate(body)
    check_problem(_post(client, w, body), 422, code)
    assert count(db_session, Order) == 0


@pytest.mark.parametrize("raw", ['{"lat": NaN, "lon": 13.4}', '{"lat": 52.5, "lon": Infinity}'])
def test_non_finite_coordinates_are_invalid_coordinates(client, w, raw) -> None:
    body = json.dumps(_order(w, ("milk", 1))).replace(json.dumps(DOOR), raw)
    check_problem(_post(client, w, body), 422, "invalid_coordinates")


def test_more_than_the_skus_maximum_is_422(client, w) -> None:
    problem = check_problem(_post(client, w, _order(w, ("eggs", 6))), 422, "quantity_over_max")
    assert problem["lines"] == [{"sku": w.eggs.code, "qty": 6, "max": 5}]


@pytest.mark.parametrize("body", [b"{", b"null", b"[]", b'"x"', b"\xff"])
def test_malformed_json_is_never_a_500(client, w, body) -> None:
    response = _post(client, w, body)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith(PROBLEM)


def test_only_customers_check_out(client, w) -> None:
    staff = {**auth_headers(w.near_staff), "Idempotency-Key": "k"}
    check_problem(client.post("/customer/orders", json=_order(w, ("milk", 1)), headers=staff), 403, "forbidden_role")
    check_problem(client.post("/customer/orders", json=_order(w, ("milk", 1))), 401, "not_authenticated")
