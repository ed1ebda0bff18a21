"""Operators see stock anywhere in the network — every tier, with what is on the road — read any
ledger, set stock policy, and hold or release stock by hand."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from core.auth.models import Role
from core.clock import FrozenClock, now, use_clock
from core.db import session_scope
from stores.models import LocationKind
from tests.factories import auth_headers, create_location, create_sku, create_user, stock, token_for
from tests.problems import check_problem
from tests.warehouse.stock_checks import assert_stock_invariants, level_of
from warehouse import reservations
from warehouse.models import Transfer, TransferLine, TransferStatus

PROBLEM = "application/problem+json"


@pytest.fixture
def ops(make_user):
    return auth_headers(make_user(role=Role.dispatcher))


@pytest.fixture
def network(db_session):
    central = create_location(db_session, kind=LocationKind.central_warehouse, with_zone=False)
    dc = create_location(db_session, kind=LocationKind.distribution_centre, parent=central)
    store_a = create_location(db_session, parent=dc)
    store_b = create_location(db_session, parent=dc)
    sku = create_sku(db_session)
    stock(db_session, central, sku, 1000)
    stock(db_session, dc, sku, 200, reorder_point=50, target_level=300)
    stock(db_session, store_a, sku, 10, reorder_point=5, target_level=20)
    # 15 units left the DC for store B and are on the road; store B has no level yet.
    transfer = Transfer(from_location_id=dc.id, to_location_id=store_b.id, status=TransferStatus.in_transit)
    db_session.add(transfer)
    db_session.flush()
    db_session.add(TransferLine(transfer_id=transfer.id, sku_id=sku.id, qty=15))
    db_session.flush()
    return {"central": central, "dc": dc, "a": store_a, "b": store_b, "sku": sku}


def test_one_sku_across_every_tier_with_what_is_in_transit(client, db_session, ops, network) -> None:
    n = network
    reservations.reserve(db_session, location_id=n["a"].id, lines=[(n["sku"].id, 4)], holder_id=uuid.uuid4(), ttl_s=60)
    body = client.get(f"/ops/skus/{n['sku'].id}/stock", headers=ops).json()
    assert body["totals"] == {"on_hand": 1210, "reserved": 4, "available": 1206, "in_transit": 15, "locations": 4}
    tiers = {t["tier"]: (t["on_hand"], t["in_transit"], t["locations"]) for t in body["tiers"]}
    assert tiers == {0: (1000, 0, 1), 1: (200, 0, 1), 2: (10, 15, 2)}
    rows = {row["location_id"]: row for row in body["locations"]}
    assert [row["tier"] for row in body["locations"]] == [0, 1, 2, 2]
    assert rows[str(n["a"].id)]["available"] == 6
    assert (rows[str(n["b"].id)]["on_hand"], rows[str(n["b"].id)]["in_transit"]) == (0, 15)
    page = client.get(f"/ops/skus/{n['sku'].id}/stock", params={"limit": 1, "offset": 1}, headers=ops).json()
    assert [row["tier"] for row in page["locations"]] == [1]
    assert page["total_locations"] == 4
    check_problem(client.get(f"/ops/skus/{uuid.uuid4()}/stock", headers=ops), 404, "sku_not_found")


def test_a_location_view_counts_expired_holds_as_available(client, db_session, ops, network) -> None:
    n = network
    clock = FrozenClock(now())  # tokens were issued on the real clock: stay near it
    with use_clock(clock):
        reservations.reserve(
            db_session, location_id=n["a"].id, lines=[(n["sku"].id, 7)], holder_id=uuid.uuid4(), ttl_s=30
        )
        low = client.get(f"/ops/locations/{n['a'].id}/stock", params={"low_only": True}, headers=ops).json()
        assert [(i["available"], i["low"]) for i in low["items"]] == [(3, True)]
        clock.advance(31)
        item = client.get(f"/ops/locations/{n['a'].id}/stock", headers=ops).json()["items"][0]
        assert (item["on_hand"], item["reserved"], item["expired_pending"], item["available"]) == (10, 0, 7, 10)
        assert item["low"] is False
    transit_only = client.get(f"/ops/locations/{n['b'].id}/stock", headers=ops).json()["items"]
    assert [(i["on_hand"], i["in_transit"]) for i in transit_only] == [(0, 15)]


def test_the_ledger_of_any_location_and_sku_pages_by_cursor(client, ops, network) -> None:
    n = network
    everything = client.get("/ops/ledger", params={"sku_id": str(n["sku"].id), "limit": 2}, headers=ops).json()
    assert len(everything["items"]) == 2
    rest = client.get(
        "/ops/ledger",
        params={"sku_id": str(n["sku"].id), "limit": 100, "before": everything["next_cursor"]},
        headers=ops,
    ).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    ids = [m["id"] for m in everything["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    at_dc = client.get("/ops/ledger", params={"location_id": str(n["dc"].id)}, headers=ops).json()["items"]
    assert [(m["kind"], m["on_hand_delta"]) for m in at_dc] == [("receipt", 200)]
    check_problem(client.get("/ops/ledger", params={"limit": 0}, headers=ops), 422, "invalid_request")
    check_problem(client.get("/ops/ledger", params={"kind": "teleport"}, headers=ops), 422, "invalid_request")


def test_stock_policy_is_set_per_location_and_sku(client, db_session, ops, network) -> None:
    n = network
    url = f"/ops/locations/{n['b'].id}/stock/{n['sku'].id}/policy"
    level = client.put(url, json={"reorder_point": 5, "target_level": 30, "bin": "A-12"}, headers=ops)
    assert level.status_code == 200, level.text
    assert (level.json()["reorder_point"], level.json()["target_level"], level.json()["bin"]) == (5, 30, "A-12")
    assert level.json()["low"] is True  # an empty shelf at a ranged SKU
    check_problem(client.put(url, json={"reorder_point": 10, "target_level": 5}, headers=ops), 422, "invalid_request")
    check_problem(client.put(url, json={"reorder_point": -1, "target_level": 5}, headers=ops), 422, "invalid_request")
    ghost = f"/ops/locations/{n['b'].id}/stock/{uuid.uuid4()}/policy"
    check_problem(client.put(ghost, json={"reorder_point": 1, "target_level": 5}, headers=ops), 404, "sku_not_found")
    nowhere = f"/ops/locations/{uuid.uuid4()}/stock/{n['sku'].id}/policy"
    check_problem(
        client.put(nowhere, json={"reorder_point": 1, "target_level": 5}, headers=ops), 404, "location_not_found"
    )
    assert_stock_invariants(db_session)


def test_holds_are_all_or_nothing_and_released_by_holder(client, db_session, ops, network) -> None:
    n = network
    sku = str(n["sku"].id)
    other = create_sku(db_session)
    url = f"/ops/locations/{n['a'].id}/holds"
    short = client.post(
        url, json={"lines": [{"sku_id": sku, "qty": 2}, {"sku_id": str(other.id), "qty": 1}]}, headers=ops
    )
    body = check_problem(short, 409, "insufficient_stock")
    assert {line["sku_id"]: line["available"] for line in body["lines"]} == {sku: 10, str(other.id): 0}
    assert level_of(db_session, n["a"].id, n["sku"].id) == (10, 0)

    held = client.post(url, json={"lines": [{"sku_id": sku, "qty": 3}], "reason": "B2B order 17"}, headers=ops)
    assert held.status_code == 201, held.text
    holder = held.json()["holder_id"]
    assert held.json()["reservations"][0]["expires_at"] is None
    listed = client.get("/ops/reservations", params={"holder_id": holder, "status": "active"}, headers=ops).json()
    assert listed["total"] == 1
    released = client.post("/ops/reservations/release", json={"holder_id": holder, "reason": "deal off"}, headers=ops)
    assert [r["status"] for r in released.json()] == ["released"]
    assert level_of(db_session, n["a"].id, n["sku"].id) == (10, 0)
    bad: dict[str, Any]
    for bad in (
        {"lines": [{"sku_id": sku, "qty": 0}]},
        {"lines": [{"sku_id": sku, "qty": 1}], "ttl_s": 0},
        {"lines": []},
    ):
        check_problem(client.post(url, json=bad, headers=ops), 422, "invalid_request")
    unknown = client.post(url, json={"lines": [{"sku_id": str(uuid.uuid4()), "qty": 1}]}, headers=ops)
    check_problem(unknown, 422, "unknown_sku")
    both = {"holder_id": holder, "reservation_ids": [str(uuid.uuid4())], "reason": "both"}
    check_problem(client.post("/ops/reservations/release", json=both, headers=ops), 422, "invalid_request")
    assert_stock_invariants(db_session)


@pytest.mark.parametrize("role", [Role.customer, Role.courier, Role.staff])
def test_only_dispatchers_and_admins_use_ops_stock(client, db_session, make_user, network, role) -> None:
    location = network["a"].id if role is Role.staff else None
    headers = auth_headers(make_user(role=role, location_id=location))
    for url in (f"/ops/skus/{network['sku'].id}/stock", f"/ops/locations/{network['a'].id}/stock", "/ops/ledger"):
        check_problem(client.get(url, headers=headers), 403, "forbidden_role")


@pytest.mark.slow
def test_100_concurrent_holds_over_http_never_oversell(live_server) -> None:
    """The race through the whole stack: each 409 is `insufficient_stock`, nothing else fails."""
    with session_scope() as session:
        store, sku = create_location(session), create_sku(session)
        stock(session, store, sku, 30)
        headers = {"Authorization": f"Bearer {token_for(create_user(session, role=Role.dispatcher))}"}
    url = f"{live_server}/ops/locations/{store.id}/holds"

    async def race() -> list[httpx.Response]:
        # 25 on the wire at a time: see test_staff_stock's note on the server's pool.
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=25)) as http:
            body = {"lines": [{"sku_id": str(sku.id), "qty": 1}], "ttl_s": 600}
            return await asyncio.gather(*(http.post(url, json=body, headers=headers) for _ in range(100)))

    responses = asyncio.run(race())
    assert sorted(r.status_code for r in responses) == [201] * 30 + [409] * 70
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_stock"}
    with session_scope() as session:
        assert level_of(session, store.id, sku.id) == (30, 30)
        assert_stock_invariants(session)
