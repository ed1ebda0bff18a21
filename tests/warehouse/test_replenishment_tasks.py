"""Replenishment through the real queue: a committed drop to the reorder point reaches a real
Celery worker after commit and becomes a planned transfer; a rolled-back one never leaves."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import Engine, func, select

from core.db import session_scope
from stores.models import LocationKind
from tests.factories import create_location, create_sku, stock
from tests.waiting import wait_for
from warehouse import replenishment
from warehouse.ledger import move
from warehouse.models import AlertKind, MovementKind, StockAlert, Transfer, TransferLine, TransferStatus
from warehouse.tasks import replenish_location, replenishment_sweep


def _planned_to(location_id: uuid.UUID) -> dict[uuid.UUID, int]:
    with session_scope() as session:
        rows = session.execute(
            select(TransferLine.sku_id, TransferLine.qty)
            .join(Transfer, Transfer.id == TransferLine.transfer_id)
            .where(Transfer.to_location_id == location_id, Transfer.status == TransferStatus.planned)
        ).all()
    return dict(rows)


def _setup_store(reorder_point: int = 5, target_level: int = 20, store_on_hand: int = 6):
    with session_scope() as session:
        central = create_location(session, kind=LocationKind.central_warehouse, with_zone=False)
        dc = create_location(session, kind=LocationKind.distribution_centre, parent=central)
        store = create_location(session, parent=dc)
        sku = create_sku(session)
        stock(session, central, sku, 1000)
        stock(session, dc, sku, 100, reorder_point=90, target_level=200)
        stock(session, store, sku, store_on_hand, reorder_point=reorder_point, target_level=target_level)
        return central.id, dc.id, store.id, sku.id


def _sell_one(session, location_id: uuid.UUID, sku_id: uuid.UUID) -> None:
    """What a checkout does: reserve, then ask for replenishment if that made the level low."""
    level = move(session, location_id=location_id, sku_id=sku_id, kind=MovementKind.reserve, reserved_delta=1)
    replenishment.maybe_request_replenishment(session, location_id=location_id, sku_id=sku_id, level=level)


def test_a_committed_drop_to_the_reorder_point_gets_a_planned_transfer(celery_worker) -> None:
    _, _, store_id, sku_id = _setup_store()

    with session_scope() as session:
        _sell_one(session, store_id, sku_id)  # available 6 → 5 = reorder point
        # Hold the transaction open: a task sent before commit would run now, read the
        # committed 6 (not low) and plan nothing.
        time.sleep(1.0)

    assert wait_for(lambda: _planned_to(store_id) == {sku_id: 15})


def test_a_rolled_back_drop_requests_nothing(celery_worker) -> None:
    # Already at its reorder point (set up without a request), so a request that leaked out of
    # the rolled-back transaction would certainly plan a transfer.
    _, _, rolled_back_store, sku_id = _setup_store(store_on_hand=5)
    _, _, committed_store, other_sku = _setup_store()

    with pytest.raises(RuntimeError), session_scope() as session:
        _sell_one(session, rolled_back_store, sku_id)
        raise RuntimeError("payment declined: the checkout is undone")
    # A committed request sent after it, as a marker: once the worker has planned this one, a
    # request from the rolled-back transaction would have been sent before it.
    with session_scope() as session:
        _sell_one(session, committed_store, other_sku)

    assert wait_for(lambda: _planned_to(committed_store) == {other_sku: 15})
    time.sleep(1.0)  # and give a (wrongly sent) earlier task time to finish on the second thread
    assert _planned_to(rolled_back_store) == {}


def test_the_sweep_catches_a_drop_whose_request_was_missed(celery_worker) -> None:
    _, _, store_id, sku_id = _setup_store()
    with session_scope() as session:
        # A writer that forgot to ask: the level is low, nothing was requested.
        move(session, location_id=store_id, sku_id=sku_id, kind=MovementKind.reserve, reserved_delta=4)

    replenishment_sweep.delay()

    assert wait_for(lambda: _planned_to(store_id) == {sku_id: 18})


def test_replenishment_cascades_up_the_network(celery_worker) -> None:
    central_id, dc_id, store_id, sku_id = _setup_store(store_on_hand=0, target_level=40)

    replenish_location.delay(str(store_id), [str(sku_id)])

    # The store takes 40 of the DC's 100; promising them leaves the DC at 60 ≤ its reorder point
    # of 90, which asks the central warehouse for 200 − 60 = 140.
    assert wait_for(lambda: _planned_to(store_id) == {sku_id: 40})
    assert wait_for(lambda: _planned_to(dc_id) == {sku_id: 140})
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Transfer)) == 2
        from_central = session.scalar(select(Transfer.from_location_id).where(Transfer.to_location_id == dc_id))
        assert from_central == central_id


def test_requests_of_one_transaction_are_merged_into_one_run(celery_worker) -> None:
    with session_scope() as session:
        dc = create_location(session, kind=LocationKind.distribution_centre)
        store = create_location(session, parent=dc)
        skus = [create_sku(session) for _ in range(4)]
        for sku in skus:
            stock(session, dc, sku, 100)
            stock(session, store, sku, 6, reorder_point=5, target_level=20)
        store_id, sku_ids = store.id, [sku.id for sku in skus]

    with session_scope() as session:
        for sku_id in sku_ids:
            _sell_one(session, store_id, sku_id)
        pending = session.info["warehouse_replenish_requests"]
        assert list(pending) == [store_id]
        assert pending[store_id].kwargs["sku_ids"] == sorted(str(sku_id) for sku_id in sku_ids)

    assert wait_for(lambda: _planned_to(store_id) == dict.fromkeys(sku_ids, 15))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Transfer)) == 1


def test_an_unfillable_need_raises_an_alert_through_the_worker(committed_db: Engine, celery_worker) -> None:
    with session_scope() as session:
        dc = create_location(session, kind=LocationKind.distribution_centre)
        store = create_location(session, parent=dc)
        sku = create_sku(session)
        stock(session, dc, sku, 0)
        stock(session, store, sku, 1, reorder_point=5, target_level=20)
        store_id, sku_id = store.id, sku.id

    with session_scope() as session:
        _sell_one(session, store_id, sku_id)

    def alerted() -> bool:
        with session_scope() as session:
            kinds = session.scalars(
                select(StockAlert.kind).where(StockAlert.location_id == store_id, StockAlert.resolved_at.is_(None))
            ).all()
        return set(kinds) == {AlertKind.stock_out, AlertKind.unfillable_transfer}

    assert wait_for(alerted)
