"""`o2o bench dispatch`: dispatch cycle wall time and plan quality, VRP policy beside greedy.

For each size (open orders × couriers, one zone, 15 stores, packed orders with soft deadlines)
and each solver time limit, one full cycle runs through `dispatch.cycle.run_zone` — DB read,
build, solve, explanations, DB write — against a fresh benchmark database; the greedy policy runs
on the same input. Quality is the plan's total courier travel time, total lateness and orders
left unassigned (from the cycle's DispatchRun record). Goal (issue 7): 1,000 orders / 300
couriers in ≤ 3 s end to end with ≥ 15 % less travel than greedy at equal or lower lateness.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.database import bench_database
from bench.dispatch_world import populate, reset
from core import clock
from core.db import make_engine, session_scope
from dispatch.cycle import run_zone
from dispatch.route_models import DispatchRun

BENCH_DB = "o2o_bench_dispatch"
DEFAULT_SIZES = "100x30,300x100,1000x300"


def _sizes(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        orders, couriers = part.lower().split("x")
        out.append((int(orders), int(couriers)))
    if not out or any(not (1 <= o <= 5000 and 1 <= c <= 1000) for o, c in out):
        raise typer.BadParameter("sizes like 100x30: 1–5,000 orders, 1–1,000 couriers")
    return out


def _quality(session: Any, run_id: Any) -> dict[str, int]:
    run = session.get(DispatchRun, run_id)
    return {"travel_s": run.travel_s, "lateness_s": run.lateness_s, "unassigned": run.unassigned}


def run(*, sizes: list[tuple[int, int]], time_limits: list[float], database: str, keep: bool) -> dict[str, Any]:
    cases: list[dict[str, Any]] = []
    with bench_database(database, keep=keep) as url:
        engine = make_engine(url, pool_size=2, max_overflow=2)

        def scope() -> Any:
            return session_scope(engine)

        for orders, couriers in sizes:
            with scope() as session:
                zone_id = populate(session, orders=orders, couriers=couriers, now=clock.now())
            greedy = run_zone(zone_id, scope=scope, policy="greedy")
            with scope() as session:
                greedy_quality = _quality(session, greedy.run_id)
                reset(session, zone_id)
            for limit in time_limits:
                vrp = run_zone(zone_id, scope=scope, policy="vrp", time_limit_s=limit)
                with scope() as session:
                    vrp_quality = _quality(session, vrp.run_id)
                    reset(session, zone_id)
                cases.append(
                    {
                        "orders": orders,
                        "couriers": couriers,
                        "time_limit_s": limit,
                        "cycle_s": round(vrp.cycle_s, 3),
                        "solve_s": round(vrp.solve_s, 3),
                        "vrp": vrp_quality,
                        "greedy": greedy_quality,
                        # Beside the keys: the rest of the cycle, and how busy the
                        # (shared) machine was, since every time here depends on it.
                        "read_s": round(vrp.read_s, 3),
                        "write_s": round(vrp.write_s, 3),
                        "load_avg_1m": round(os.getloadavg()[0], 2),
                    }
                )
        engine.dispose()
    return {"cases": cases}


def _table(result: dict[str, Any]) -> Table:
    table = Table(
        "orders",
        "couriers",
        "limit s",
        "cycle s",
        "solve s",
        "VRP travel s",
        "greedy travel s",
        "saved",
        "VRP late s",
        "greedy late s",
        "unassigned (VRP/greedy)",
        "load",
    )
    for c in result["cases"]:
        v, g = c["vrp"], c["greedy"]
        saved = 1 - v["travel_s"] / g["travel_s"] if g["travel_s"] else 0.0
        table.add_row(
            str(c["orders"]),
            str(c["couriers"]),
            f"{c['time_limit_s']:g}",
            f"{c['cycle_s']:.2f}",
            f"{c['solve_s']:.2f}",
            f"{v['travel_s']:,}",
            f"{g['travel_s']:,}",
            f"{saved:.1%}",
            f"{v['lateness_s']:,}",
            f"{g['lateness_s']:,}",
            f"{v['unassigned']}/{g['unassigned']}",
            f"{c.get('load_avg_1m', 0):.1f}",
        )
    return table


def command(
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    sizes: Annotated[str, typer.Option(help="orders x couriers, comma separated")] = DEFAULT_SIZES,
    time_limits: Annotated[str, typer.Option(help="solver time limits in seconds, comma separated")] = "1,5",
    database: Annotated[str, typer.Option(help="benchmark database, created and dropped")] = BENCH_DB,
    keep_database: Annotated[bool, typer.Option(help="keep the benchmark database afterwards")] = False,
) -> None:
    """Dispatch cycle wall time (read + solve + write) and quality, VRP beside greedy."""
    limits = [float(x) for x in time_limits.split(",")]
    if not limits or any(not 0.1 <= x <= 60 for x in limits):
        raise typer.BadParameter("time limits 0.1–60 s")
    result = run(sizes=_sizes(sizes), time_limits=limits, database=database, keep=keep_database)
    Console(width=None if sys.stdout.isatty() else 200).print(_table(result))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))
