"""Many real connections at once: no oversell, no lost update, no deadlock.

Each worker thread runs its own unit of work (`session_scope`) on its own connection, committed
for real (`committed_db` empties the tables afterwards). Threads start together on a barrier so
that they really race.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.clock import FrozenClock, use_clock
from core.db import make_engine, session_scope
from core.settings import get_settings
from tests.factories import create_location, create_sku, stock
from tests.warehouse.stock_checks import assert_stock_invariants, level_of
from warehouse import reservations
from warehouse import stock as stock_ops
from warehouse.errors import InsufficientStock

pytestmark = pytest.mark.slow

THREADS = 100


@pytest.fixture
def pool(committed_db: Engine) -> Iterator[Engine]:
    """An engine with a connection for every thread (the default pool would queue them)."""
    engine = make_engine(get_settings().effective_database_url(), pool_size=THREADS, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()


def _race(engine: Engine, jobs: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each job in its own committed unit of work, all at once; return result or exception."""
    # The first wave (one job per thread) starts together; later jobs follow as threads free up.
    barrier = threading.Barrier(min(len(jobs), THREADS))

    def run(indexed: tuple[int, Callable[[Any], Any]]) -> Any:
        index, job = indexed
        if index < THREADS:
            barrier.wait(timeout=60)
        try:
            with session_scope(engine) as session:
                return job(session)
        except Exception as exc:  # collected and classified by the test
            return exc

    with ThreadPoolExecutor(max_workers=THREADS) as executor:
        return list(executor.map(run, enumerate(jobs)))


def _arrange(engine: Engine, build: Callable[[Any], Any]) -> Any:
    with session_scope(engine) as session:
        return build(session)


def _classify(results: list[Any]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for result in results:
        if isinstance(result, InsufficientStock):
            assert (result.status_code, result.code) == (409, "insufficient_stock")
            kinds["insufficient"] += 1
        elif isinstance(result, BaseException):
            kinds[f"error:{type(result).__name__}:{result}"] += 1
        else:
            kinds["ok"] += 1
    return kinds


def test_200_buyers_of_the_last_50_units_get_exactly_50(pool: Engine) -> None:
    store, sku = _arrange(pool, lambda s: _store_with(s, [50]))

    def buy(session):
        return reservations.reserve(session, location_id=store, lines=[(sku[0], 1)], holder_id=uuid.uuid4(), ttl_s=600)

    outcome = _classify(_race(pool, [buy] * 200))
    assert outcome == Counter({"ok": 50, "insufficient": 150})
    with session_scope(pool) as session:
        assert level_of(session, store, sku[0]) == (50, 50)
        assert_stock_invariants(session)


def test_random_quantities_never_accept_more_than_there_is(pool: Engine) -> None:
    store, sku = _arrange(pool, lambda s: _store_with(s, [100]))
    rng = random.Random(7)
    wanted = [rng.randint(1, 3) for _ in range(200)]

    def buyer(qty: int) -> Callable[[Any], Any]:
        def buy(session):
            return reservations.reserve(
                session, location_id=store, lines=[(sku[0], qty)], holder_id=uuid.uuid4(), ttl_s=600
            )

        return buy

    results = _race(pool, [buyer(q) for q in wanted])
    outcome = _classify(results)
    assert set(outcome) <= {"ok", "insufficient"}, outcome
    accepted = sum(q for q, r in zip(wanted, results, strict=True) if not isinstance(r, BaseException))
    assert 97 < accepted <= 100  # every refusal happened with fewer than 3 units left
    with session_scope(pool) as session:
        assert level_of(session, store, sku[0]) == (100, accepted)
        assert_stock_invariants(session)


def test_multi_line_orders_in_random_line_order_never_deadlock(pool: Engine) -> None:
    store, skus = _arrange(pool, lambda s: _store_with(s, [1000] * 5))
    rng = random.Random(11)

    def order(lines: list[tuple[uuid.UUID, int]]) -> Callable[[Any], Any]:
        return lambda session: reservations.reserve(
            session, location_id=store, lines=lines, holder_id=uuid.uuid4(), ttl_s=600
        )

    orders = [[(sku, rng.randint(1, 2)) for sku in rng.sample(skus, 3)] for _ in range(200)]
    outcome = _classify(_race(pool, [order(lines) for lines in orders]))
    assert outcome == Counter({"ok": 200})
    with session_scope(pool) as session:
        for sku in skus:
            held = sum(q for lines in orders for s, q in lines if s == sku)
            assert level_of(session, store, sku) == (1000, held)
        assert_stock_invariants(session)


def test_100_concurrent_adjustments_lose_no_update(pool: Engine) -> None:
    store, sku = _arrange(pool, lambda s: _store_with(s, [10]))

    def plus_one(session):
        return stock_ops.adjust(session, location_id=store, sku_id=sku[0], delta=1, reason="found on the shelf")

    assert _classify(_race(pool, [plus_one] * 100)) == Counter({"ok": 100})
    with session_scope(pool) as session:
        assert level_of(session, store, sku[0]) == (110, 0)
        assert_stock_invariants(session)


def test_reserve_release_pick_and_sweep_together_never_deadlock(pool: Engine) -> None:
    """Every writer at once on a few hot rows, with holds expiring under them."""
    clock = FrozenClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    with use_clock(clock):
        store, skus = _arrange(pool, lambda s: _store_with(s, [500] * 4))
        expiring = _arrange(
            pool,
            lambda s: [
                reservations.reserve(s, location_id=store, lines=[(sku, 5)], holder_id=uuid.uuid4(), ttl_s=10)[0].id
                for sku in skus
                for _ in range(5)
            ],
        )
        live = _arrange(
            pool,
            lambda s: [
                r.id
                for _ in range(40)
                for r in reservations.reserve(
                    s, location_id=store, lines=[(sku, 1) for sku in skus], holder_id=uuid.uuid4(), ttl_s=3600
                )
            ],
        )
        clock.advance(60)  # the first 20 holds are now expired but not yet swept
        rng = random.Random(3)
        jobs: list[Callable[[Any], Any]] = []
        for index, reservation_id in enumerate(live):
            jobs.append(_commit(reservation_id) if index % 2 else _release(reservation_id))
        for _ in range(120):
            jobs.append(_reserve(store, [(sku, rng.randint(1, 3)) for sku in rng.sample(skus, 2)]))
        jobs += [lambda s: reservations.expire_due(s, limit=50)] * 10
        jobs += [_write_off(store, sku) for sku in skus]
        rng.shuffle(jobs)
        outcome = _classify(_race(pool, jobs))
        assert set(outcome) <= {"ok", "insufficient"}, outcome
        with session_scope(pool) as session:
            reservations.expire_due(session)
        with session_scope(pool) as session:
            assert_stock_invariants(session)
            expired = session.execute(
                text("SELECT count(*) FROM stock_reservations WHERE id = ANY(:ids) AND status = 'expired'"),
                {"ids": expiring},
            ).scalar_one()
            assert expired == len(expiring)


def test_the_sweeper_skips_a_level_someone_holds_instead_of_waiting(pool: Engine) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    with use_clock(clock):
        store, sku = _arrange(pool, lambda s: _store_with(s, [10]))
        _arrange(
            pool,
            lambda s: reservations.reserve(s, location_id=store, lines=[(sku[0], 4)], holder_id=uuid.uuid4(), ttl_s=5),
        )
        clock.advance(10)
        with pool.connect() as blocker:
            blocker.execute(
                text("SELECT 1 FROM stock_levels WHERE location_id = :l AND sku_id = :s FOR UPDATE"),
                {"l": store, "s": sku[0]},
            )
            with session_scope(pool) as session:
                session.execute(text("SET LOCAL lock_timeout = '2s'"))
                assert reservations.expire_due(session) == 0
            blocker.rollback()
        with session_scope(pool) as session:
            assert reservations.expire_due(session) == 1
            assert level_of(session, store, sku[0]) == (10, 0)


def _commit(reservation_id: uuid.UUID) -> Callable[[Any], Any]:
    return lambda session: reservations.commit(session, reservation_id=reservation_id)


def _release(reservation_id: uuid.UUID) -> Callable[[Any], Any]:
    return lambda session: reservations.release(session, reservation_ids=[reservation_id], reason="cancel")


def _reserve(store: uuid.UUID, lines: list[tuple[uuid.UUID, int]]) -> Callable[[Any], Any]:
    return lambda session: reservations.reserve(
        session, location_id=store, lines=lines, holder_id=uuid.uuid4(), ttl_s=600
    )


def _write_off(store: uuid.UUID, sku: uuid.UUID) -> Callable[[Any], Any]:
    return lambda session: stock_ops.write_off(session, location_id=store, sku_id=sku, qty=1, reason="damaged")


def _store_with(session, quantities: list[int]) -> tuple[uuid.UUID, list[uuid.UUID]]:
    store = create_location(session)
    skus = []
    for qty in quantities:
        sku = create_sku(session)
        stock(session, store, sku, qty)
        skus.append(sku.id)
    return store.id, skus


def test_a_refused_hold_lets_go_of_the_rows_it_locked(pool: Engine) -> None:
    """A checkout that finds one location short moves on in the same transaction; meanwhile
    nobody may be kept waiting on the rows it looked at (nor deadlock with it)."""
    store, skus = _arrange(pool, lambda s: _store_with(s, [10, 1]))
    with session_scope(pool) as checkout:
        with pytest.raises(InsufficientStock):  # the first line fits and was held, the second not
            reservations.reserve(
                checkout, location_id=store, lines=[(skus[0], 5), (skus[1], 2)], holder_id=uuid.uuid4(), ttl_s=60
            )
        with session_scope(pool) as other:  # the checkout's transaction is still open
            other.execute(text("SET LOCAL lock_timeout = '1s'"))
            held = reservations.reserve(
                other, location_id=store, lines=[(skus[0], 10), (skus[1], 1)], holder_id=uuid.uuid4(), ttl_s=60
            )
        assert [r.qty for r in held] == [10, 1] if skus[0] < skus[1] else [1, 10]
    with session_scope(pool) as session:
        assert (level_of(session, store, skus[0]), level_of(session, store, skus[1])) == ((10, 10), (1, 1))
        assert_stock_invariants(session)
