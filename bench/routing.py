"""`o2o bench routing`: solution quality on VRPTW benchmarks against best-known solutions and peers.

For each instance: our `routing.solve` (the product's default backend choice, and the OR-Tools
backend alone when `also_ortools`), PyVRP and VROOM, each with the same time limit, one after the
other in this process. Costs are exact double-precision distances (what the best-known solutions
use); a plan counts as feasible when every customer is served and `check_plan` finds nothing.

JSON: `{"instances": [{"name", "bks", "ours": {"cost", "gap_pct", "vehicles", "time_s", "feasible"},
"pyvrp": {…}, "vroom": {…}, "ortools": {…}}], "mean_gap_pct": {"ours", "pyvrp", "vroom", "ortools"},
"conditions": {…}}` — a peer left out with `--peers` is absent, and so is "ortools" when `ours`
already is OR-Tools or `--no-also-ortools`. Mean gaps are over the instances a solver solved
feasibly (`conditions.feasible_count` says how many).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.peers import PEERS, pyvrp_plan, vroom_plan
from routing.check import check_plan
from routing.instances import Instance, gap_pct, read_bks, read_instance
from routing.params import Backend, SolveParams
from routing.plan import Plan
from routing.solve import solve

Solver = Callable[[Instance, float], Plan]


def _ours(backend: Backend, workers: int) -> Solver:
    def run_ours(inst: Instance, limit: float) -> Plan:
        return solve(inst.problem, SolveParams(time_limit_s=limit, backend=backend, workers=workers))

    return run_ours


_PEER_SOLVERS: dict[str, Solver] = {
    "pyvrp": lambda inst, limit: pyvrp_plan(inst.problem, limit),
    "vroom": lambda inst, limit: vroom_plan(inst.problem, limit),
}


def _measure(solver: Solver, inst: Instance, limit: float, best: float, backends: set[str]) -> dict[str, Any]:
    started = time.monotonic()
    plan = solver(inst, limit)
    elapsed = time.monotonic() - started
    backends.add(plan.stats.backend)
    cost = inst.exact_cost(plan)
    feasible = not plan.unassigned and not check_plan(inst.problem, plan)
    return {
        "cost": round(cost, 2),
        "gap_pct": round(gap_pct(cost, best), 3),
        "vehicles": plan.vehicles_used,
        "time_s": round(elapsed, 3),
        "feasible": feasible,
    }


def _select(files: list[Path], names: str | None, limit: int | None) -> list[Path]:
    if names:
        wanted = [n.strip().upper() for n in names.split(",") if n.strip()]
        by_name = {f.stem.upper(): f for f in files}
        missing = [n for n in wanted if n not in by_name]
        if missing:
            raise ValueError(f"unknown instances: {', '.join(missing)}")
        return [by_name[n] for n in wanted]
    return files[:limit] if limit else files


def run(
    instances: Path,
    bks: Path,
    time_limit: float = 1.0,
    peers: str = "pyvrp,vroom",
    names: str | None = None,
    limit: int | None = None,
    backend: Backend = "auto",
    workers: int = 2,
    also_ortools: bool = True,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Benchmark every instance file in `instances` that has a best-known solution in `bks`."""
    best = read_bks(bks)
    files = sorted(f for f in instances.iterdir() if f.suffix.lower() in (".txt", ".vrp") and f.stem in best)
    chosen_peers = [p.strip() for p in peers.split(",") if p.strip()]
    unknown = set(chosen_peers) - set(PEERS)
    if unknown:
        raise ValueError(f"unknown peers {sorted(unknown)}; known: {PEERS}")
    solvers: dict[str, Solver] = {"ours": _ours(backend, workers)}
    if also_ortools and backend != "ortools":
        solvers["ortools"] = _ours("ortools", workers)
    solvers.update({p: _PEER_SOLVERS[p] for p in chosen_peers})
    rows = []
    backends: dict[str, set[str]] = {}  # solver key -> backends that produced its plans
    for path in _select(files, names, limit):
        inst = read_instance(path)
        bk = best[path.stem].cost
        row: dict[str, Any] = {"name": path.stem, "bks": bk}
        for key, solver in solvers.items():
            row[key] = _measure(solver, inst, time_limit, bk, backends.setdefault(key, set()))
        rows.append(row)
        if on_result:
            on_result(row)
    mean = {
        key: round(statistics.fmean(r[key]["gap_pct"] for r in rows if r[key]["feasible"]), 3)
        if any(r[key]["feasible"] for r in rows)
        else None
        for key in solvers
    }
    conditions = {
        "time_limit_s": time_limit,
        "workers": workers,
        "ours_backend": backend,
        "ours_backends_used": sorted(backends.get("ours", set())),
        "feasible_count": {key: sum(r[key]["feasible"] for r in rows) for key in solvers},
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    return {"instances": rows, "mean_gap_pct": mean, "conditions": conditions}


def _table(result: dict[str, Any]) -> Table:
    keys = [k for k in ("ours", "ortools", *PEERS) if k in result["mean_gap_pct"]]
    conditions = result["conditions"]
    table = Table(title=f"VRPTW, {conditions['time_limit_s']} s per solve (gap % to best known)")
    table.add_column("instance")
    table.add_column("BKS", justify="right")
    for key in keys:
        table.add_column(key, justify="right")
        table.add_column("gap %", justify="right")
        table.add_column("s", justify="right")
    for row in result["instances"]:
        cells = [row["name"], f"{row['bks']:.2f}"]
        for key in keys:
            r = row[key]
            cells += [f"{r['cost']:.2f}" + ("" if r["feasible"] else " ✗"), f"{r['gap_pct']:.2f}", f"{r['time_s']:.2f}"]
        table.add_row(*cells)
    means = ["mean", ""]
    for key in keys:
        m = result["mean_gap_pct"][key]
        means += ["", "—" if m is None else f"{m:.2f}", f"{conditions['feasible_count'][key]} ok"]
    table.add_row(*means, style="bold")
    return table


def command(
    instances: Annotated[Path, typer.Option(help="folder of Solomon .txt / VRPLIB .vrp instances")],
    bks: Annotated[Path, typer.Option(help="CSV instance,vehicles,distance of best-known solutions")],
    time_limit: Annotated[float, typer.Option(help="seconds per solve, for every solver")] = 1.0,
    peers: Annotated[str, typer.Option(help="comma-separated peers: pyvrp,vroom (empty for none)")] = "pyvrp,vroom",
    names: Annotated[str | None, typer.Option(help="only these instances, e.g. C101,R101")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N instances")] = None,
    backend: Annotated[str, typer.Option(help="our backend: auto, ortools or pyvrp")] = "auto",
    workers: Annotated[int, typer.Option(help="our parallel searches (processes)")] = 2,
    also_ortools: Annotated[
        bool, typer.Option(help="also run our OR-Tools backend alone when the default backend is another")
    ] = True,
) -> None:
    """Gap to best-known solutions of our solver, PyVRP and VROOM, same time limit each."""
    console = Console(width=None if sys.stdout.isatty() else 220)
    if backend not in ("auto", "ortools", "pyvrp"):
        raise typer.BadParameter(f"unknown backend {backend!r}")
    result = run(
        instances,
        bks,
        time_limit,
        peers,
        names,
        limit,
        backend,  # type: ignore[arg-type]  # checked above
        workers,
        also_ortools,
        on_result=lambda row: console.print(
            f"{row['name']}: " + ", ".join(f"{k} {v['gap_pct']:.2f}%" for k, v in row.items() if isinstance(v, dict))
        ),
    )
    console.print(_table(result))
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))
        console.print(f"wrote {json_out}")
