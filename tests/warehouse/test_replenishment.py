"""Replenishment: a shelf at or below its reorder point is refilled to its target from the
tier above, one truck per leg, never overselling the parent, with alerts for what cannot be done."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import Engine, select

from core.db import session_scope
from stores.models import LocationKind
from tests.factories import create_location, create_sku, stock
from warehouse import replenishment, transfers
from warehouse import transfer_repository as repo
from warehouse.ledger import Level, move
from warehouse.models import AlertKind, MovementKind, StockAlert, StockLevel, Transfer, TransferLine, TransferStatus
from warehouse.transfer_schemas import ReceiptLineIn, TransferLineIn


def _network(session):
    central = create_location(session, kind=LocationKind.central_warehouse, lat=52.40, lon=13.20, with_zone=False)
    dc = create_location(session, kind=LocationKind.distribution_centre, lat=52.45, lon=13.30, parent=central)
    store = create_location(session, kind=LocationKind.store, lat=52.52, lon=13.405, parent=dc)
    return central, dc, store


def _transfers_to(session, location) -> list[Transfer]:
    return list(
        session.scalars(
            select(Transfer)
            .where(Transfer.to_location_id == location.id)
            .order_by(Transfer.planned_at, Transfer.id)
            .execution_options(populate_existing=True)
        ).all()
    )


def _lines(session, transfer) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(TransferLine.sku_id, TransferLine.qty).where(TransferLine.transfer_id == transfer.id)
    ).all()
    return dict(rows)


def _open_alerts(session, location) -> dict[tuple[uuid.UUID, AlertKind], int]:
    rows = session.execute(
        select(StockAlert.sku_id, StockAlert.kind, StockAlert.shortfall).where(
            StockAlert.location_id == location.id, StockAlert.resolved_at.is_(None)
        )
    ).all()
    return {(sku_id, kind): shortfall for sku_id, kind, shortfall in rows}


def _sell(session, location, sku, qty) -> Level:
    move(session, location_id=location.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=qty)
    return move(
        session, location_id=location.id, sku_id=sku.id, kind=MovementKind.pick, on_hand_delta=-qty, reserved_delta=-qty
    )


def _reserved(session, location, sku) -> int:
    level = session.get(StockLevel, (location.id, sku.id), populate_existing=True)
    return int(level.reserved)


def test_a_low_shelf_is_refilled_up_to_its_target_from_the_parent(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 100)
    stock(db_session, store, sku, 8, reorder_point=5, target_level=20)
    move(db_session, location_id=store.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=3)

    result = replenishment.replenish_location(db_session, location_id=store.id)

    # available = 8 − 3 = 5 ≤ 5: refill to 20 → 15 units, reserved at the DC.
    [transfer] = _transfers_to(db_session, store)
    assert (transfer.from_location_id, transfer.status, transfer.reason) == (
        dc.id,
        TransferStatus.planned,
        "replenishment",
    )
    assert _lines(db_session, transfer) == {sku.id: 15}
    assert result.transfer_id == transfer.id
    assert result.planned == {sku.id: 15}
    assert _reserved(db_session, dc, sku) == 15


def test_a_shelf_above_its_reorder_point_is_left_alone(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 100)
    stock(db_session, store, sku, 6, reorder_point=5, target_level=20)

    result = replenishment.replenish_location(db_session, location_id=store.id, sku_ids=[sku.id])

    assert result.transfer_id is None
    assert _transfers_to(db_session, store) == []


def test_what_is_already_planned_or_on_the_road_counts_towards_the_target(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 100)
    stock(db_session, store, sku, 2, reorder_point=5, target_level=20)
    on_road = transfers.create_transfer(
        db_session, from_location_id=dc.id, to_location_id=store.id, lines=[TransferLineIn(sku_id=sku.id, qty=10)]
    )
    transfers.dispatch_transfer(db_session, transfer_id=on_road.id)
    transfers.create_transfer(
        db_session, from_location_id=dc.id, to_location_id=store.id, lines=[TransferLineIn(sku_id=sku.id, qty=3)]
    )

    result = replenishment.replenish_location(db_session, location_id=store.id)

    assert result.planned == {sku.id: 20 - 2 - 10 - 3}


def test_all_skus_a_location_needs_go_on_one_transfer(db_session) -> None:
    _, dc, store = _network(db_session)
    low = [create_sku(db_session) for _ in range(3)]
    fine = create_sku(db_session)
    for sku in [*low, fine]:
        stock(db_session, dc, sku, 100)
    for sku in low:
        stock(db_session, store, sku, 1, reorder_point=4, target_level=12)
    stock(db_session, store, fine, 10, reorder_point=4, target_level=12)

    replenishment.replenish_location(db_session, location_id=store.id)

    [transfer] = _transfers_to(db_session, store)
    assert _lines(db_session, transfer) == {sku.id: 11 for sku in low}


def test_running_again_plans_nothing_more_and_later_needs_top_up_the_same_truck(db_session) -> None:
    _, dc, store = _network(db_session)
    milk, eggs = create_sku(db_session), create_sku(db_session)
    stock(db_session, dc, milk, 100)
    stock(db_session, dc, eggs, 100)
    stock(db_session, store, milk, 2, reorder_point=5, target_level=20)
    stock(db_session, store, eggs, 10, reorder_point=5, target_level=20)
    first = replenishment.replenish_location(db_session, location_id=store.id)

    again = replenishment.replenish_location(db_session, location_id=store.id)
    assert again.transfer_id is None
    assert again.planned == {}

    _sell(db_session, store, eggs, 6)  # eggs now 4 ≤ 5
    _sell(db_session, store, milk, 2)  # milk now 0, 18 already planned → 2 more
    topped_up = replenishment.replenish_location(db_session, location_id=store.id)

    [transfer] = _transfers_to(db_session, store)
    assert topped_up.transfer_id == first.transfer_id == transfer.id
    assert _lines(db_session, transfer) == {milk.id: 20, eggs.id: 16}
    assert (_reserved(db_session, dc, milk), _reserved(db_session, dc, eggs)) == (20, 16)


def test_a_transfer_that_has_left_is_never_topped_up(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 100)
    stock(db_session, store, sku, 2, reorder_point=5, target_level=20)
    first = replenishment.replenish_location(db_session, location_id=store.id)
    assert first.transfer_id is not None
    transfers.dispatch_transfer(db_session, transfer_id=first.transfer_id)
    _sell(db_session, store, sku, 2)

    second = replenishment.replenish_location(db_session, location_id=store.id)

    assert second.transfer_id not in (None, first.transfer_id)
    assert second.planned == {sku.id: 2}


def test_a_manual_transfer_is_not_topped_up_by_replenishment(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 100)
    stock(db_session, store, sku, 2, reorder_point=5, target_level=20)
    manual = transfers.create_transfer(
        db_session, from_location_id=dc.id, to_location_id=store.id, lines=[TransferLineIn(sku_id=sku.id, qty=4)]
    )

    result = replenishment.replenish_location(db_session, location_id=store.id)

    assert result.transfer_id != manual.id
    assert _lines(db_session, manual) == {sku.id: 4}
    assert result.planned == {sku.id: 14}


def test_the_parent_gives_only_what_it_has_available_and_the_rest_is_an_alert(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 10)
    # The DC's own customers hold 4 of its 10: those are not the store's to take.
    move(db_session, location_id=dc.id, sku_id=sku.id, kind=MovementKind.reserve, reserved_delta=4)
    stock(db_session, store, sku, 0, reorder_point=5, target_level=20)

    result = replenishment.replenish_location(db_session, location_id=store.id)

    assert result.planned == {sku.id: 6}
    assert result.shortfalls == {sku.id: 14}
    assert _reserved(db_session, dc, sku) == 10  # everything it had, and not one more
    alerts = _open_alerts(db_session, store)
    assert alerts == {(sku.id, AlertKind.unfillable_transfer): 14, (sku.id, AlertKind.stock_out): 0}


def test_a_parent_without_the_sku_plans_nothing_and_raises_the_whole_need(db_session) -> None:
    _, _, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, store, sku, 3, reorder_point=5, target_level=20)

    result = replenishment.replenish_location(db_session, location_id=store.id)

    assert result.transfer_id is None
    assert _transfers_to(db_session, store) == []
    assert _open_alerts(db_session, store) == {(sku.id, AlertKind.unfillable_transfer): 17}


def test_alerts_resolve_when_their_cause_goes_away(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 0)
    stock(db_session, store, sku, 0, reorder_point=5, target_level=20)
    replenishment.replenish_location(db_session, location_id=store.id)
    assert set(_open_alerts(db_session, store)) == {
        (sku.id, AlertKind.unfillable_transfer),
        (sku.id, AlertKind.stock_out),
    }

    stock(db_session, dc, sku, 50)  # the DC gets a delivery: now the need can be filled
    result = replenishment.replenish_location(db_session, location_id=store.id)
    assert result.planned == {sku.id: 20}
    assert set(_open_alerts(db_session, store)) == {(sku.id, AlertKind.stock_out)}

    assert result.transfer_id is not None
    transfers.dispatch_transfer(db_session, transfer_id=result.transfer_id)
    transfers.receive_transfer(
        db_session, transfer_id=result.transfer_id, lines=[ReceiptLineIn(sku_id=sku.id, qty_received=20)]
    )
    assert _open_alerts(db_session, store) == {}  # stock is back above 0
    resolved = db_session.scalars(select(StockAlert).where(StockAlert.location_id == store.id)).all()
    assert len(resolved) == 2
    assert all(alert.resolved_at is not None for alert in resolved)


def test_an_alert_is_refreshed_rather_than_duplicated(db_session) -> None:
    _, _, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, store, sku, 3, reorder_point=5, target_level=20)
    replenishment.replenish_location(db_session, location_id=store.id)
    _sell(db_session, store, sku, 3)
    replenishment.replenish_location(db_session, location_id=store.id)

    alerts = db_session.scalars(
        select(StockAlert).where(StockAlert.location_id == store.id, StockAlert.kind == AlertKind.unfillable_transfer)
    ).all()
    assert [(a.shortfall, a.resolved_at) for a in alerts] == [(20, None)]


def test_skus_not_ranged_at_a_location_are_neither_replenished_nor_alerted(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, dc, sku, 100)
    stock(db_session, store, sku, 0)  # target 0: the store does not carry it

    result = replenishment.replenish_location(db_session, location_id=store.id, sku_ids=[sku.id])

    assert (result.transfer_id, result.stock_outs) == (None, [])
    assert _open_alerts(db_session, store) == {}


def test_the_top_of_the_network_cannot_be_replenished_and_says_so(db_session) -> None:
    central, _, _ = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, central, sku, 10, reorder_point=50, target_level=500)

    result = replenishment.replenish_location(db_session, location_id=central.id)

    assert result.shortfalls == {sku.id: 490}
    [alert] = db_session.scalars(select(StockAlert).where(StockAlert.location_id == central.id)).all()
    assert alert.kind is AlertKind.unfillable_transfer
    assert "supplier" in alert.detail


def test_an_inactive_location_is_not_replenished_and_its_alerts_are_closed(db_session) -> None:
    _, dc, store = _network(db_session)
    sku = create_sku(db_session)
    stock(db_session, store, sku, 0, reorder_point=5, target_level=20)
    replenishment.replenish_location(db_session, location_id=store.id)
    assert _open_alerts(db_session, store)
    stock(db_session, dc, sku, 100)
    store.active = False
    db_session.flush()

    result = replenishment.replenish_location(db_session, location_id=store.id)

    assert result.transfer_id is None
    assert _open_alerts(db_session, store) == {}


def test_the_threshold_check_requests_only_when_a_ranged_level_is_low(db_session) -> None:
    _, _, store = _network(db_session)
    ranged, unranged, unstocked = create_sku(db_session), create_sku(db_session), create_sku(db_session)
    stock(db_session, store, ranged, 10, reorder_point=5, target_level=20)
    stock(db_session, store, unranged, 0)

    def check(sku, available):
        return replenishment.maybe_request_replenishment(
            db_session, location_id=store.id, sku_id=sku.id, level=Level(on_hand=available, reserved=0)
        )

    assert check(ranged, 6) is False
    assert check(ranged, 5) is True
    assert check(ranged, 0) is True
    assert check(unranged, 0) is False
    assert check(unstocked, 0) is False


def test_the_sweep_looks_at_low_and_alerted_active_locations(db_session) -> None:
    _, dc, store = _network(db_session)
    healthy = create_location(db_session, parent=dc)
    closed = create_location(db_session, parent=dc, active=False)
    alerted = create_location(db_session, parent=dc)
    sku = create_sku(db_session)
    stock(db_session, store, sku, 5, reorder_point=5, target_level=20)
    stock(db_session, healthy, sku, 6, reorder_point=5, target_level=20)
    stock(db_session, closed, sku, 0, reorder_point=5, target_level=20)
    stock(db_session, alerted, sku, 0, reorder_point=5, target_level=20)
    replenishment.replenish_location(db_session, location_id=alerted.id)  # opens its alerts
    stock(db_session, alerted, sku, 30, reorder_point=5, target_level=20)  # cause gone, alert still open

    swept = set(repo.locations_to_sweep(db_session))

    assert {store.id, alerted.id} <= swept
    assert healthy.id not in swept
    assert closed.id not in swept
    assert replenishment.sweep(db_session) == len(swept)


def test_two_runs_at_once_for_one_location_plan_the_need_once(committed_db: Engine) -> None:
    with session_scope() as session:
        _, dc, store = _network(session)
        skus = [create_sku(session) for _ in range(5)]
        for sku in skus:
            stock(session, dc, sku, 1000)
            stock(session, store, sku, 1, reorder_point=5, target_level=20)
        store_id, dc_id, sku_ids = store.id, dc.id, [sku.id for sku in skus]

    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            with session_scope() as session:
                replenishment.replenish_location(session, location_id=store_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with session_scope() as session:
        planned = session.execute(
            select(TransferLine.sku_id, TransferLine.qty)
            .join(Transfer, Transfer.id == TransferLine.transfer_id)
            .where(Transfer.to_location_id == store_id)
        ).all()
        assert len(set(session.scalars(select(Transfer.id)))) == 1
        assert dict(planned) == dict.fromkeys(sku_ids, 19)
        reserved = session.scalars(
            select(StockLevel.reserved).where(StockLevel.location_id == dc_id).order_by(StockLevel.sku_id)
        ).all()
        assert reserved == [19] * 5


def test_stores_competing_for_a_scarce_parent_never_oversell_it(committed_db: Engine) -> None:
    with session_scope() as session:
        _, dc, _ = _network(session)
        stores = [create_location(session, parent=dc) for _ in range(4)]
        skus = [create_sku(session) for _ in range(3)]
        for sku in skus:
            stock(session, dc, sku, 25)
            for store in stores:
                stock(session, store, sku, 0, reorder_point=5, target_level=10)
        store_ids, dc_id = [store.id for store in stores], dc.id

    start = threading.Barrier(len(store_ids))
    errors: list[BaseException] = []

    def run(location_id) -> None:
        try:
            start.wait()
            with session_scope() as session:
                replenishment.replenish_location(session, location_id=location_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(location_id,)) for location_id in store_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with session_scope() as session:
        levels = session.execute(
            select(StockLevel.on_hand, StockLevel.reserved).where(StockLevel.location_id == dc_id)
        ).all()
        assert levels == [(25, 25)] * 3  # all of it promised, none of it twice
        shortfall = session.scalars(
            select(StockAlert.shortfall).where(StockAlert.kind == AlertKind.unfillable_transfer)
        ).all()
        # 4 stores × 10 wanted − 25 available, per SKU.
        assert sum(shortfall) == 3 * (40 - 25)
