"""Reservations: all-or-nothing holds in a savepoint, release, (short) pick, extend, expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import FrozenClock, use_clock
from core.errors import InvalidInput
from tests.factories import create_location, create_sku, stock
from tests.warehouse.stock_checks import assert_stock_invariants, level_of
from warehouse import reservations
from warehouse.errors import InsufficientStock
from warehouse.models import MovementKind, ReservationStatus, StockMovement, StockReservation
from warehouse.stock_errors import (
    PickExceedsReservation,
    ReservationClosed,
    ReservationExpired,
    ReservationNotFound,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    frozen = FrozenClock(T0)
    with use_clock(frozen):
        yield frozen


@pytest.fixture
def shelf(db_session):
    """A store with two SKUs: 10 and 5 units."""
    store = create_location(db_session)
    a, b = create_sku(db_session), create_sku(db_session)
    stock(db_session, store, a, 10)
    stock(db_session, store, b, 5)
    return store, a, b


def _ledger(session, ref_id):
    rows = session.execute(
        select(StockMovement.kind, StockMovement.on_hand_delta, StockMovement.reserved_delta, StockMovement.reason)
        .where(StockMovement.ref_id == ref_id)
        .order_by(StockMovement.id)
    ).all()
    return [tuple(row) for row in rows]


def test_reserve_holds_every_line_and_writes_its_ledger(db_session, clock, shelf) -> None:
    store, a, b = shelf
    holder = uuid.uuid4()
    held = reservations.reserve(
        db_session, location_id=store.id, lines=[(b.id, 2), (a.id, 3)], holder_id=holder, ttl_s=600
    )
    assert [r.sku_id for r in held] == sorted([a.id, b.id])
    by_sku = {r.sku_id: r for r in held}
    assert by_sku[a.id].qty == 3
    assert by_sku[a.id].holder_line == 1
    assert by_sku[b.id].qty == 2
    assert by_sku[b.id].holder_line == 0
    assert all(r.status is ReservationStatus.active and r.expires_at == T0 + timedelta(seconds=600) for r in held)
    assert level_of(db_session, store.id, a.id) == (10, 3)
    assert level_of(db_session, store.id, b.id) == (5, 2)
    assert _ledger(db_session, by_sku[a.id].id)[0][:3] == (MovementKind.reserve, 0, 3)
    # The returned objects are the rows: reloading shows the same.
    assert db_session.get(StockReservation, by_sku[a.id].id, populate_existing=True).holder_id == holder
    assert_stock_invariants(db_session)


def test_duplicate_lines_of_one_sku_are_merged(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    held = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 2), (a.id, 3)], holder_id=uuid.uuid4(), ttl_s=60
    )
    assert [(r.sku_id, r.qty) for r in held] == [(a.id, 5)]


def test_a_short_line_holds_nothing_and_reports_every_line(db_session, clock, shelf) -> None:
    store, a, b = shelf
    with pytest.raises(InsufficientStock) as raised:
        reservations.reserve(
            db_session, location_id=store.id, lines=[(a.id, 4), (b.id, 6)], holder_id=uuid.uuid4(), ttl_s=60
        )
    error = raised.value
    assert (error.status_code, error.code) == (409, "insufficient_stock")
    lines = {line["sku_id"]: line for line in error.extra["lines"]}
    assert lines[str(a.id)] == {"sku_id": str(a.id), "requested": 4, "available": 10}
    assert lines[str(b.id)] == {"sku_id": str(b.id), "requested": 6, "available": 5}
    assert level_of(db_session, store.id, a.id) == (10, 0)
    assert db_session.scalars(select(StockReservation)).all() == []
    assert_stock_invariants(db_session)


def test_after_a_failure_the_caller_can_try_the_next_location_in_the_same_transaction(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    other = create_location(db_session)
    stock(db_session, other, a, 50)
    with pytest.raises(InsufficientStock):
        reservations.reserve(db_session, location_id=store.id, lines=[(a.id, 20)], holder_id=uuid.uuid4(), ttl_s=60)
    held = reservations.reserve(db_session, location_id=other.id, lines=[(a.id, 20)], holder_id=uuid.uuid4(), ttl_s=60)
    assert held[0].location_id == other.id
    assert level_of(db_session, other.id, a.id) == (50, 20)


def test_a_sku_the_location_does_not_stock_is_unavailable_there(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    unstocked = create_sku(db_session)
    with pytest.raises(InsufficientStock) as raised:
        reservations.reserve(
            db_session, location_id=store.id, lines=[(a.id, 1), (unstocked.id, 1)], holder_id=uuid.uuid4(), ttl_s=60
        )
    lines = {line["sku_id"]: line["available"] for line in raised.value.extra["lines"]}
    assert lines == {str(a.id): 10, str(unstocked.id): 0}
    assert level_of(db_session, store.id, a.id) == (10, 0)


@pytest.mark.parametrize("qty", [0, -1, 1_000_001, True])
def test_quantities_must_be_positive_and_bounded(db_session, clock, shelf, qty) -> None:
    store, a, _ = shelf
    with pytest.raises(InvalidInput) as raised:
        reservations.reserve(db_session, location_id=store.id, lines=[(a.id, qty)], holder_id=uuid.uuid4(), ttl_s=60)
    assert raised.value.code == "invalid_quantity"


def test_the_expiry_is_given_exactly_once_and_lies_ahead(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    args = {"location_id": store.id, "lines": [(a.id, 1)], "holder_id": uuid.uuid4()}
    with pytest.raises(ValueError, match="exactly one"):
        reservations.reserve(db_session, **args)
    with pytest.raises(ValueError, match="exactly one"):
        reservations.reserve(db_session, **args, ttl_s=5, indefinite=True)
    with pytest.raises(InvalidInput, match="future"):
        reservations.reserve(db_session, **args, expires_at=T0)
    with pytest.raises(InvalidInput) as raised:
        reservations.reserve(db_session, **args, ttl_s=0)
    assert raised.value.code == "invalid_ttl"


def test_an_expired_hold_is_available_before_the_sweep_and_reserve_reclaims_it(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    (first,) = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 10)], holder_id=uuid.uuid4(), ttl_s=60
    )
    assert reservations.available(db_session, location_id=store.id, sku_ids=[a.id]) == {a.id: 0}
    clock.advance(61)
    assert reservations.available(db_session, location_id=store.id, sku_ids=[a.id]) == {a.id: 10}

    (second,) = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 10)], holder_id=uuid.uuid4(), ttl_s=60
    )
    db_session.refresh(first)
    assert first.status is ReservationStatus.expired
    assert first.closed_at == T0 + timedelta(seconds=61)
    assert _ledger(db_session, first.id) == [
        (MovementKind.reserve, 0, 10, f"hold for {first.holder_id}"),
        (MovementKind.release, 0, -10, "expired"),
    ]
    assert second.status is ReservationStatus.active
    assert level_of(db_session, store.id, a.id) == (10, 10)
    assert_stock_invariants(db_session)


def test_release_by_ids_or_holder_is_idempotent(db_session, clock, shelf) -> None:
    store, a, b = shelf
    holder = uuid.uuid4()
    held = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 3), (b.id, 2)], holder_id=holder, ttl_s=60
    )
    released = reservations.release(db_session, reservation_ids=[held[0].id], reason="customer removed the line")
    assert [r.id for r in released] == [held[0].id]
    assert released[0].status is ReservationStatus.released
    assert reservations.release(db_session, reservation_ids=[held[0].id], reason="again") == []
    rest = reservations.release(db_session, holder_id=holder, reason="order cancelled")
    assert [r.id for r in rest] == [held[1].id]
    assert level_of(db_session, store.id, a.id) == (10, 0)
    assert level_of(db_session, store.id, b.id) == (5, 0)
    with pytest.raises(ReservationNotFound):
        reservations.release(db_session, reservation_ids=[uuid.uuid4()], reason="nope")
    assert_stock_invariants(db_session)


def test_commit_picks_in_full_or_short_and_releases_the_rest(db_session, clock, shelf) -> None:
    store, a, b = shelf
    held = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 4), (b.id, 3)], holder_id=uuid.uuid4(), ttl_s=60
    )
    full, short = sorted(held, key=lambda r: -r.qty)
    done = reservations.commit(db_session, reservation_id=full.id)
    assert (done.picked, done.released, done.reservation.status) == (4, 0, ReservationStatus.committed)
    assert level_of(db_session, store.id, full.sku_id) == (6, 0)

    partial = reservations.commit(db_session, reservation_id=short.id, qty=1)
    assert (partial.picked, partial.released) == (1, 2)
    assert level_of(db_session, store.id, short.sku_id) == (4, 0)
    assert [line[:3] for line in _ledger(db_session, short.id)] == [
        (MovementKind.reserve, 0, 3),
        (MovementKind.pick, -1, -1),
        (MovementKind.release, 0, -2),
    ]
    assert_stock_invariants(db_session)


def test_picking_nothing_releases_the_hold(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    (held,) = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 2)], holder_id=uuid.uuid4(), ttl_s=60
    )
    outcome = reservations.commit(db_session, reservation_id=held.id, qty=0)
    assert (outcome.picked, outcome.released, outcome.reservation.status) == (0, 2, ReservationStatus.released)
    assert level_of(db_session, store.id, a.id) == (10, 0)


def test_commit_refuses_too_much_expired_and_closed(db_session, clock, shelf) -> None:
    store, a, b = shelf
    first, second = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 2), (b.id, 1)], holder_id=uuid.uuid4(), ttl_s=60
    )
    with pytest.raises(PickExceedsReservation):
        reservations.commit(db_session, reservation_id=first.id, qty=3)
    reservations.commit(db_session, reservation_id=first.id)
    with pytest.raises(ReservationClosed) as closed:
        reservations.commit(db_session, reservation_id=first.id)
    assert (closed.value.status_code, closed.value.code) == (409, "reservation_closed")
    clock.advance(60)  # expiry is inclusive: at expires_at the hold is gone
    with pytest.raises(ReservationExpired) as expired:
        reservations.commit(db_session, reservation_id=second.id)
    assert (expired.value.status_code, expired.value.code) == (409, "reservation_expired")
    with pytest.raises(ReservationNotFound):
        reservations.commit(db_session, reservation_id=uuid.uuid4())


def test_extend_lifts_the_expiry_of_live_holds_only(db_session, clock, shelf) -> None:
    store, a, b = shelf
    holder = uuid.uuid4()
    reservations.reserve(db_session, location_id=store.id, lines=[(a.id, 2)], holder_id=holder, ttl_s=60)
    paid = reservations.extend(db_session, holder_id=holder, indefinite=True)
    assert [r.expires_at for r in paid] == [None]
    clock.advance(3600)
    assert reservations.expire_due(db_session) == 0
    assert level_of(db_session, store.id, a.id) == (10, 2)

    late = uuid.uuid4()
    reservations.reserve(db_session, location_id=store.id, lines=[(b.id, 1)], holder_id=late, ttl_s=60)
    clock.advance(61)
    with pytest.raises(ReservationExpired):
        reservations.extend(db_session, holder_id=late, ttl_s=600)
    with pytest.raises(ReservationNotFound):
        reservations.extend(db_session, holder_id=uuid.uuid4(), ttl_s=600)


def test_the_sweeper_expires_only_what_is_due(db_session, clock, shelf) -> None:
    store, a, b = shelf
    (short_lived,) = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 3)], holder_id=uuid.uuid4(), ttl_s=30
    )
    (long_lived,) = reservations.reserve(
        db_session, location_id=store.id, lines=[(b.id, 2)], holder_id=uuid.uuid4(), ttl_s=300
    )
    clock.advance(31)
    assert reservations.expire_due(db_session) == 1
    assert reservations.expire_due(db_session) == 0
    db_session.refresh(short_lived)
    db_session.refresh(long_lived)
    assert short_lived.status is ReservationStatus.expired
    assert long_lived.status is ReservationStatus.active
    assert level_of(db_session, store.id, a.id) == (10, 0)
    assert level_of(db_session, store.id, b.id) == (5, 2)
    assert_stock_invariants(db_session)


def test_the_sweeper_works_in_batches(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    for _ in range(5):
        reservations.reserve(db_session, location_id=store.id, lines=[(a.id, 1)], holder_id=uuid.uuid4(), ttl_s=10)
    clock.advance(11)
    assert reservations.expire_due(db_session, limit=2) == 2
    assert reservations.expire_due(db_session, limit=10) == 3
    assert level_of(db_session, store.id, a.id) == (10, 0)


def test_a_transfer_holds_indefinitely_and_commits_as_transfer_out(db_session, clock, shelf) -> None:
    store, a, b = shelf
    transfer_id = uuid.uuid4()
    held = reservations.reserve(
        db_session, location_id=store.id, lines=[(a.id, 4), (b.id, 1)], holder_id=transfer_id, indefinite=True
    )
    assert all(r.expires_at is None for r in held)
    clock.advance(90 * 24 * 3600)
    assert reservations.expire_due(db_session) == 0
    done = reservations.commit_holder(db_session, holder_id=transfer_id, kind=MovementKind.transfer_out)
    assert sorted((c.reservation.sku_id, c.picked) for c in done) == sorted([(a.id, 4), (b.id, 1)])
    assert level_of(db_session, store.id, a.id) == (6, 0)
    assert _ledger(db_session, held[0].id)[-1][:3] == (MovementKind.transfer_out, -held[0].qty, -held[0].qty)
    assert [r.status for r in reservations.holds_of(db_session, holder_id=transfer_id)] == [
        ReservationStatus.committed
    ] * 2
    assert_stock_invariants(db_session)


def test_commit_rejects_other_movement_kinds(db_session, clock, shelf) -> None:
    store, a, _ = shelf
    (held,) = reservations.reserve(db_session, location_id=store.id, lines=[(a.id, 1)], holder_id=uuid.uuid4(), ttl_s=9)
    with pytest.raises(ValueError, match="pick or transfer_out"):
        reservations.commit(db_session, reservation_id=held.id, kind=MovementKind.write_off)
