"""Checkout as a use case on the real database: where an order goes and why, stock held exactly,
payment authorized (or nothing happens at all), idempotency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.clock import FrozenClock, use_clock
from core.clock import now as clock_now
from core.errors import DomainError
from core.payments import SimulatedEntryKind, SimulatedPaymentEntry
from dispatch import checkout as checkout_module
from dispatch import checkout_sql
from dispatch.checkout import checkout
from dispatch.models import IdempotencyKey, Order, OrderLine
from dispatch.schemas import CheckoutIn
from dispatch.tasks import purge_idempotency_keys
from tests.dispatch.world import DOOR, World, build, count, events_of, level
from tests.factories import place_order, stock
from tests.warehouse.stock_checks import assert_stock_invariants
from warehouse.models import StockReservation


@pytest.fixture
def w(db_session) -> World:
    return build(db_session)


def _body(w: World, *lines, **extra) -> CheckoutIn:
    return CheckoutIn.model_validate(
        {
            "dropoff": DOOR,
            "address": "Torstraße 1",
            "lines": [{"sku": str(getattr(w, name).id), "qty": qty} for name, qty in lines],
            **extra,
        }
    )


def _codes(body) -> list[str]:
    return [f["location_code"] for f in body["fulfilments"]]


def test_the_nearest_store_with_everything_gets_the_order_and_holds_exactly_it(db_session, w) -> None:
    for store in (w.near, w.far):
        stock(db_session, store, w.milk, 10)
        stock(db_session, store, w.bread, 10)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 2), (w.bread, 1)])

    assert body["status"] == "placed"
    assert body["plan"] == "single"
    assert _codes(body) == [w.near.code]
    assert level(db_session, w.near, w.milk) == (10, 2)
    assert level(db_session, w.near, w.bread) == (10, 1)
    assert level(db_session, w.far, w.milk) == (10, 0)
    price = body["price"]
    assert price["subtotal_minor"] == 2 * 129 + 349
    assert price["total_minor"] == price["subtotal_minor"] + price["delivery_fee_minor"]
    assert body["payment"] == {
        "status": "authorized",
        "provider": "simulated",
        "authorized_minor": price["total_minor"],
        "captured_minor": 0,
        "refunded_minor": 0,
    }
    start, end = body["promised_window"]["start"], body["promised_window"]["end"]
    assert start < end
    assert events_of(db_session, body["id"]) == ["order.placed"]
    assert_stock_invariants(db_session)


def test_a_nearer_store_lacking_one_line_loses_to_a_farther_one_with_everything(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)  # no bread at the near store
    stock(db_session, w.far, w.milk, 10)
    stock(db_session, w.far, w.bread, 10)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1), (w.bread, 1)])

    assert body["plan"] == "single"
    assert _codes(body) == [w.far.code]
    explanation = body["explanation"]
    by_code = {c["code"]: c for c in explanation["candidates"]}
    assert by_code[w.near.code]["missing"] == [w.bread.code]
    assert by_code[w.near.code]["chosen"] is False
    assert by_code[w.far.code]["has_all_lines"] is True
    assert w.far.code in explanation["decision"]
    assert w.near.code in explanation["decision"]  # says why the nearer one lost
    assert level(db_session, w.near, w.milk) == (10, 0)


def test_when_neither_store_has_everything_the_order_is_split_in_two(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    stock(db_session, w.far, w.bread, 10)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 3), (w.bread, 2)])

    assert body["plan"] == "split"
    assert sorted(_codes(body)) == sorted([w.near.code, w.far.code])
    where = {line["sku_id"]: line["location_id"] for line in body["lines"]}
    assert where == {str(w.milk.id): str(w.near.id), str(w.bread.id): str(w.far.id)}
    assert level(db_session, w.near, w.milk) == (10, 3)
    assert level(db_session, w.far, w.bread) == (10, 2)
    # The customer gets everything when the slower half arrives.
    door = body["explanation"]["door_s"]
    assert door == max(
        f["estimate"]["queue_wait_s"] + f["estimate"]["pick_s"] + f["estimate"]["travel_s"] for f in body["fulfilments"]
    )


def test_a_distribution_centre_delivers_later_when_no_store_can(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    stock(db_session, w.dc, w.milk, 50)
    stock(db_session, w.dc, w.ice, 50)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1), (w.ice, 1)])

    assert body["plan"] == "later_window"
    assert _codes(body) == [w.dc.code]
    assert body["fulfilments"][0]["estimate"]["lead_s"] > 0
    assert "later window" in body["explanation"]["decision"]
    assert level(db_session, w.dc, w.ice) == (50, 1)


def test_nothing_can_serve_is_409_with_per_line_availability_and_nothing_held(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 2)
    stock(db_session, w.far, w.milk, 1)
    with pytest.raises(DomainError) as caught:
        place_order(db_session, customer=w.customer, lines=[(w.milk, 3), (w.bread, 1)])

    assert (caught.value.status_code, caught.value.code) == (409, "insufficient_stock")
    lines = {line["sku_id"]: line for line in caught.value.extra["lines"]}
    assert lines[str(w.milk.id)] == {"sku_id": str(w.milk.id), "requested": 3, "available": 2}
    assert lines[str(w.bread.id)]["available"] == 0
    assert level(db_session, w.near, w.milk) == (2, 0)
    assert count(db_session, Order) == 0


def test_stock_taken_after_the_snapshot_sends_the_order_to_the_next_store(db_session, w, monkeypatch) -> None:
    """What a concurrent checkout does between our availability read and our reservation: the
    near store looked full but is empty by the time we reserve; the far store takes the order."""
    stock(db_session, w.near, w.milk, 0)
    stock(db_session, w.far, w.milk, 5)
    real = checkout_sql.facts

    def stale(session, *, location_ids, sku_ids, now):
        seen, load = real(session, location_ids=location_ids, sku_ids=sku_ids, now=now)
        return {**seen, (w.near.id, w.milk.id): 5}, load

    monkeypatch.setattr(checkout_sql, "facts", stale)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 2)])

    assert _codes(body) == [w.far.code]
    attempts = body["explanation"]["attempts"]
    assert attempts[0]["locations"] == [w.near.code]
    assert "taken meanwhile" in attempts[0]["outcome"]
    assert attempts[-1] == {"locations": [w.far.code], "outcome": "reserved"}
    assert level(db_session, w.far, w.milk) == (5, 2)
    assert_stock_invariants(db_session)


def test_a_declined_payment_places_nothing_and_holds_nothing(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    savepoint = db_session.begin_nested()  # what the request's rollback does for real
    with pytest.raises(DomainError) as caught:
        place_order(db_session, customer=w.customer, lines=[(w.milk, 2)], payment_method="sim_decline")
    savepoint.rollback()

    assert (caught.value.status_code, caught.value.code) == (402, "payment_declined")
    assert level(db_session, w.near, w.milk) == (10, 0)
    assert count(db_session, Order) == 0
    assert count(db_session, StockReservation) == 0
    assert count(db_session, IdempotencyKey) == 0


def test_a_payment_timeout_is_a_504_and_the_key_can_be_retried(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    savepoint = db_session.begin_nested()
    with pytest.raises(DomainError) as caught:
        place_order(db_session, customer=w.customer, lines=[(w.milk, 1)], payment_method="sim_timeout", key="k-1")
    savepoint.rollback()
    assert (caught.value.status_code, caught.value.code) == (504, "payment_timeout")

    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)], key="k-1")
    assert body["payment"]["status"] == "authorized"
    entries = db_session.scalars(select(SimulatedPaymentEntry.kind)).all()
    assert entries == [SimulatedEntryKind.authorize]


def test_same_key_same_body_replays_the_same_response_without_a_second_order(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    data = _body(w, ("milk", 2))
    first = checkout(db_session, customer_id=w.customer.id, idempotency_key="abc-123", data=data)
    again = checkout(db_session, customer_id=w.customer.id, idempotency_key="abc-123", data=data)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.body == first.body
    assert again.status_code == 201
    assert count(db_session, Order) == 1
    assert level(db_session, w.near, w.milk) == (10, 2)


def test_same_key_different_body_is_422_and_keys_are_per_customer(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    checkout(db_session, customer_id=w.customer.id, idempotency_key="abc-123", data=_body(w, ("milk", 2)))
    with pytest.raises(DomainError) as caught:
        checkout(db_session, customer_id=w.customer.id, idempotency_key="abc-123", data=_body(w, ("milk", 3)))
    assert (caught.value.status_code, caught.value.code) == (422, "idempotency_key_reused")

    other = checkout(db_session, customer_id=w.other.id, idempotency_key="abc-123", data=_body(w, ("milk", 2)))
    assert other.replayed is False
    assert count(db_session, Order) == 2


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (None, "idempotency_key_required"),
        ("", "idempotency_key_required"),
        ("has space", "invalid_idempotency_key"),
        ("x" * 101, "invalid_idempotency_key"),
    ],
)
def test_a_missing_or_malformed_key_is_400(db_session, w, key, code) -> None:
    with pytest.raises(DomainError) as caught:
        checkout(db_session, customer_id=w.customer.id, idempotency_key=key, data=_body(w, ("milk", 1)))
    assert (caught.value.status_code, caught.value.code) == (400, code)


def test_duplicate_lines_of_one_sku_are_merged_and_codes_work_as_references(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    data = CheckoutIn.model_validate(
        {
            "dropoff": DOOR,
            "address": "Torstraße 1",
            "lines": [{"sku": w.milk.code, "qty": 2}, {"sku": str(w.milk.id), "qty": 3}],
        }
    )
    body = checkout(db_session, customer_id=w.customer.id, idempotency_key=uuid.uuid4().hex, data=data).body
    assert [(line["sku_code"], line["qty"]) for line in body["lines"]] == [(w.milk.code, 5)]
    assert level(db_session, w.near, w.milk) == (10, 5)


def test_more_than_the_skus_maximum_is_422(db_session, w) -> None:
    stock(db_session, w.near, w.eggs, 100)
    with pytest.raises(DomainError) as caught:
        place_order(db_session, customer=w.customer, lines=[(w.eggs, 4), (w.eggs, 2)])  # 6 > max 5
    assert (caught.value.status_code, caught.value.code) == (422, "quantity_over_max")


def test_unknown_or_retired_skus_are_422(db_session, w) -> None:
    data = CheckoutIn.model_validate({"dropoff": DOOR, "address": "x", "lines": [{"sku": "NO-SUCH-SKU", "qty": 1}]})
    with pytest.raises(DomainError) as caught:
        checkout(db_session, customer_id=w.customer.id, idempotency_key="k", data=data)
    assert (caught.value.status_code, caught.value.code) == (422, "unknown_sku")
    assert caught.value.extra["skus"] == ["NO-SUCH-SKU"]

    w.bread.active = False
    db_session.flush()
    with pytest.raises(DomainError) as caught:
        checkout(db_session, customer_id=w.customer.id, idempotency_key="k2", data=_body(w, ("bread", 1)))
    assert caught.value.code == "unknown_sku"


def test_outside_every_zone_is_422_and_a_swapped_point_is_named(db_session, w) -> None:
    def at(lat: float, lon: float) -> CheckoutIn:
        lines = [{"sku": w.milk.code, "qty": 1}]
        return CheckoutIn.model_validate({"dropoff": {"lat": lat, "lon": lon}, "address": "x", "lines": lines})

    far_away = at(48.1, 11.5)
    with pytest.raises(DomainError) as caught:
        checkout(db_session, customer_id=w.customer.id, idempotency_key="k", data=far_away)
    assert (caught.value.status_code, caught.value.code) == (422, "outside_service_area")

    swapped = at(13.405, 52.52)
    with pytest.raises(DomainError) as caught:
        checkout(db_session, customer_id=w.customer.id, idempotency_key="k", data=swapped)
    assert caught.value.code == "coordinates_possibly_swapped"


def test_lines_know_their_reservations_and_the_order_its_fulfilments(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    stock(db_session, w.near, w.bread, 10)
    body = place_order(db_session, customer=w.customer, lines=[(w.bread, 1), (w.milk, 4)])
    lines = db_session.scalars(select(OrderLine).where(OrderLine.order_id == uuid.UUID(body["id"]))).all()
    held = {r.id: r for r in db_session.scalars(select(StockReservation))}
    assert {(held[line.reservation_id].sku_id, held[line.reservation_id].qty) for line in lines} == {
        (w.bread.id, 1),
        (w.milk.id, 4),
    }
    assert all(r.expires_at is None and r.holder_id == uuid.UUID(body["id"]) for r in held.values())


def test_a_busy_pick_line_pushes_the_order_to_a_quieter_store(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 500)
    w.near.pick_staff = 1
    db_session.flush()
    # Twenty orders already queue at the near store's single picker.
    for _ in range(20):
        assert _codes(place_order(db_session, customer=w.other, lines=[(w.milk, 1)])) == [w.near.code]
    stock(db_session, w.far, w.milk, 500)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    near = next(c for c in body["explanation"]["candidates"] if c["code"] == w.near.code)
    assert near["estimate"]["queue_wait_s"] > 0
    assert _codes(body) == [w.far.code]


def test_the_window_follows_the_estimate(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    order = db_session.get(Order, uuid.UUID(body["id"]))
    door = body["explanation"]["door_s"]
    assert 0 <= (order.promised_from - order.placed_at).total_seconds() - door < 60
    assert (order.promised_to - order.promised_from).total_seconds() == checkout_module.WINDOW_S[order.plan]


def test_keys_older_than_a_day_are_forgotten_and_may_then_be_reused(db_session, w) -> None:
    stock(db_session, w.near, w.milk, 10)
    data = _body(w, ("milk", 1))
    clock = FrozenClock(clock_now())
    with use_clock(clock):
        checkout(db_session, customer_id=w.customer.id, idempotency_key="old-key", data=data)
        clock.advance(3600)
        assert checkout_module.purge_keys(db_session) == 0
        clock.advance(24 * 3600)
        assert checkout_module.purge_keys(db_session) == 1
        assert count(db_session, IdempotencyKey) == 0
        again = checkout(db_session, customer_id=w.customer.id, idempotency_key="old-key", data=data)
    assert again.replayed is False
    assert count(db_session, Order) == 2
    assert purge_idempotency_keys.name == "dispatch.purge_idempotency_keys"


def test_a_closed_store_counts_the_wait_until_it_opens(db_session, w) -> None:
    for store in (w.near, w.far):
        stock(db_session, store, w.milk, 10)
    w.near.opening_hours = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    w.near.timezone = "UTC"
    db_session.flush()
    with use_clock(FrozenClock(datetime(2026, 11, 23, 6, 30, 20, tzinfo=UTC))):
        body = place_order(db_session, customer=w.customer, lines=[(w.milk, 1)])
    near = next(c for c in body["explanation"]["candidates"] if c["code"] == w.near.code)
    assert near["estimate"]["opens_in_s"] == 90 * 60 - 20
    assert _codes(body) == [w.far.code]
