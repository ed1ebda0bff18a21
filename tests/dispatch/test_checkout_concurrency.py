"""Checkout under real concurrency: many HTTP clients at once against a real uvicorn, every
request its own connection and transaction, committed for real (`committed_db` cleans up)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from core.db import session_scope
from dispatch.models import IdempotencyKey, Order, OrderLine
from tests.dispatch.world import DOOR, build
from tests.factories import create_user, stock, token_for
from tests.warehouse.stock_checks import assert_stock_invariants
from warehouse.models import StockLevel

pytestmark = pytest.mark.slow

CLIENTS = 50


def _checkout_body(sku_id: str) -> dict[str, Any]:
    return {"dropoff": DOOR, "address": "Torstraße 1", "lines": [{"sku": sku_id, "qty": 1}]}


def _fire(base_url: str, requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    """POST every (token, key, body) at once from CLIENTS threads, each with its own client."""
    local = threading.local()
    barrier = threading.Barrier(min(CLIENTS, len(requests)))

    def send(indexed: tuple[int, tuple[str, str, dict[str, Any]]]) -> httpx.Response:
        index, (token, key, body) = indexed
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, timeout=120)
        client: httpx.Client = local.client
        if index < CLIENTS:
            barrier.wait(timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        return client.post("/customer/orders", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(send, enumerate(requests)))


def _outcomes(responses: list[httpx.Response]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for response in responses:
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            kinds[f"{response.status_code} {response.json()['code']}"] += 1
        else:
            kinds[str(response.status_code)] += 1
    return kinds


def test_500_concurrent_checkouts_for_50_units_place_exactly_50_orders(committed_db: Engine, live_server: str) -> None:
    with session_scope(committed_db) as session:
        w = build(session)
        # 30 units at the near store, 20 at the far one: buyers who lose the near store's last
        # unit to a concurrent checkout are sent on to the far one in the same request.
        stock(session, w.near, w.milk, 30)
        stock(session, w.far, w.milk, 20)
        tokens = [token_for(create_user(session)) for _ in range(100)]
        milk, near, far = str(w.milk.id), w.near.id, w.far.id

    requests = [(tokens[i % len(tokens)], f"buy-{i}", _checkout_body(milk)) for i in range(500)]
    outcome = _outcomes(_fire(live_server, requests))

    assert outcome == Counter({"201": 50, "409 insufficient_stock": 450}), outcome
    with session_scope(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 50
        assert session.scalar(select(func.sum(OrderLine.qty))) == 50
        levels = {
            row.location_id: (row.on_hand, row.reserved)
            for row in session.scalars(select(StockLevel).where(StockLevel.sku_id == uuid.UUID(milk)))
        }
        assert levels == {near: (30, 30), far: (20, 20)}
        assert_stock_invariants(session)


def test_50_concurrent_retries_with_one_key_place_one_order(committed_db: Engine, live_server: str) -> None:
    with session_scope(committed_db) as session:
        w = build(session)
        stock(session, w.near, w.milk, 100)
        token = token_for(w.customer)
        milk = str(w.milk.id)

    body = _checkout_body(milk)
    responses = _fire(live_server, [(token, "one-key", body)] * 50)
    outcome = _outcomes(responses)

    assert set(outcome) <= {"201", "409 request_in_progress"}, outcome
    assert outcome["201"] >= 1
    bodies = {response.text for response in responses if response.status_code == 201}
    assert len(bodies) == 1  # every success is the same order, byte for byte
    with session_scope(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
        level = session.get(StockLevel, (w.near.id, uuid.UUID(milk)))
        assert level is not None
        assert level.reserved == 1
    # Once the first has finished, a retry replays it.
    with httpx.Client(base_url=live_server) as client:
        late = client.post(
            "/customer/orders", json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "one-key"}
        )
    assert late.status_code == 201
    assert late.text in bodies
