"""Transfers move stock down the tiers: planned (reserved at the source) → in_transit (off the
source shelf) → received (on the destination shelf, as counted) — or cancelled before leaving."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock, use_clock
from core.events import OutboxEvent
from stores.models import LocationKind
from tests.factories import create_location, create_sku, stock
from tests.warehouse.stock_checks import assert_stock_invariants
from warehouse import replenishment, reservations, transfer_queries, transfers
from warehouse.errors import InsufficientStock, UnknownStockLevel
from warehouse.ledger import move
from warehouse.models import MovementKind, StockLevel, StockMovement, TransferStatus
from warehouse.transfer_errors import (
    DuplicateSku,
    InvalidTransition,
    LocationNotFound,
    NotDownTheTiers,
    OverReceipt,
    ReceiptLinesMismatch,
    SameLocation,
    TransferNotFound,
)
from warehouse.transfer_schemas import ReceiptLineIn, TransferLineIn


def _network(session):
    central = create_location(session, kind=LocationKind.central_warehouse, lat=52.40, lon=13.20, with_zone=False)
    dc = create_location(session, kind=LocationKind.distribution_centre, lat=52.45, lon=13.30, parent=central)
    store = create_location(session, kind=LocationKind.store, lat=52.52, lon=13.405, parent=dc)
    return central, dc, store


def _level(session, location, sku) -> tuple[int, int]:
    level = session.get(StockLevel, (location.id, sku.id), populate_existing=True)
    return (level.on_hand, level.reserved) if level else (0, 0)


def _movements(session, transfer_id) -> list[tuple[MovementKind, int, int]]:
    rows = session.execute(
        select(StockMovement.kind, StockMovement.on_hand_delta, StockMovement.reserved_delta)
        .where(StockMovement.ref_id == transfer_id)
        .order_by(StockMovement.id)
    ).all()
    return [tuple(row) for row in rows]


def _plan(session, source, destination, *pairs):
    lines = [TransferLineIn(sku_id=sku.id, qty=qty) for sku, qty in pairs]
    return transfers.create_transfer(session, from_location_id=source.id, to_location_id=destination.id, lines=lines)


def _receipt(*pairs) -> list[ReceiptLineIn]:
    return [ReceiptLineIn(sku_id=sku.id, qty_received=qty) for sku, qty in pairs]


def test_planning_reserves_the_units_at_the_source(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 50)

    transfer = _plan(db_session, dc, store, (sku, 12))

    assert transfer.status is TransferStatus.planned
    assert transfer.reason == "manual"
    assert _level(db_session, dc, sku) == (50, 12)
    assert _movements(db_session, transfer.id) == [(MovementKind.reserve, 0, 12)]


def test_a_checkout_at_the_source_cannot_sell_what_a_transfer_was_promised(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 10)
    _plan(db_session, dc, store, (sku, 8))

    with pytest.raises(InsufficientStock):
        move(db_session, location_id=dc.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=3)
    move(db_session, location_id=dc.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=2)


def test_planning_more_than_the_source_has_available_changes_nothing(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 5)
    with pytest.raises(InsufficientStock), db_session.begin_nested():
        _plan(db_session, dc, store, (sku, 6))
    assert _level(db_session, dc, sku) == (5, 0)


def test_a_sku_the_source_does_not_stock_cannot_be_planned(db_session) -> None:
    _, dc, store = _network(db_session)
    with pytest.raises(UnknownStockLevel):
        _plan(db_session, dc, store, (create_sku(db_session), 1))


def test_dispatch_takes_the_units_off_the_source_shelf_and_estimates_arrival(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 50)
    transfer = _plan(db_session, dc, store, (sku, 12))
    clock = FrozenClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))

    with use_clock(clock):
        transfers.dispatch_transfer(db_session, transfer_id=transfer.id)

    assert transfer.status is TransferStatus.in_transit
    assert _level(db_session, dc, sku) == (38, 0)
    assert _movements(db_session, transfer.id)[-1] == (MovementKind.transfer_out, -12, -12)
    assert transfer.dispatched_at == clock()
    # ~11 km between the two at 10 m/s, plus 15 minutes of handling.
    travel = (transfer.expected_at - clock()).total_seconds()
    assert travel == transfers.travel_seconds(dc, store)
    assert 900 + 1000 < travel < 900 + 1300
    assert transfer_queries.in_transit_quantities(db_session, location_id=store.id) == {sku.id: 12}


def test_receiving_books_the_counted_units_in_at_the_destination(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 50)
    transfer = _plan(db_session, dc, store, (sku, 12))
    transfers.dispatch_transfer(db_session, transfer_id=transfer.id)

    transfers.receive_transfer(db_session, transfer_id=transfer.id, lines=_receipt((sku, 12)))

    assert transfer.status is TransferStatus.received
    assert transfer.received_at is not None
    # The store did not stock the SKU before: the receipt starts its level.
    assert _level(db_session, store, sku) == (12, 0)
    assert _movements(db_session, transfer.id)[-1] == (MovementKind.transfer_in, 12, 0)
    assert transfer_queries.in_transit_quantities(db_session, location_id=store.id) == {}
    view = transfer_queries.describe(db_session, transfer)
    assert (view.lines[0].qty_received, view.lines[0].qty_lost, view.lost_qty) == (12, 0, 0)


def test_a_short_receipt_is_recorded_as_lost_in_transit_without_inventing_stock(db_session) -> None:
    _, dc, store = _network(db_session)
    milk, eggs = create_sku(db_session), create_sku(db_session)
    stock(db_session, dc, milk, 20)
    stock(db_session, dc, eggs, 20)
    stock(db_session, store, milk, 1)
    transfer = _plan(db_session, dc, store, (milk, 10), (eggs, 4))
    transfers.dispatch_transfer(db_session, transfer_id=transfer.id)

    transfers.receive_transfer(db_session, transfer_id=transfer.id, lines=_receipt((milk, 7), (eggs, 0)))

    assert _level(db_session, store, milk) == (8, 0)
    assert _level(db_session, store, eggs) == (0, 0)  # nothing booked in for a line lost entirely
    assert _level(db_session, dc, milk) == (10, 0)  # the source is not charged twice
    view = transfer_queries.describe(db_session, transfer)
    lost = {line.sku_id: line.qty_lost for line in view.lines}
    assert lost == {milk.id: 3, eggs.id: 4}
    assert view.lost_qty == 7
    short = transfer_queries.list_transfers(db_session, short_only=True, to_location_id=store.id)
    assert [t.id for t in short.items] == [transfer.id]


def test_receiving_more_than_was_sent_is_refused_and_books_nothing(db_session) -> None:
    _, dc, store = _network(db_session)
    milk, eggs = create_sku(db_session), create_sku(db_session)
    stock(db_session, dc, milk, 20)
    stock(db_session, dc, eggs, 20)
    transfer = _plan(db_session, dc, store, (milk, 10), (eggs, 4))
    transfers.dispatch_transfer(db_session, transfer_id=transfer.id)

    with pytest.raises(OverReceipt) as raised:
        transfers.receive_transfer(db_session, transfer_id=transfer.id, lines=_receipt((milk, 10), (eggs, 5)))

    assert raised.value.extra == {"sku_id": str(eggs.id), "qty": 4, "qty_received": 5}
    assert transfer.status is TransferStatus.in_transit
    assert _level(db_session, store, milk) == (0, 0)


def test_a_receipt_must_count_every_line_and_only_those(db_session) -> None:
    _, dc, store = _network(db_session)
    milk, eggs, other = create_sku(db_session), create_sku(db_session), create_sku(db_session)
    stock(db_session, dc, milk, 20)
    stock(db_session, dc, eggs, 20)
    transfer = _plan(db_session, dc, store, (milk, 10), (eggs, 4))
    transfers.dispatch_transfer(db_session, transfer_id=transfer.id)

    with pytest.raises(ReceiptLinesMismatch) as raised:
        transfers.receive_transfer(db_session, transfer_id=transfer.id, lines=_receipt((milk, 10), (other, 1)))
    assert raised.value.extra == {"missing": [str(eggs.id)], "unexpected": [str(other.id)]}
    with pytest.raises(DuplicateSku):
        transfers.receive_transfer(db_session, transfer_id=transfer.id, lines=_receipt((milk, 1), (milk, 1)))


def test_cancelling_a_planned_transfer_releases_the_source_reservation(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 50)
    transfer = _plan(db_session, dc, store, (sku, 12))

    transfers.cancel_transfer(db_session, transfer_id=transfer.id)

    assert transfer.status is TransferStatus.cancelled
    assert _level(db_session, dc, sku) == (50, 0)
    assert _movements(db_session, transfer.id) == [(MovementKind.reserve, 0, 12), (MovementKind.release, 0, -12)]


@pytest.mark.parametrize(
    ("reached", "action"),
    [
        ("planned", "receive"),
        ("in_transit", "dispatch"),
        ("in_transit", "cancel"),
        ("received", "dispatch"),
        ("received", "cancel"),
        ("received", "receive"),
        ("cancelled", "dispatch"),
        ("cancelled", "receive"),
        ("cancelled", "cancel"),
    ],
)
def test_illegal_transitions_are_conflicts_that_change_nothing(db_session, reached, action) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 50)
    transfer = _plan(db_session, dc, store, (sku, 5))
    if reached == "cancelled":
        transfers.cancel_transfer(db_session, transfer_id=transfer.id)
    if reached in ("in_transit", "received"):
        transfers.dispatch_transfer(db_session, transfer_id=transfer.id)
    if reached == "received":
        transfers.receive_transfer(db_session, transfer_id=transfer.id, lines=_receipt((sku, 5)))
    before = (_level(db_session, dc, sku), _level(db_session, store, sku), len(_movements(db_session, transfer.id)))

    calls = {
        "dispatch": lambda: transfers.dispatch_transfer(db_session, transfer_id=transfer.id),
        "cancel": lambda: transfers.cancel_transfer(db_session, transfer_id=transfer.id),
        "receive": lambda: transfers.receive_transfer(db_session, transfer_id=transfer.id, lines=_receipt((sku, 5))),
    }
    with pytest.raises(InvalidTransition) as raised:
        calls[action]()

    assert raised.value.status_code == 409
    assert raised.value.extra == {"current_status": reached, "action": action}
    after = (_level(db_session, dc, sku), _level(db_session, store, sku), len(_movements(db_session, transfer.id)))
    assert after == before


def test_stock_only_moves_down_the_tiers(db_session) -> None:
    central, dc, store = _network(db_session)
    dark_store = create_location(db_session, kind=LocationKind.dark_store, parent=dc)
    sku = create_sku(db_session)
    for location in (central, dc, store):
        stock(db_session, location, sku, 10)

    for source, destination in ((store, dc), (dc, central), (store, dark_store), (dc, dc)):
        with pytest.raises((NotDownTheTiers, SameLocation)) as raised:
            _plan(db_session, source, destination, (sku, 1))
        assert raised.value.status_code == 422
    with pytest.raises(SameLocation):
        _plan(db_session, dc, dc, (sku, 1))
    # A manual transfer may skip a tier: central warehouse straight to a store.
    assert _plan(db_session, central, store, (sku, 1)).status is TransferStatus.planned


def test_unknown_locations_and_transfers_are_not_found(db_session) -> None:
    _, dc, _ = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 10)
    ghost = create_location(db_session)
    db_session.delete(ghost)
    db_session.flush()
    with pytest.raises(LocationNotFound) as raised:
        _plan(db_session, dc, ghost, (sku, 1))
    assert raised.value.extra["field"] == "to_location_id"
    with pytest.raises(TransferNotFound):
        transfers.dispatch_transfer(db_session, transfer_id=ghost.id)


def test_a_sku_may_appear_once_per_transfer(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 10)
    with pytest.raises(DuplicateSku):
        _plan(db_session, dc, store, (sku, 1), (sku, 2))


def test_only_the_receiving_location_can_see_or_receive_a_transfer(db_session) -> None:
    _, dc, store = _network(db_session)
    other_store = create_location(db_session, parent=dc)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 10)
    transfer = _plan(db_session, dc, store, (sku, 3))
    transfers.dispatch_transfer(db_session, transfer_id=transfer.id)

    with pytest.raises(TransferNotFound):
        transfer_queries.get_transfer(db_session, transfer_id=transfer.id, receiving_location_id=other_store.id)
    with pytest.raises(TransferNotFound):
        transfers.receive_transfer(
            db_session, transfer_id=transfer.id, lines=_receipt((sku, 3)), receiving_location_id=other_store.id
        )
    received = transfers.receive_transfer(
        db_session, transfer_id=transfer.id, lines=_receipt((sku, 3)), receiving_location_id=store.id
    )
    assert received.status is TransferStatus.received


def test_every_transition_is_announced_through_the_outbox(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 10)
    first = _plan(db_session, dc, store, (sku, 3))
    transfers.dispatch_transfer(db_session, transfer_id=first.id)
    transfers.receive_transfer(db_session, transfer_id=first.id, lines=_receipt((sku, 2)))
    second = _plan(db_session, dc, store, (sku, 1))
    transfers.cancel_transfer(db_session, transfer_id=second.id)

    def topics(transfer_id):
        return db_session.scalars(
            select(OutboxEvent.topic)
            .where(OutboxEvent.payload["transfer_id"].astext == str(transfer_id))
            .order_by(OutboxEvent.id)
        ).all()

    assert topics(first.id) == ["transfer.planned", "transfer.dispatched", "transfer.received"]
    assert topics(second.id) == ["transfer.planned", "transfer.cancelled"]
    received = db_session.scalar(
        select(OutboxEvent.payload).where(
            OutboxEvent.topic == "transfer.received", OutboxEvent.payload["transfer_id"].astext == str(first.id)
        )
    )
    assert received["lost_qty"] == 1
    assert received["to_location_id"] == str(store.id)


def test_in_transit_is_the_sum_of_incoming_lines_on_the_road(db_session) -> None:
    _, dc, store = _network(db_session)
    other_store = create_location(db_session, parent=dc)
    milk, eggs = create_sku(db_session), create_sku(db_session)
    stock(db_session, dc, milk, 100)
    stock(db_session, dc, eggs, 100)
    on_road = [_plan(db_session, dc, store, (milk, 5), (eggs, 2)), _plan(db_session, dc, store, (milk, 4))]
    for transfer in on_road:
        transfers.dispatch_transfer(db_session, transfer_id=transfer.id)
    _plan(db_session, dc, store, (milk, 30))  # planned: promised, not yet on the road
    to_other = _plan(db_session, dc, other_store, (eggs, 7))
    transfers.dispatch_transfer(db_session, transfer_id=to_other.id)

    assert transfer_queries.in_transit_quantities(db_session, location_id=store.id) == {milk.id: 9, eggs.id: 2}
    assert transfer_queries.in_transit_quantities(db_session, location_id=store.id, sku_ids=[eggs.id]) == {eggs.id: 2}
    totals = transfer_queries.in_transit_totals(db_session, location_ids=[store.id, other_store.id])
    assert totals == {(store.id, milk.id): 9, (store.id, eggs.id): 2, (other_store.id, eggs.id): 7}


def test_the_ledger_replays_to_the_levels_after_every_kind_of_transfer(db_session) -> None:
    central, dc, store = _network(db_session)
    skus = [create_sku(db_session) for _ in range(3)]
    for sku in skus:
        stock(db_session, central, sku, 40)
        stock(db_session, dc, sku, 40)
    full = _plan(db_session, central, dc, *((sku, 10) for sku in skus))
    short = _plan(db_session, dc, store, *((sku, 6) for sku in skus))
    _plan(db_session, dc, store, (skus[0], 3))
    cancelled = _plan(db_session, central, store, (skus[1], 2))
    for transfer in (full, short):
        transfers.dispatch_transfer(db_session, transfer_id=transfer.id)
    transfers.receive_transfer(db_session, transfer_id=full.id, lines=_receipt(*((sku, 10) for sku in skus)))
    transfers.receive_transfer(db_session, transfer_id=short.id, lines=_receipt(*((sku, 5) for sku in skus)))
    transfers.cancel_transfer(db_session, transfer_id=cancelled.id)

    sums = db_session.execute(
        select(
            StockMovement.location_id,
            StockMovement.sku_id,
            func.sum(StockMovement.on_hand_delta),
            func.sum(StockMovement.reserved_delta),
        ).group_by(StockMovement.location_id, StockMovement.sku_id)
    ).all()
    assert len(sums) == 9  # 3 SKUs at central, DC and store
    for location_id, sku_id, on_hand, reserved in sums:
        level = db_session.get(StockLevel, (location_id, sku_id), populate_existing=True)
        assert (level.on_hand, level.reserved) == (on_hand, reserved)
    assert _level(db_session, store, skus[0]) == (5, 0)
    assert _level(db_session, dc, skus[0]) == (40 + 10 - 6, 3)
    assert transfer_queries.in_transit_totals(db_session) == {}


def test_expected_arrival_grows_with_distance(db_session) -> None:
    near = create_location(db_session, kind=LocationKind.distribution_centre, lat=52.5, lon=13.4)
    close = create_location(db_session, lat=52.5, lon=13.41, parent=near)
    far = create_location(db_session, lat=52.9, lon=13.4, parent=near)
    assert transfers.travel_seconds(near, near) == 15 * 60
    assert transfers.travel_seconds(near, close) < transfers.travel_seconds(near, far)
    assert timedelta(seconds=transfers.travel_seconds(near, far)) < timedelta(hours=2)


def test_expired_checkout_holds_at_the_source_do_not_block_a_transfer(db_session) -> None:
    """A DC also serves customers; their lapsed holds are free stock before any sweep, for
    transfers and the replenishment planner as much as for the next checkout."""
    clock = FrozenClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    with use_clock(clock):
        _, dc, store = _network(db_session)
        sku = create_sku(db_session)
        stock(db_session, dc, sku, 10)
        stock(db_session, store, sku, 0, reorder_point=2, target_level=8)
        reservations.reserve(db_session, location_id=dc.id, lines=[(sku.id, 6)], holder_id=uuid.uuid4(), ttl_s=60)
        clock.advance(61)
        transfer = _plan(db_session, dc, store, (sku, 7))
        assert _level(db_session, dc, sku) == (10, 7)  # the lapsed hold was released, the transfer holds 7
        transfers.cancel_transfer(db_session, transfer_id=transfer.id)

        reservations.reserve(db_session, location_id=dc.id, lines=[(sku.id, 9)], holder_id=uuid.uuid4(), ttl_s=60)
        clock.advance(61)
        result = replenishment.replenish_location(db_session, location_id=store.id)
        assert result.planned == {sku.id: 8}
        assert _level(db_session, dc, sku) == (10, 8)
        assert_stock_invariants(db_session, reservations_cover_reserved=False)
