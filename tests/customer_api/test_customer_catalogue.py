"""`GET /customer/catalogue`: what the nearby locations can deliver to a point, and by when."""

from __future__ import annotations

import pytest

from tests.dispatch.world import DOOR, World, build
from tests.factories import stock

PROBLEM = "application/problem+json"


@pytest.fixture
def w(db_session) -> World:
    world = build(db_session)
    stock(db_session, world.near, world.milk, 3)
    stock(db_session, world.far, world.milk, 7)
    stock(db_session, world.far, world.eggs, 50)  # max 5 per order
    return world


def _get(client, w: World, **params):
    return client.get("/customer/catalogue", params={**DOOR, **params}, headers=w.headers("customer"))


def test_items_show_price_and_what_one_nearby_location_can_deliver(client, w) -> None:
    response = _get(client, w)
    assert response.status_code == 200, response.text
    body = response.json()
    items = {item["code"]: item for item in body["items"]}
    assert items[w.milk.code]["available_qty"] == 7  # the best single location, not 3 + 7
    assert items[w.milk.code]["price_minor"] == 129
    assert items[w.eggs.code]["available_qty"] == 5  # capped at the per-order maximum
    assert items[w.bread.code]["available"] is False
    assert body["locations"] == [w.near.code, w.far.code]
    assert body["delivery_window"]["start"] < body["delivery_window"]["end"]
    assert body["total"] >= 4


def test_search_and_category_filter(client, w) -> None:
    by_code = _get(client, w, q=w.milk.code).json()
    assert [item["code"] for item in by_code["items"]] == [w.milk.code]
    by_category = _get(client, w, category=str(w.ice.category_id)).json()
    assert [item["code"] for item in by_category["items"]] == [w.ice.code]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lat": 48.1, "lon": 11.5}, "outside_service_area"),
        ({"lat": 91, "lon": 13.4}, "invalid_coordinates"),
        ({"lat": "nan", "lon": 13.4}, "invalid_coordinates"),
        ({"lat": "north", "lon": 13.4}, "invalid_request"),
        ({"limit": 101}, "invalid_request"),
        ({"q": "x" * 101}, "invalid_request"),
    ],
)
def test_bad_queries_are_422_with_a_code(client, w, params, code) -> None:
    response = _get(client, w, **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


def test_only_customers_browse(client, w) -> None:
    response = client.get("/customer/catalogue", params=DOOR, headers=w.headers("near_staff"))
    assert response.status_code == 403
