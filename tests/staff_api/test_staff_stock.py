"""Store staff look after their own shelves through `/staff/locations/{id}/stock`: for them, other
locations do not exist; bad input is a 422 with a code; conflicts are 409s, never 500s."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from sqlalchemy import select, text

from core.auth.models import Role
from core.db import session_scope
from tests.factories import auth_headers, create_location, create_sku, create_user, stock, token_for
from tests.problems import check_problem
from tests.warehouse.stock_checks import assert_stock_invariants, level_of
from warehouse import ledger as ledger_module
from warehouse import reservations
from warehouse.models import MovementKind, StockMovement

PROBLEM = "application/problem+json"


@pytest.fixture
def world(db_session, make_user):
    store, other = create_location(db_session), create_location(db_session)
    milk, eggs = create_sku(db_session), create_sku(db_session)
    stock(db_session, store, milk, 20)
    stock(db_session, other, milk, 7)
    return {
        "store": store,
        "other": other,
        "milk": milk,
        "eggs": eggs,
        "staff": auth_headers(make_user(role=Role.staff, location_id=store.id)),
        "other_staff": auth_headers(make_user(role=Role.staff, location_id=other.id)),
    }


def _url(w, path: str = "/stock", where: str = "store") -> str:
    return f"/staff/locations/{w[where].id}{path}"


def test_staff_see_their_shelves(client, world) -> None:
    w = world
    page = client.get(_url(w), headers=w["staff"]).json()
    assert page["total"] == 1
    item = page["items"][0]
    assert (item["sku_id"], item["on_hand"], item["reserved"], item["available"]) == (str(w["milk"].id), 20, 0, 20)
    level = client.get(_url(w, f"/stock/{w['milk'].id}"), headers=w["staff"])
    assert level.json()["on_hand"] == 20
    check_problem(client.get(_url(w, f"/stock/{w['eggs'].id}"), headers=w["staff"]), 404, "stock_level_not_found")


def test_receive_adjust_count_and_write_off(client, db_session, world) -> None:
    w = world
    body = {"lines": [{"sku_id": str(w["eggs"].id), "qty": 12}, {"sku_id": str(w["milk"].id), "qty": 5}]}
    received = client.post(_url(w, "/stock/receipts"), json={**body, "reference": "DN-4711"}, headers=w["staff"])
    assert received.status_code == 201, received.text
    assert {i["sku_id"]: i["on_hand"] for i in received.json()} == {str(w["eggs"].id): 12, str(w["milk"].id): 25}

    milk = f"/stock/{w['milk'].id}"
    adjusted = client.post(_url(w, f"{milk}/adjustments"), json={"delta": -2, "reason": "broken"}, headers=w["staff"])
    assert adjusted.json()["level"]["on_hand"] == 23
    counted = client.post(_url(w, f"{milk}/counts"), json={"counted": 21}, headers=w["staff"])
    assert (counted.json()["on_hand_delta"], counted.json()["level"]["on_hand"]) == (-2, 21)
    written = client.post(_url(w, f"{milk}/write-offs"), json={"qty": 1, "reason": "past date"}, headers=w["staff"])
    assert written.json()["level"]["on_hand"] == 20

    kinds = db_session.scalars(
        select(StockMovement.kind)
        .where(StockMovement.location_id == w["store"].id, StockMovement.sku_id == w["milk"].id)
        .order_by(StockMovement.id)
    ).all()
    assert kinds == [MovementKind.receipt] * 2 + [MovementKind.adjustment] * 2 + [MovementKind.write_off]
    assert_stock_invariants(db_session)


def test_the_ledger_pages_newest_first_by_cursor(client, world) -> None:
    w = world
    for delta in (1, 2, 3, 4):
        client.post(
            _url(w, f"/stock/{w['milk'].id}/adjustments"), json={"delta": delta, "reason": "found"}, headers=w["staff"]
        )
    first = client.get(_url(w, "/ledger"), params={"limit": 3}, headers=w["staff"]).json()
    assert [m["on_hand_delta"] for m in first["items"]] == [4, 3, 2]
    second = client.get(_url(w, "/ledger"), params={"limit": 3, "before": first["next_cursor"]}, headers=w["staff"])
    assert [m["on_hand_delta"] for m in second.json()["items"]] == [1, 20]
    assert second.json()["next_cursor"] is None
    only_receipts = client.get(_url(w, "/ledger"), params={"kind": "receipt"}, headers=w["staff"]).json()
    assert [m["kind"] for m in only_receipts["items"]] == ["receipt"]
    check_problem(client.get(_url(w, "/ledger"), params={"limit": 101}, headers=w["staff"]), 422, "invalid_request")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/stock", None),
        ("get", "/stock/{milk}", None),
        ("get", "/ledger", None),
        ("post", "/stock/receipts", {"lines": [{"sku_id": "{milk}", "qty": 1}]}),
        ("post", "/stock/{milk}/adjustments", {"delta": 1, "reason": "found"}),
        ("post", "/stock/{milk}/counts", {"counted": 0}),
        ("post", "/stock/{milk}/write-offs", {"qty": 1, "reason": "broken"}),
    ],
)
def test_staff_of_one_store_cannot_touch_another_stores_stock(client, db_session, world, method, path, body) -> None:
    w = world
    milk = str(w["milk"].id)
    url = _url(w, path.replace("{milk}", milk), where="other")
    payload = None if body is None else json.loads(json.dumps(body).replace("{milk}", milk))
    response = client.request(method, url, json=payload, headers=w["staff"])
    check_problem(response, 404, "location_not_found")
    assert level_of(db_session, w["other"].id, w["milk"].id) == (7, 0)


@pytest.mark.parametrize("role", [Role.customer, Role.courier])
def test_customers_and_couriers_are_turned_away(client, make_user, world, role) -> None:
    headers = auth_headers(make_user(role=role))
    check_problem(client.get(_url(world), headers=headers), 403, "forbidden_role")
    check_problem(client.get("/ops/ledger", headers=headers), 403, "forbidden_role")
    check_problem(client.get(_url(world)), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/stock/receipts", {"lines": [{"sku_id": "{milk}", "qty": 0}]}),
        ("/stock/receipts", {"lines": [{"sku_id": "{milk}", "qty": -3}]}),
        ("/stock/receipts", {"lines": [{"sku_id": "{milk}", "qty": 10**12}]}),
        ("/stock/receipts", {"lines": []}),
        ("/stock/{milk}/adjustments", {"delta": 1}),
        ("/stock/{milk}/adjustments", {"delta": 1, "reason": "  "}),
        ("/stock/{milk}/adjustments", {"delta": 0, "reason": "nothing"}),
        ("/stock/{milk}/adjustments", {"delta": 2_000_000, "reason": "typo"}),
        ("/stock/{milk}/write-offs", {"qty": 1}),
        ("/stock/{milk}/write-offs", {"qty": 0, "reason": "broken"}),
        ("/stock/{milk}/counts", {"counted": -1}),
        ("/stock/{milk}/counts", {"counted": 1.5}),
    ],
)
def test_bad_input_is_a_422_with_a_code(client, world, path, body) -> None:
    milk = str(world["milk"].id)
    raw = json.dumps(body).replace("{milk}", milk)
    url = _url(world, path.replace("{milk}", milk))
    check_problem(
        client.post(url, content=raw, headers={**world["staff"], "content-type": "application/json"}),
        422,
        "invalid_request",
    )


def test_unknown_skus_are_named_as_such(client, world) -> None:
    w, ghost = world, uuid.uuid4()
    body = {"lines": [{"sku_id": str(ghost), "qty": 1}]}
    problem = check_problem(client.post(_url(w, "/stock/receipts"), json=body, headers=w["staff"]), 422, "unknown_sku")
    assert problem["sku_ids"] == [str(ghost)]
    adjust = client.post(
        _url(w, f"/stock/{ghost}/adjustments"), json={"delta": 1, "reason": "x" * 3}, headers=w["staff"]
    )
    check_problem(adjust, 404, "sku_not_found")


def test_taking_away_what_orders_hold_is_a_409(client, db_session, world) -> None:
    w = world
    reservations.reserve(
        db_session, location_id=w["store"].id, lines=[(w["milk"].id, 15)], holder_id=uuid.uuid4(), ttl_s=600
    )
    milk = f"/stock/{w['milk'].id}"
    body = check_problem(
        client.post(_url(w, f"{milk}/write-offs"), json={"qty": 6, "reason": "broken"}, headers=w["staff"]),
        409,
        "insufficient_stock",
    )
    assert body["available"] == 5
    check_problem(
        client.post(_url(w, f"{milk}/counts"), json={"counted": 14}, headers=w["staff"]), 409, "count_below_reserved"
    )
    assert level_of(db_session, w["store"].id, w["milk"].id) == (20, 15)


def test_a_database_refusal_is_a_409_not_a_500(client, db_session, world, monkeypatch) -> None:
    """If a bug ever let a write past the service's own guard, the CHECK constraint still refuses
    it, and the client sees a 409 conflict (and nothing changes)."""
    w = world
    unguarded = text(
        "UPDATE stock_levels SET on_hand = on_hand + :dh, reserved = reserved + :dr"
        " WHERE location_id = :loc AND sku_id = :sku RETURNING on_hand, reserved"
    )
    monkeypatch.setattr(ledger_module, "_GUARDED_UPDATE", unguarded)
    response = client.post(
        _url(w, f"/stock/{w['milk'].id}/write-offs"), json={"qty": 25, "reason": "too many"}, headers=w["staff"]
    )
    body = check_problem(response, 409, "check_violation")
    assert body["constraint"] == "ck_stock_levels_reserved_within_on_hand"
    assert level_of(db_session, w["store"].id, w["milk"].id) == (20, 0)


@pytest.mark.slow
def test_100_concurrent_plus_one_adjustments_over_http_lose_nothing(live_server) -> None:
    with session_scope() as session:
        store, sku = create_location(session), create_sku(session)
        stock(session, store, sku, 5)
        headers = {"Authorization": f"Bearer {token_for(create_user(session, role=Role.staff, location_id=store.id))}"}
    url = f"{live_server}/staff/locations/{store.id}/stock/{sku.id}/adjustments"

    async def all_at_once() -> list[int]:
        # All 100 requests are started at once; 25 are on the wire at a time. More than the
        # server's database pool (30) in flight starves it today: a request holding a pooled
        # connection waits for a worker thread that requests waiting for a connection hold
        # (see the report on core.http.deps) — the 100-way race on the row itself is
        # test_concurrency.py's, through the service in 100 threads.
        limits = httpx.Limits(max_connections=25)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            responses = await asyncio.gather(
                *(
                    http.post(url, json={"delta": 1, "reason": "found on the shelf"}, headers=headers)
                    for _ in range(100)
                )
            )
        return [r.status_code for r in responses]

    assert asyncio.run(all_at_once()) == [200] * 100
    with session_scope() as session:
        assert level_of(session, store.id, sku.id) == (105, 0)
        assert_stock_invariants(session)
