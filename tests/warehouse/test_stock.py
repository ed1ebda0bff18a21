"""Stock operations (receive, adjust, count, write off, policy) and the stock views."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from core.clock import FrozenClock, use_clock
from core.errors import InvalidInput
from tests.factories import create_location, create_sku, stock
from tests.warehouse.stock_checks import assert_stock_invariants, level_of
from warehouse import reservations
from warehouse import stock as ops
from warehouse.errors import InsufficientStock, UnknownStockLevel
from warehouse.models import MovementKind, ReservationStatus, StockMovement, StockReservation
from warehouse.schemas import MAX_LEVEL
from warehouse.stock_errors import CountBelowReserved, LevelOutOfRange, LocationNotFound, UnknownReference


@pytest.fixture
def clock():
    frozen = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    with use_clock(frozen):
        yield frozen


@pytest.fixture
def shelf(db_session):
    store, sku = create_location(db_session), create_sku(db_session)
    stock(db_session, store, sku, 10)
    return store, sku


def _movements(session, location, sku) -> list[tuple[MovementKind, int, int, str]]:
    rows = session.execute(
        select(StockMovement.kind, StockMovement.on_hand_delta, StockMovement.reserved_delta, StockMovement.reason)
        .where(StockMovement.location_id == location.id, StockMovement.sku_id == sku.id)
        .order_by(StockMovement.id)
    ).all()
    return [tuple(row) for row in rows]


def test_a_receipt_starts_new_levels_and_merges_lines(db_session) -> None:
    store, a, b = create_location(db_session), create_sku(db_session), create_sku(db_session)
    levels = ops.receive(db_session, location_id=store.id, lines=[(a.id, 4), (b.id, 2), (a.id, 1)], reference="DN-1")
    assert {(level.sku_id, level.on_hand) for level in levels} == {(a.id, 5), (b.id, 2)}
    assert _movements(db_session, store, a) == [(MovementKind.receipt, 5, 0, "receipt DN-1")]
    assert_stock_invariants(db_session)


def test_a_receipt_names_unknown_skus_and_locations(db_session) -> None:
    store = create_location(db_session)
    with pytest.raises(UnknownReference) as raised:
        ops.receive(db_session, location_id=store.id, lines=[(uuid.uuid4(), 1)])
    assert raised.value.code == "unknown_sku"
    with pytest.raises(LocationNotFound):
        ops.receive(db_session, location_id=uuid.uuid4(), lines=[(create_sku(db_session).id, 1)])


def test_a_level_cannot_grow_past_its_range(db_session) -> None:
    store, sku = create_location(db_session), create_sku(db_session)
    stock(db_session, store, sku, MAX_LEVEL - 5)
    with pytest.raises(LevelOutOfRange):
        ops.adjust(db_session, location_id=store.id, sku_id=sku.id, delta=10, reason="typo in the count")
    with pytest.raises(LevelOutOfRange):
        ops.receive(db_session, location_id=store.id, lines=[(sku.id, 6)])
    with pytest.raises(LevelOutOfRange):
        ops.count(db_session, location_id=store.id, sku_id=sku.id, counted=MAX_LEVEL + 1)
    with pytest.raises(InvalidInput):
        ops.adjust(db_session, location_id=store.id, sku_id=sku.id, delta=MAX_LEVEL, reason="typo in the count")
    assert level_of(db_session, store.id, sku.id) == (MAX_LEVEL - 5, 0)


def test_adjustments_need_a_reason_and_cannot_take_what_orders_hold(db_session, shelf) -> None:
    store, sku = shelf
    changed = ops.adjust(db_session, location_id=store.id, sku_id=sku.id, delta=-3, reason="damaged in the back")
    assert (changed.on_hand_delta, changed.level.on_hand) == (-3, 7)
    reservations.reserve(db_session, location_id=store.id, lines=[(sku.id, 5)], holder_id=uuid.uuid4(), ttl_s=60)
    with pytest.raises(InsufficientStock):
        ops.adjust(db_session, location_id=store.id, sku_id=sku.id, delta=-3, reason="damaged again")
    for delta, reason, code in ((1, "", "reason_required"), (0, "nothing", "invalid_quantity")):
        with pytest.raises(InvalidInput) as raised:
            ops.adjust(db_session, location_id=store.id, sku_id=sku.id, delta=delta, reason=reason)
        assert raised.value.code == code
    assert level_of(db_session, store.id, sku.id) == (7, 5)
    assert_stock_invariants(db_session)


def test_a_count_sets_on_hand_through_one_adjustment_line(db_session, shelf) -> None:
    store, sku = shelf
    result = ops.count(db_session, location_id=store.id, sku_id=sku.id, counted=8, reason="weekly count")
    assert (result.on_hand_delta, result.level.on_hand) == (-2, 8)
    again = ops.count(db_session, location_id=store.id, sku_id=sku.id, counted=8)
    assert again.on_hand_delta == 0
    assert _movements(db_session, store, sku)[1:] == [(MovementKind.adjustment, -2, 0, "count: weekly count (10 → 8)")]
    found = ops.count(db_session, location_id=store.id, sku_id=create_sku(db_session).id, counted=3)
    assert found.level.on_hand == 3  # a count may find a SKU the location never booked in


def test_a_count_below_live_holds_is_refused_but_expired_holds_do_not_count(db_session, clock, shelf) -> None:
    store, sku = shelf
    reservations.reserve(db_session, location_id=store.id, lines=[(sku.id, 6)], holder_id=uuid.uuid4(), ttl_s=30)
    with pytest.raises(CountBelowReserved) as raised:
        ops.count(db_session, location_id=store.id, sku_id=sku.id, counted=5)
    assert raised.value.extra == {"counted": 5, "reserved": 6}
    clock.advance(31)
    assert ops.count(db_session, location_id=store.id, sku_id=sku.id, counted=5).level.on_hand == 5
    assert db_session.scalars(select(StockReservation.status)).all() == [ReservationStatus.expired]
    assert_stock_invariants(db_session)


def test_a_write_off_takes_only_free_units_after_reclaiming_expired_holds(db_session, clock, shelf) -> None:
    store, sku = shelf
    reservations.reserve(db_session, location_id=store.id, lines=[(sku.id, 8)], holder_id=uuid.uuid4(), ttl_s=30)
    with pytest.raises(InsufficientStock):
        ops.write_off(db_session, location_id=store.id, sku_id=sku.id, qty=3, reason="crushed")
    clock.advance(30)
    result = ops.write_off(db_session, location_id=store.id, sku_id=sku.id, qty=3, reason="crushed")
    assert (result.level.on_hand, result.level.reserved, result.level.available) == (7, 0, 7)
    with pytest.raises(UnknownStockLevel):
        ops.write_off(db_session, location_id=store.id, sku_id=create_sku(db_session).id, qty=1, reason="lost it")
    assert_stock_invariants(db_session)


def test_policy_ranges_a_sku_and_marks_it_low(db_session, shelf) -> None:
    store, sku = shelf
    level = ops.set_policy(
        db_session, location_id=store.id, sku_id=sku.id, reorder_point=10, target_level=40, bin="B-3"
    )
    assert (level.reorder_point, level.target_level, level.bin, level.low) == (10, 40, "B-3", True)
    assert [i.sku_id for i in ops.location_levels(db_session, location_id=store.id, low_only=True).items] == [sku.id]
    with pytest.raises(InvalidInput):
        ops.set_policy(db_session, location_id=store.id, sku_id=sku.id, reorder_point=5, target_level=4)


def test_views_search_and_page(db_session, shelf) -> None:
    store, _ = shelf
    other = create_sku(db_session, code=f"ZZ-{uuid.uuid4().hex[:6]}")
    stock(db_session, store, other, 1)
    page = ops.location_levels(db_session, location_id=store.id, limit=1)
    assert (page.total, len(page.items)) == (2, 1)
    assert [i.sku_id for i in ops.location_levels(db_session, location_id=store.id, query=other.code[:6]).items] == [
        other.id
    ]
    with pytest.raises(UnknownStockLevel):
        ops.get_level(db_session, location_id=store.id, sku_id=create_sku(db_session).id)


def test_the_ledger_pages_by_movement_id(db_session, shelf) -> None:
    store, sku = shelf
    for delta in range(1, 6):
        ops.adjust(db_session, location_id=store.id, sku_id=sku.id, delta=delta, reason="found")
    seen, cursor = [], None
    while True:
        page = ops.ledger(db_session, location_id=store.id, before=cursor, limit=2)
        seen += [m.on_hand_delta for m in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [5, 4, 3, 2, 1, 10]
    assert [m.kind for m in ops.ledger(db_session, sku_id=sku.id, kinds=[MovementKind.receipt]).items] == [
        MovementKind.receipt
    ]


def test_the_database_refuses_what_the_service_would_refuse(db_session, shelf) -> None:
    store, sku = shelf
    for statement in (
        "UPDATE stock_levels SET on_hand = -1 WHERE location_id = :l AND sku_id = :s",
        "UPDATE stock_levels SET reserved = on_hand + 1 WHERE location_id = :l AND sku_id = :s",
        "UPDATE stock_levels SET reserved = -1 WHERE location_id = :l AND sku_id = :s",
    ):
        with pytest.raises(IntegrityError, match="ck_stock_levels_reserved_within_on_hand"), db_session.begin_nested():
            db_session.execute(text(statement), {"l": store.id, "s": sku.id})
    assert level_of(db_session, store.id, sku.id) == (10, 0)
