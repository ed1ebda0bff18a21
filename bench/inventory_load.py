"""The inventory benchmark's clients: several processes, each running a share of the threads.

With every client a thread of one Python process, the client side itself was GIL-bound: at 64
threads on 2 cores, a reservation's latency included waiting for the GIL, on the hot row every
lock hand-over waited for a thread to be scheduled to send its COMMIT, and the raw-SQL ceiling
and the service were both capped by one interpreter. Spreading the same clients over
`processes` interpreters (spawned once per benchmark, each with its own connections: a pool for
the service, one psycopg connection per raw client) lets them use every core, so the ratio to
the ceiling measures the service's code rather than the harness.

Per run, every worker first opens its clients' connections and reports "armed"; the parent
then hands all of them one wall-clock start instant, so every client starts together and the
warm-up and measured window are the same across processes.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.queues import Queue
from typing import Any

import psycopg
from sqlalchemy import Engine

from bench.database import libpq_url
from bench.inventory_db import World
from core.db import make_engine, session_scope
from warehouse import reservations
from warehouse.errors import InsufficientStock

Lines = list[tuple[uuid.UUID, int]]
Chooser = Callable[[random.Random], tuple[uuid.UUID, Lines]]
Op = Callable[[random.Random], int]  # one reservation; returns the units now held
TTL_S = 900
CASES = ("hot_sku", "spread", "multi_line")
_START_MARGIN_S = 0.2  # from the parent's "go" to the first reservation

_RAW_UPDATE = (
    "UPDATE stock_levels SET reserved = reserved + %(q)s, updated_at = now()"
    " WHERE location_id = %(loc)s AND sku_id = %(sku)s AND on_hand - reserved >= %(q)s"
    " RETURNING on_hand, reserved"
)
_RAW_INSERT = (
    "INSERT INTO stock_movements (location_id, sku_id, kind, on_hand_delta, reserved_delta, reason, ref_id,"
    " created_at) VALUES (%(loc)s, %(sku)s, 'reserve', 0, %(q)s, 'bench', %(ref)s, now())"
)


def cases(world: World) -> dict[str, Chooser]:
    hot_location, hot_sku = world.hot
    return {
        "hot_sku": lambda rng: (hot_location, [(hot_sku, 1)]),
        "spread": lambda rng: (rng.choice(world.locations), [(rng.choice(world.skus), 1)]),
        "multi_line": lambda rng: (rng.choice(world.locations), [(sku, 1) for sku in rng.sample(world.skus, 3)]),
    }


def _service_client(engine: Engine, choose: Chooser) -> tuple[Op, Callable[[], None]]:
    def op(rng: random.Random) -> int:
        location, lines = choose(rng)
        with session_scope(engine) as session:  # what a checkout request does: one unit of work
            held = reservations.reserve(session, location_id=location, lines=lines, holder_id=uuid.uuid4(), ttl_s=TTL_S)
        return sum(r.qty for r in held)

    return op, lambda: None


def _raw_client(url: str, choose: Chooser) -> tuple[Op, Callable[[], None]]:
    conn = psycopg.connect(libpq_url(url))

    def op(rng: random.Random) -> int:
        location, lines = choose(rng)
        ref = uuid.uuid4()
        try:
            with conn.cursor() as cur:
                for sku, qty in sorted(lines):  # the same lock order as the service
                    params = {"loc": location, "sku": sku, "q": qty, "ref": ref}
                    cur.execute(_RAW_UPDATE, params)
                    if cur.fetchone() is None:
                        raise InsufficientStock("raw: not enough stock")
                    cur.execute(_RAW_INSERT, params)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return sum(qty for _, qty in lines)

    return op, conn.close


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    counted: int = 0
    units: int = 0
    refused: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def _threads(
    count: int,
    make_client: Callable[[], tuple[Op, Callable[[], None]]],
    seed: int,
    armed: Callable[[], tuple[float, float, float]],
) -> list[Tally]:
    """Run `count` client threads flat out. `armed()` is called once every client is connected
    and returns the window as wall-clock instants: (start, end of warm-up, end)."""
    window: list[float] = []
    ready = threading.Barrier(count + 1)
    go = threading.Barrier(count + 1)
    tallies = [Tally() for _ in range(count)]

    def client(index: int) -> None:
        tally = tallies[index]
        rng = random.Random(seed + index)
        op, close = make_client()
        try:
            ready.wait(timeout=300)
            go.wait(timeout=300)
            start, begin, end = window
            time.sleep(max(0.0, start - time.time()))
            while (started := time.time()) < end:
                t0 = time.perf_counter()
                try:
                    units = op(rng)
                except InsufficientStock:
                    tally.refused += 1
                    continue
                except Exception as exc:  # counted and reported, never hidden
                    tally.errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                    continue
                tally.units += units
                if started >= begin:
                    tally.counted += 1
                    tally.latencies.append(time.perf_counter() - t0)
        finally:
            close()

    threads = [threading.Thread(target=client, args=(i,), name=f"bench-client-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=300)
    window.extend(armed())
    go.wait(timeout=300)
    for thread in threads:
        thread.join()
    return tallies


def _worker(index: int, url: str, world: World, count: int, jobs: Queue[Any], results: Queue[Any]) -> None:
    """One client process: a pool for its service clients, then runs until told to stop."""
    try:
        engine = make_engine(url, pool_size=count, max_overflow=0)
        fill_pool(engine, count)
    except Exception as exc:  # the parent waits for every worker: tell it rather than hang it
        results.put(("failed", index, repr(exc)))
        raise
    try:
        while (job := jobs.get()) is not None:
            kind, case, seed = job
            choose = cases(world)[case]
            make = partial(_service_client, engine, choose) if kind == "service" else partial(_raw_client, url, choose)

            def armed() -> tuple[float, float, float]:
                results.put(("armed", index))
                return tuple(jobs.get())  # (start, begin, end), wall clock

            tallies = _threads(count, make, seed * 7919 + index * 1009, armed)
            results.put(("done", index, tallies))
    finally:
        engine.dispose()


def fill_pool(engine: Engine, clients: int) -> None:
    # Open every pooled connection before the clock starts: 64 connects are not reservations.
    connections = [engine.connect() for _ in range(clients)]
    for connection in connections:
        connection.close()


class Clients:
    """`clients` client threads spread over `processes` spawned processes, reused for every run."""

    def __init__(self, url: str, world: World, *, clients: int, processes: int) -> None:
        processes = max(1, min(processes, clients))
        self.sizes = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
        context = multiprocessing.get_context("spawn")  # no inherited connections or locks
        self.results: Queue[Any] = context.Queue()
        self.jobs: list[Queue[Any]] = [context.Queue() for _ in self.sizes]
        self.workers = [
            context.Process(target=_worker, args=(i, url, world, n, self.jobs[i], self.results), daemon=True)
            for i, n in enumerate(self.sizes)
        ]
        for worker in self.workers:
            worker.start()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc: object) -> None:
        for queue in self.jobs:
            queue.put(None)
        for worker in self.workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.terminate()

    def drive(self, kind: str, case: str, *, duration: float, warmup: float, seed: int) -> dict[str, Any]:
        """One run of every client; what starts after the warm-up and before the end counts."""
        for queue in self.jobs:
            queue.put((kind, case, seed))
        self._collect("armed")
        start = time.time() + _START_MARGIN_S
        for queue in self.jobs:
            queue.put((start, start + warmup, start + warmup + duration))
        tallies = [t for got in self._collect("done") for t in got[2]]
        latencies = sorted(x for t in tallies for x in t.latencies)
        errors: Counter[str] = sum((t.errors for t in tallies), Counter())
        refused = sum(t.refused for t in tallies)
        return {
            "rps": round(sum(t.counted for t in tallies) / duration, 1),
            "p50_ms": _ms(latencies, 0.50),
            "p99_ms": _ms(latencies, 0.99),
            # Stock always suffices here, so a refusal is as much a failure as an exception.
            "errors": sum(errors.values()) + refused,
            "refused": refused,
            "error_kinds": dict(errors.most_common(5)),
            "units": sum(t.units for t in tallies),
        }

    def _collect(self, what: str) -> list[Any]:
        got: list[Any] = []
        while len(got) < len(self.workers):
            message = self.results.get(timeout=600)
            if message[0] == "failed":
                raise RuntimeError(f"bench worker {message[1]} failed: {message[2]}")
            if message[0] != what:
                raise RuntimeError(f"bench worker sent {message[0]!r}, expected {what!r}")
            got.append(message)
        return got


def _ms(sorted_seconds: list[float], q: float) -> float | None:
    if not sorted_seconds:
        return None
    return round(1000 * sorted_seconds[min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))], 2)
