"""Committing a basket of reservations at once: the same ledger as one commit after another, in
one statement, and all or nothing; `move_many` changes every level of a batch or none."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, func, select

from tests.factories import create_location, create_sku, stock
from tests.warehouse.stock_checks import assert_stock_invariants, level_of
from warehouse import reservations
from warehouse.errors import InsufficientStock, UnknownStockLevel
from warehouse.ledger import Movement, move_many
from warehouse.models import MovementKind, ReservationStatus, StockMovement
from warehouse.reservation_closing import ToCommit, commit_many
from warehouse.stock_errors import ReservationClosed


@pytest.fixture
def shelf(db_session):
    """A store with three SKUs, 10 units each."""
    store = create_location(db_session)
    skus = [create_sku(db_session) for _ in range(3)]
    for sku in skus:
        stock(db_session, store, sku, 10)
    return store, skus


def _hold(db_session, store, skus, qty: int = 4) -> list[uuid.UUID]:
    """One reservation per SKU, each of its own holder (as order lines are), in `skus` order."""
    ids = []
    for sku in skus:
        (held,) = reservations.reserve(
            db_session, location_id=store.id, lines=[(sku.id, qty)], holder_id=uuid.uuid4(), indefinite=True
        )
        ids.append(held.id)
    return ids


def _ledger(db_session, ids):
    rows = db_session.execute(
        select(
            StockMovement.ref_id,
            StockMovement.kind,
            StockMovement.on_hand_delta,
            StockMovement.reserved_delta,
            StockMovement.reason,
        )
        .where(StockMovement.ref_id.in_(ids), StockMovement.kind != MovementKind.reserve)
        .order_by(StockMovement.id)
    ).all()
    return sorted(tuple(row) for row in rows)


def _statements(db_session):
    counted = []
    engine = db_session.get_bind().engine
    listener = lambda *args: counted.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    return counted, lambda: event.remove(engine, "before_cursor_execute", listener)


def test_a_basket_writes_the_same_ledger_as_one_commit_after_another(db_session, shelf) -> None:
    store, skus = shelf
    one_by_one = _hold(db_session, store, skus)
    for rid, qty in zip(one_by_one, (4, 1, 0), strict=True):  # full, short, nothing
        reservations.commit(db_session, reservation_id=rid, qty=qty, reason="basket", actor_id=None)
    basket = _hold(db_session, store, skus)
    done = commit_many(
        db_session, items=[ToCommit(rid, qty, "basket") for rid, qty in zip(basket, (4, 1, 0), strict=True)]
    )

    assert [(c.reservation.id, c.picked, c.released) for c in done] == [
        (basket[0], 4, 0),
        (basket[1], 1, 3),
        (basket[2], 0, 4),
    ]
    assert [c.reservation.status for c in done] == [
        ReservationStatus.committed,
        ReservationStatus.committed,
        ReservationStatus.released,
    ]
    rename = dict(zip(one_by_one, basket, strict=True))
    assert _ledger(db_session, basket) == sorted((rename[r[0]], *r[1:]) for r in _ledger(db_session, one_by_one))
    assert [level_of(db_session, store.id, sku.id) for sku in skus] == [(2, 0), (8, 0), (10, 0)]
    assert_stock_invariants(db_session)


def test_a_basket_costs_the_same_statements_whatever_its_size(db_session, shelf) -> None:
    store, skus = shelf
    small, large = _hold(db_session, store, skus[:1]), _hold(db_session, store, skus)
    counted, stop = _statements(db_session)
    try:
        commit_many(db_session, items=[ToCommit(small[0], 2)])
        one = len(counted)
        counted.clear()
        commit_many(db_session, items=[ToCommit(rid, 2) for rid in large])
        three = len(counted)
    finally:
        stop()
    assert one == three <= 5
    assert_stock_invariants(db_session)


def test_one_closed_reservation_refuses_the_whole_basket(db_session, shelf) -> None:
    store, skus = shelf
    ids = _hold(db_session, store, skus)
    reservations.release(db_session, reservation_ids=[ids[2]], reason="gone")
    before = db_session.scalar(select(func.count()).select_from(StockMovement))
    with pytest.raises(ReservationClosed):
        commit_many(db_session, items=[ToCommit(rid, 1) for rid in ids])
    assert db_session.scalar(select(func.count()).select_from(StockMovement)) == before
    assert [level_of(db_session, store.id, sku.id) for sku in skus] == [(10, 4), (10, 4), (10, 0)]


def test_levels_held_must_cover_every_reservation(db_session, shelf) -> None:
    store, skus = shelf
    ids = _hold(db_session, store, skus[:2])
    with pytest.raises(ValueError, match="does not hold the level"):
        commit_many(db_session, items=[ToCommit(rid) for rid in ids], levels_held={(store.id, skus[0].id)})
    held = {(store.id, sku.id) for sku in skus[:2]}
    reservations_done = commit_many(db_session, items=[ToCommit(rid) for rid in ids], levels_held=held)
    assert [c.picked for c in reservations_done] == [4, 4]
    assert_stock_invariants(db_session)


def test_move_many_changes_every_level_or_none(db_session, shelf) -> None:
    store, (a, b, c) = shelf
    elsewhere = create_location(db_session)
    before = db_session.scalar(select(func.count()).select_from(StockMovement))
    take = [Movement(store.id, a.id, MovementKind.adjustment, on_hand_delta=-3)]
    with pytest.raises(InsufficientStock) as refused:
        move_many(db_session, [*take, Movement(store.id, b.id, MovementKind.adjustment, on_hand_delta=-11)])
    assert refused.value.extra["sku_id"] == str(b.id)
    with pytest.raises(UnknownStockLevel):
        move_many(db_session, [*take, Movement(elsewhere.id, a.id, MovementKind.adjustment, on_hand_delta=-1)])
    assert db_session.scalar(select(func.count()).select_from(StockMovement)) == before
    assert level_of(db_session, store.id, a.id) == (10, 0)

    # Two movements of one level apply their net change, each keeping its own ledger line.
    move_many(
        db_session,
        [
            *take,
            Movement(store.id, a.id, MovementKind.adjustment, on_hand_delta=-2, reason="second"),
            Movement(store.id, c.id, MovementKind.write_off, on_hand_delta=-10),
        ],
    )
    assert (level_of(db_session, store.id, a.id), level_of(db_session, store.id, c.id)) == ((5, 0), (0, 0))
    assert db_session.scalar(select(func.count()).select_from(StockMovement)) == before + 3
    assert_stock_invariants(db_session)
