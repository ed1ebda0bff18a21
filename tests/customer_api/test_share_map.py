"""The map behind a share link (`GET /customer/orders/{id}/share/city.geojson`): someone without an
account holding a live share token gets the streets and the order's own store, nothing about other
stores or customers; an absent, forged, foreign or expired token is a 401 problem."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from core import clock
from core.settings import get_settings
from dispatch import orders, repository, tracking_share
from dispatch.models import OrderStatus
from tests import tracking_world
from tests.problems import check_problem


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    fc = clock.FrozenClock(datetime.now(UTC).replace(microsecond=0))
    with clock.use_clock(fc):
        yield fc


@pytest.fixture
def world(db_session, frozen) -> tracking_world.Delivery:
    return tracking_world.build(db_session, customers=2)


def _token(db_session, world: tracking_world.Delivery, i: int = 0) -> str:
    return tracking_share.issue(db_session, customer_id=world.customers[i].id, order_id=world.orders[i]).token


def _map(client, world: tracking_world.Delivery, token: str | None, i: int = 0) -> Any:
    headers = {"X-Share-Token": token} if token is not None else {}
    return client.get(f"/customer/orders/{world.orders[i]}/share/city.geojson", headers=headers)


def test_a_share_token_reads_the_streets_and_the_orders_store_only(client, db_session, world) -> None:
    response = _map(client, world, _token(db_session, world))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    assert "X-Share-Token" in response.headers["vary"]
    body = response.json()
    kinds = [f["properties"]["feature"] for f in body["features"]]
    assert "streets" in kinds
    locations = [f for f in body["features"] if f["properties"]["feature"] == "location"]
    (fulfilment,) = repository.fulfilments_of(db_session, [world.orders[0]])
    store = next(s for s in world.fleet.stores if s.id == fulfilment.location_id)
    # The zone's other store, every zone and anything about the other customer's order stay out.
    assert set(kinds) == {"streets", "location"}
    assert [(f["geometry"]["coordinates"], f["properties"]) for f in locations] == [
        ([store.lon, store.lat], {"feature": "location", "name": store.name, "kind": store.kind.value})
    ]
    assert "id" not in locations[0]


def test_absent_forged_and_foreign_tokens_are_refused(client, db_session, world) -> None:
    check_problem(_map(client, world, None), 401, "invalid_share")
    check_problem(_map(client, world, "not-a-token"), 401, "invalid_share")
    forged = jwt.encode(
        {"sub": str(world.orders[0]), "aud": tracking_share.AUDIENCE, "iss": get_settings().jwt_issuer, "exp": 2**40},
        "a key that is not the server's signing key at all",
        algorithm="HS256",
    )
    check_problem(_map(client, world, forged), 401, "invalid_share")
    # The second customer's link does not open the first customer's map, nor does an access token.
    check_problem(_map(client, world, _token(db_session, world, 1)), 401, "invalid_share")
    check_problem(_map(client, world, world.tokens[0]), 401, "invalid_share")
    check_problem(_map(client, world, "x" * 5000), 401, "invalid_share")


def test_the_map_closes_15_minutes_after_delivery(client, db_session, world, frozen) -> None:
    token = _token(db_session, world)
    orders.advance(db_session, order_id=world.orders[0], to=OrderStatus.delivered)
    frozen.advance(14 * 60)
    assert _map(client, world, token).status_code == 200
    frozen.advance(2 * 60)
    check_problem(_map(client, world, token), 401, "share_expired")


def test_a_token_past_its_hard_limit_is_expired(client, db_session, world, frozen) -> None:
    token = _token(db_session, world)
    frozen.advance((tracking_share.HARD_LIMIT_AFTER_PROMISE + timedelta(hours=2)).total_seconds())
    check_problem(_map(client, world, token), 401, "share_expired")
