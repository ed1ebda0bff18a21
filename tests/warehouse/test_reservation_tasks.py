"""The expiry sweeper as Celery runs it: beat names a registered task, and a real worker releases
holds whose TTL has passed (committed for real, its own unit of work per batch)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, func, select

from core import clock
from core.celery_app import TASK_MODULES
from core.celery_app import app as celery_app
from core.clock import FrozenClock, use_clock
from core.db import session_scope
from tests.factories import create_location, create_sku, stock
from tests.waiting import wait_for
from tests.warehouse.stock_checks import assert_stock_invariants, level_of
from warehouse import reservations
from warehouse.models import ReservationStatus, StockReservation
from warehouse.reservation_tasks import SWEEP_TASK, sweep_expired_reservations, sweep_expired_reservations_task


def _shelf_with_holds(expired: int, live: int) -> tuple[uuid.UUID, uuid.UUID]:
    """A store with 100 units, `expired` holds whose TTL ran out an hour ago and `live` ones.
    The live ones are taken first: a `reserve` on the row would reclaim expired holds itself."""
    with session_scope() as session:
        store = create_location(session)
        sku = create_sku(session)
        stock(session, store, sku, 100)
        store_id, sku_id = store.id, sku.id
    with session_scope() as session:
        for _ in range(live):
            reservations.reserve(session, location_id=store_id, lines=[(sku_id, 1)], holder_id=uuid.uuid4(), ttl_s=3600)
    # Reserved "two hours ago" with a one-hour TTL: expired now, on the real clock the worker reads.
    with use_clock(FrozenClock(clock.now() - timedelta(hours=2))), session_scope() as session:
        for _ in range(expired):
            reservations.reserve(session, location_id=store_id, lines=[(sku_id, 2)], holder_id=uuid.uuid4(), ttl_s=3600)
    return store_id, sku_id


def _count(status: ReservationStatus) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).where(StockReservation.status == status)) or 0)


def test_beat_runs_the_sweep_and_the_worker_knows_it() -> None:
    assert "warehouse.reservation_tasks" in TASK_MODULES
    entry = celery_app.conf.beat_schedule["reservation-expiry-sweep"]
    assert entry["task"] == SWEEP_TASK
    # A tick that waited longer than the next one is dropped, not piled up.
    assert 0 < entry["options"]["expires"] < entry["schedule"]
    celery_app.loader.import_default_modules()
    assert SWEEP_TASK in celery_app.tasks


def test_a_real_worker_releases_expired_holds_and_keeps_live_ones(celery_worker) -> None:
    store_id, sku_id = _shelf_with_holds(expired=3, live=2)
    with session_scope() as session:
        assert level_of(session, store_id, sku_id) == (100, 8)

    sweep_expired_reservations_task.delay()

    assert wait_for(lambda: _count(ReservationStatus.expired) == 3)
    with session_scope() as session:
        assert level_of(session, store_id, sku_id) == (100, 2)
        assert_stock_invariants(session)
    assert _count(ReservationStatus.active) == 2


def test_the_sweep_works_through_the_backlog_in_short_batches(committed_db: Engine) -> None:
    store_id, sku_id = _shelf_with_holds(expired=5, live=1)

    assert sweep_expired_reservations(batch=2) == 5  # three transactions: 2 + 2 + 1
    assert sweep_expired_reservations(batch=2) == 0
    with session_scope() as session:
        assert level_of(session, store_id, sku_id) == (100, 1)
        assert_stock_invariants(session)


def test_a_sweep_stops_after_its_batch_budget(committed_db: Engine) -> None:
    _shelf_with_holds(expired=5, live=0)

    assert sweep_expired_reservations(batch=2, max_batches=1) == 2  # the next tick carries on
    assert _count(ReservationStatus.active) == 3
