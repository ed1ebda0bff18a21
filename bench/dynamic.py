"""`o2o bench dynamic`: instant-delivery snapshots, our solver against VROOM, PyVRP and greedy.

A generated city: ~15 stores, homes around them, couriers on bikes wherever they are. Orders
arrive over 30 minutes; each is ready at its store ~10 minutes after ordering and promised within
40 minutes of ordering (a soft deadline: each second late costs like a second of riding). Every
solver gets the same matrices and time limit; plans are priced and checked by our own code.

Matrices: `routing.synthetic_city` + `StreetGraph` when present, else `routing.travel.Haversine`,
else a local haversine with a detour factor; the result says which one was used.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from bench.peers import pyvrp_plan, vroom_plan
from routing.check import check_plan
from routing.greedy import greedy
from routing.params import SolveParams
from routing.plan import Plan
from routing.problem import Problem, Shipment, Vehicle
from routing.solve import solve
from routing.types import Matrices, Point

CENTER = (21.8818, -102.2916)  # Aguascalientes, the OSM extract in ../shared/osm
#: No trip in a generated city takes this long (~11 days); the street graph's "no route" is larger.
UNREACHABLE_S = 1_000_000
BIKE_SPEED_MPS = 4.5
DETOUR = 1.3
ZONE_KM = 2.0
SIZES = ((50, 10), (200, 40), (1000, 200))

Solver = Callable[[Problem, float], Plan]


def _around(rng: np.random.Generator, center: tuple[float, float], n: int, radius_km: float) -> list[Point]:
    """Uniform points in a disc of `radius_km` around `center`."""
    angle = rng.uniform(0, 2 * math.pi, n)
    r = radius_km * np.sqrt(rng.uniform(0, 1, n))
    lat = center[0] + (r * np.sin(angle)) / 111.32
    lon = center[1] + (r * np.cos(angle)) / (111.32 * math.cos(math.radians(center[0])))
    return [Point(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


def _local_haversine(points: list[Point]) -> Matrices:
    lat = np.radians([p.lat for p in points])
    lon = np.radians([p.lon for p in points])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    metres = 2 * 6_371_000 * np.arcsin(np.sqrt(a)) * DETOUR
    return Matrices(np.ceil(metres / BIKE_SPEED_MPS).astype(np.int64), np.rint(metres).astype(np.int64))


def travel_matrices(points: list[Point], seed: int, size_km: float) -> tuple[Matrices, str]:
    """The best travel-time source available in this tree, and its name."""
    if importlib.util.find_spec("routing.synthetic_city") and importlib.util.find_spec("routing.street_graph"):
        try:
            from routing.street_graph import StreetGraph  # type: ignore[import-not-found,unused-ignore]
            from routing.synthetic_city import synthetic_city  # type: ignore[import-not-found,unused-ignore]

            # One matrix per city: plain Dijkstra beats building a contraction hierarchy first.
            graph = StreetGraph.from_synthetic(synthetic_city(seed, size_km, center=CENTER), engine="dijkstra")
            matrices = graph.matrices(points, "bike")
            if int(matrices.durations.max()) < UNREACHABLE_S:
                return matrices, f"street graph (synthetic city, {size_km:.0f} km)"
            print("some points are unreachable on the synthetic city; falling back", file=sys.stderr)
        except (AttributeError, TypeError, ValueError) as exc:  # API still moving in parallel work
            print(f"street graph unavailable ({exc}); falling back", file=sys.stderr)
    if importlib.util.find_spec("routing.travel"):
        try:
            from routing.travel import Haversine  # type: ignore[import-not-found,unused-ignore]

            return Haversine().matrices(points, "bike"), "routing.travel.Haversine"
        except (AttributeError, TypeError, ValueError) as exc:
            print(f"Haversine unavailable ({exc}); falling back", file=sys.stderr)
    return _local_haversine(points), f"local haversine (detour {DETOUR}, {BIKE_SPEED_MPS} m/s)"


def make_problem(shipments: int, couriers: int, seed: int = 0, stores: int = 15) -> tuple[Problem, str]:
    rng = np.random.default_rng(seed)
    # Stores spread over the city; each order's home lies within 3 km of its store (the delivery
    # zone), couriers wait within 1.5 km of some store. The city grows with the order volume.
    size_km = 3.0 + shipments / 200
    store_points = _around(rng, CENTER, stores, size_km)
    store_of = rng.integers(0, stores, shipments)
    homes = [_around(rng, (store_points[k].lat, store_points[k].lon), 1, ZONE_KM)[0] for k in store_of]
    near = rng.integers(0, stores, couriers)
    riders = [_around(rng, (store_points[k].lat, store_points[k].lon), 1, 1.5)[0] for k in near]
    matrices, source = travel_matrices([*store_points, *homes, *riders], seed, 2 * (size_km + ZONE_KM))
    ordered = rng.uniform(-10 * 60, 50 * 60, shipments).astype(int)
    orders = tuple(
        Shipment(
            id=f"o{i}",
            pickup=int(store_of[i]),
            delivery=stores + i,
            demand=(1,),
            pickup_window=(max(0, int(ordered[i]) + 10 * 60), 4 * 3600),
            delivery_window=(0, max(0, int(ordered[i]) + 40 * 60)),
            lateness_cost=1,
            pickup_service_s=60,
            delivery_service_s=120,
        )
        for i in range(shipments)
    )
    fleet = tuple(
        Vehicle(id=f"c{k}", start=stores + shipments + k, capacity=(4,), shift=(0, 4 * 3600), profile="bike")
        for k in range(couriers)
    )
    return Problem({"bike": matrices}, fleet, orders, drop_penalty=100_000), source


def _ours(workers: int) -> Solver:
    return lambda problem, limit: solve(problem, SolveParams(time_limit_s=limit, workers=workers))


def _measure(solver: Solver, problem: Problem, limit: float) -> dict[str, Any]:
    started = time.monotonic()
    plan = solver(problem, limit)
    elapsed = time.monotonic() - started
    return {
        "travel_s": plan.cost.travel,
        "lateness_s": plan.cost.lateness,
        "cost": plan.cost.travel + plan.cost.lateness,
        "unassigned": len(plan.unassigned),
        "late_orders": sum(1 for r in plan.routes for v in r.visits if v.lateness_s > 0),
        "time_s": round(elapsed, 2),
        "feasible": not check_plan(problem, plan),
        "backend": plan.stats.backend,
        "status": plan.stats.status,
    }


def run(
    time_limit: float = 5.0,
    sizes: str = "50x10,200x40,1000x200",
    peers: str = "vroom,vroom_tw,pyvrp,pyvrp_tw",
    seed: int = 0,
    workers: int = 2,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One generated snapshot per size ("shipments x couriers"); every solver on each."""
    solvers: dict[str, Solver] = {"ours": _ours(workers), "greedy": lambda problem, _: greedy(problem)}
    chosen = [p.strip() for p in peers.split(",") if p.strip()]
    peer_solvers: dict[str, Solver] = {
        "vroom": lambda problem, limit: vroom_plan(problem, limit),
        "vroom_tw": lambda problem, limit: vroom_plan(problem, limit, deadlines_as_windows=True),
        "pyvrp": lambda problem, limit: pyvrp_plan(problem, limit),
        "pyvrp_tw": lambda problem, limit: pyvrp_plan(problem, limit, deadlines_as_windows=True),
    }
    unknown = set(chosen) - set(peer_solvers)
    if unknown:
        raise ValueError(f"unknown peers {sorted(unknown)}; known: {sorted(peer_solvers)}")
    solvers.update({p: peer_solvers[p] for p in chosen})
    rows = []
    source = ""
    for size in sizes.split(","):
        n, m = (int(x) for x in size.lower().split("x"))
        problem, source = make_problem(n, m, seed)
        row: dict[str, Any] = {"shipments": n, "couriers": m}
        for key, solver in solvers.items():
            row[key] = _measure(solver, problem, time_limit)
        # Percentages only compare plans that serve every order; otherwise they would reward dropping.
        for peer in solvers.keys() - {"ours"}:
            both = row["ours"]["unassigned"] == row[peer]["unassigned"] == 0
            row[f"vs_{peer}_pct"] = round(100 * (row["ours"]["cost"] / row[peer]["cost"] - 1), 2) if both else None
        rows.append(row)
        if on_result:
            on_result(row)
    return {
        "time_limit_s": time_limit,
        "workers": workers,
        "matrices": source,
        "seed": seed,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "runs": rows,
    }


def _table(result: dict[str, Any]) -> Table:
    keys = [k for k in ("ours", "vroom", "vroom_tw", "pyvrp", "pyvrp_tw", "greedy") if k in result["runs"][0]]
    table = Table(title=f"Instant delivery, {result['time_limit_s']} s, travel + lateness (s); {result['matrices']}")
    table.add_column("size")
    for key in keys:
        table.add_column(key, justify="right")
    for key in keys[1:]:
        table.add_column(f"ours vs {key}", justify="right")
    for row in result["runs"]:
        cells = [f"{row['shipments']}×{row['couriers']}"]
        for key in keys:
            r = row[key]
            extra = f" ({r['unassigned']} unassigned)" if r["unassigned"] else ""
            cells.append(f"{r['cost']}{extra} [{r['time_s']} s]" + ("" if r["feasible"] else " ✗"))
        cells += ["—" if row[f"vs_{key}_pct"] is None else f"{row[f'vs_{key}_pct']:+.1f} %" for key in keys[1:]]
        table.add_row(*cells)
    return table


def command(
    time_limit: Annotated[float, typer.Option(help="seconds per solve, for every solver")] = 5.0,
    sizes: Annotated[str, typer.Option(help="comma-separated shipments x couriers")] = "50x10,200x40,1000x200",
    peers: Annotated[
        str,
        typer.Option(
            help="comma-separated peers: vroom, pyvrp (soft deadlines ignored), vroom_tw, pyvrp_tw (made hard)"
        ),
    ] = "vroom,vroom_tw,pyvrp,pyvrp_tw",
    seed: Annotated[int, typer.Option(help="instance generator seed")] = 0,
    workers: Annotated[int, typer.Option(help="our parallel searches (processes)")] = 2,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
) -> None:
    """Our dispatch solver vs VROOM, PyVRP and the greedy baseline on generated city snapshots."""
    console = Console(width=None if sys.stdout.isatty() else 220)
    result = run(
        time_limit,
        sizes,
        peers,
        seed,
        workers,
        on_result=lambda row: console.print(
            f"{row['shipments']}×{row['couriers']}: "
            + ", ".join(f"{k} {v['cost']}" for k, v in row.items() if isinstance(v, dict))
        ),
    )
    console.print(_table(result))
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))
        console.print(f"wrote {json_out}")
