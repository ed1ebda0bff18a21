"""`o2o bench inventory`: reservations per second and latency through `warehouse.reservations`,
beside the ceiling of the same guarded UPDATE + ledger INSERT in raw SQL.

Cases, each from a full shelf (so every attempt should succeed) and for `--duration` seconds:

- hot_sku:    every client reserves 1 unit of one SKU at one store — one row, fully contended;
- spread:     1 unit of a random SKU (of 1,000) at a random store (of 20) — 20,000 rows;
- multi_line: 3 distinct random SKUs at a random store, 1 unit each, lines in random order.

Clients are threads of this process, each with its own connection (a pool of `--clients` for
the service path, one psycopg connection each for the ceiling). The ceiling does, per line,
only `UPDATE stock_levels … WHERE on_hand - reserved >= q` and the INSERT of its ledger line,
then commits; the service also writes a reservation row per SKU, checks for lapsed holds and
works in a savepoint through SQLAlchemy. Both run the same rows, clients and duration; the ratio
is what the service costs over the bare statements. The first `warmup` of each run is not
counted (connections, prepared statements). Every run ends with a consistency check: the units
the clients were told they hold equal Σ reserved, nothing is oversold, the ledger replays.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from bench.inventory_db import BENCH_DB, World, bench_database, check, libpq_url, populate, reset
from core.db import make_engine, session_scope
from warehouse import reservations
from warehouse.errors import InsufficientStock

Lines = list[tuple[uuid.UUID, int]]
Chooser = Callable[[random.Random], tuple[uuid.UUID, Lines]]
Op = Callable[[random.Random], int]  # one reservation; returns the units now held
TTL_S = 900
GOALS = {"spread": {"rps": 1000.0, "p99_ms": 20.0}, "hot_sku": {"rps": 300.0}}

_RAW_UPDATE = (
    "UPDATE stock_levels SET reserved = reserved + %(q)s, updated_at = now()"
    " WHERE location_id = %(loc)s AND sku_id = %(sku)s AND on_hand - reserved >= %(q)s"
    " RETURNING on_hand, reserved"
)
_RAW_INSERT = (
    "INSERT INTO stock_movements (location_id, sku_id, kind, on_hand_delta, reserved_delta, reason, ref_id,"
    " created_at) VALUES (%(loc)s, %(sku)s, 'reserve', 0, %(q)s, 'bench', %(ref)s, now())"
)


def _cases(world: World) -> dict[str, Chooser]:
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
class _Tally:
    latencies: list[float] = field(default_factory=list)
    counted: int = 0
    units: int = 0
    refused: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def drive(
    clients: int, duration: float, warmup: float, make_client: Callable[[], tuple[Op, Callable[[], None]]], seed: int
) -> dict[str, Any]:
    """Run `clients` threads flat out; count what starts after the warm-up and before the end."""
    window: list[float] = []
    barrier = threading.Barrier(clients, action=lambda: window.extend(_window(warmup, duration)))
    tallies = [_Tally() for _ in range(clients)]

    def client(index: int) -> None:
        tally = tallies[index]
        rng = random.Random(seed * 7919 + index)
        op, close = make_client()
        try:
            barrier.wait(timeout=120)
            begin, end = window
            while (started := time.perf_counter()) < end:
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
                    tally.latencies.append(time.perf_counter() - started)
        finally:
            close()

    threads = [threading.Thread(target=client, args=(i,), name=f"bench-client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
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


def _window(warmup: float, duration: float) -> tuple[float, float]:
    begin = time.perf_counter() + warmup
    return begin, begin + duration


def _ms(sorted_seconds: list[float], q: float) -> float | None:
    if not sorted_seconds:
        return None
    return round(1000 * sorted_seconds[min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))], 2)


def run(
    *,
    clients: int = 64,
    duration: float = 10.0,
    warmup: float = 1.0,
    locations: int = 20,
    skus: int = 1000,
    database: str = BENCH_DB,
    keep_database: bool = False,
    on_case: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Every case through the service and as raw SQL, on a benchmark database of its own."""
    if skus < 3 or locations < 1 or clients < 1:
        raise ValueError("need at least 1 location, 3 SKUs and 1 client")
    result: dict[str, Any] = {}
    with bench_database(database, keep=keep_database) as url:
        world = populate(url, locations=locations, skus=skus)
        engine = make_engine(url, pool_size=clients, max_overflow=0)
        try:
            _fill_pool(engine, clients)
            for seed, (name, choose) in enumerate(_cases(world).items()):
                reset(url)
                service = drive(clients, duration, warmup, partial(_service_client, engine, choose), seed)
                service["check"] = check(url, units=service.pop("units"), holds=True)
                reset(url)
                raw = drive(clients, duration, warmup, partial(_raw_client, url, choose), seed)
                raw["check"] = check(url, units=raw.pop("units"), holds=False)
                service["ceiling"] = raw
                service["ratio"] = round(service["rps"] / raw["rps"], 3) if raw["rps"] else None
                result[name] = service
                if on_case:
                    on_case(name, service)
            server = _server_version(url)
        finally:
            engine.dispose()
    ceiling = result["spread"]["ceiling"]
    result["ceiling"] = {key: ceiling[key] for key in ("rps", "p50_ms", "p99_ms")}
    result["goals"] = _goals(result)
    result["conditions"] = {
        "clients": clients,
        "duration_s": duration,
        "warmup_s": warmup,
        "locations": locations,
        "skus": skus,
        "levels": locations * skus,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "server": server,
        "clients_are": "threads of one Python process, one connection each; server on the same machine",
    }
    return result


def _fill_pool(engine: Engine, clients: int) -> None:
    # Open every pooled connection before the clock starts: 64 connects are not reservations.
    connections = [engine.connect() for _ in range(clients)]
    for connection in connections:
        connection.close()


def _server_version(url: str) -> str:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def _goals(result: dict[str, Any]) -> dict[str, bool]:
    spread, hot = result["spread"], result["hot_sku"]
    return {
        "spread_rps": spread["rps"] >= GOALS["spread"]["rps"],
        "spread_p99": spread["p99_ms"] is not None and spread["p99_ms"] <= GOALS["spread"]["p99_ms"],
        "hot_sku_rps": hot["rps"] >= GOALS["hot_sku"]["rps"],
        "no_errors": all(result[c]["errors"] == 0 for c in ("hot_sku", "spread", "multi_line")),
    }


def _table(result: dict[str, Any]) -> Table:
    c = result["conditions"]
    table = Table(
        title=f"Reservations, {c['clients']} clients, {c['duration_s']:g} s per run "
        f"({c['locations']} stores × {c['skus']} SKUs, PostgreSQL {c['server']}, {c['cpus']} CPUs)"
    )
    for column in ("case", "res/s", "p50 ms", "p99 ms", "errors", "raw res/s", "raw p50", "raw p99", "× ceiling"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for name in ("hot_sku", "spread", "multi_line"):
        r, raw = result[name], result[name]["ceiling"]
        consistent = all(r["check"][k] in (0, None, True) for k in r["check"] if k != "reserved_units")
        table.add_row(
            name + ("" if consistent else " ✗"),
            f"{r['rps']:,.0f}",
            _fmt(r["p50_ms"]),
            _fmt(r["p99_ms"]),
            str(r["errors"]),
            f"{raw['rps']:,.0f}",
            _fmt(raw["p50_ms"]),
            _fmt(raw["p99_ms"]),
            "—" if r["ratio"] is None else f"{r['ratio']:.2f}",
        )
    return table


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def command(
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    clients: Annotated[int, typer.Option(min=1, max=200, help="concurrent clients (threads)")] = 64,
    duration: Annotated[float, typer.Option(min=0.2, max=120, help="measured seconds per run")] = 10.0,
    warmup: Annotated[float, typer.Option(min=0, max=30, help="unmeasured seconds before each run")] = 1.0,
    locations: Annotated[int, typer.Option(min=1, max=1000, help="stores in the spread cases")] = 20,
    skus: Annotated[int, typer.Option(min=3, max=100_000, help="SKUs per store")] = 1000,
    database: Annotated[str, typer.Option(help="benchmark database, created and dropped")] = BENCH_DB,
    keep_database: Annotated[bool, typer.Option(help="keep the benchmark database afterwards")] = False,
) -> None:
    """Reservations/s and p50/p99 latency (hot SKU, spread, three lines) beside raw SQL."""
    console = Console(width=None if sys.stdout.isatty() else 160)
    result = run(
        clients=clients,
        duration=duration,
        warmup=warmup,
        locations=locations,
        skus=skus,
        database=database,
        keep_database=keep_database,
        on_case=lambda name, r: console.print(
            f"{name}: {r['rps']:,.0f} res/s (raw {r['ceiling']['rps']:,.0f}), p99 {_fmt(r['p99_ms'])} ms,"
            f" errors {r['errors']}"
        ),
    )
    console.print(_table(result))
    goals = result["goals"]
    console.print(
        "goals: spread ≥ 1,000 res/s "
        + ("✓" if goals["spread_rps"] else "✗")
        + ", spread p99 ≤ 20 ms "
        + ("✓" if goals["spread_p99"] else "✗")
        + ", hot SKU ≥ 300 res/s "
        + ("✓" if goals["hot_sku_rps"] else "✗")
        + ", no errors "
        + ("✓" if goals["no_errors"] else "✗")
    )
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))
        console.print(f"wrote {json_out}")
