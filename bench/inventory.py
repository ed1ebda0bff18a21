"""`o2o bench inventory`: reservations per second and latency through `warehouse.reservations`,
beside the ceiling of the same guarded UPDATE + ledger INSERT in raw SQL.

Cases, each from a full shelf (so every attempt should succeed) and for `--duration` seconds:

- hot_sku:    every client reserves 1 unit of one SKU at one store — one row, fully contended;
- spread:     1 unit of a random SKU (of 1,000) at a random store (of 20) — 20,000 rows;
- multi_line: 3 distinct random SKUs at a random store, 1 unit each, lines in random order.

Clients are threads spread over `--processes` spawned Python processes (`bench.inventory_load`:
one process held the client side to one core under its GIL), each with its own connection (a
pool per process for the service path, one psycopg connection each for the ceiling). The ceiling does, per line,
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
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from bench.database import bench_database, libpq_url
from bench.inventory_db import BENCH_DB, check, populate, reset
from bench.inventory_load import CASES, Clients

GOALS = {"spread": {"rps": 1000.0, "p99_ms": 20.0}, "hot_sku": {"rps": 300.0}}
# Client processes: enough that the clients' Python is never the bottleneck on a small box.
PROCESSES = 4


def run(
    *,
    clients: int = 64,
    duration: float = 10.0,
    warmup: float = 1.0,
    locations: int = 20,
    skus: int = 1000,
    database: str = BENCH_DB,
    keep_database: bool = False,
    processes: int = PROCESSES,
    on_case: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Every case through the service and as raw SQL, on a benchmark database of its own."""
    if skus < 3 or locations < 1 or clients < 1:
        raise ValueError("need at least 1 location, 3 SKUs and 1 client")
    result: dict[str, Any] = {}
    with bench_database(database, keep=keep_database) as url:
        world = populate(url, locations=locations, skus=skus)
        with Clients(url, world, clients=clients, processes=processes) as pool:
            for seed, name in enumerate(CASES):
                reset(url)
                service = pool.drive("service", name, duration=duration, warmup=warmup, seed=seed)
                service["check"] = check(url, units=service.pop("units"), holds=True)
                reset(url)
                raw = pool.drive("raw", name, duration=duration, warmup=warmup, seed=seed)
                raw["check"] = check(url, units=raw.pop("units"), holds=False)
                service["ceiling"] = raw
                service["ratio"] = round(service["rps"] / raw["rps"], 3) if raw["rps"] else None
                result[name] = service
                if on_case:
                    on_case(name, service)
            processes = len(pool.sizes)
        server = _server_version(url)
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
        "processes": processes,
        "clients_are": f"threads of {processes} spawned Python processes, one connection each; server on this machine",
    }
    return result


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
    processes: Annotated[int, typer.Option(min=1, max=64, help="client processes sharing the threads")] = PROCESSES,
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
        processes=processes,
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
