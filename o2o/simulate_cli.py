"""`o2o simulate`: the city simulation (simulations/) on a fresh database of its own, or `--live`
against the demo's database; registered on the `o2o` command by the CLI module."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.logging import configure_logging
from core.settings import get_settings
from dispatch.config import SIMULATED_SOLVER_WORK, Policy
from simulations.scenarios import SCENARIO_NAMES, SCENARIOS

console = Console()
POLICIES = ("greedy", "vrp")


def _policies(policy: str, compare: str | None) -> list[Policy]:
    if policy not in POLICIES:
        raise typer.BadParameter(f"expected one of {', '.join(POLICIES)}", param_hint="--policy")
    if compare is None:
        return [cast(Policy, policy)]
    wanted = [p.strip() for p in compare.split(",") if p.strip()]
    if len(wanted) < 2 or len(set(wanted)) != len(wanted) or any(p not in POLICIES for p in wanted):
        raise typer.BadParameter("expected two different policies, e.g. greedy,vrp", param_hint="--compare")
    return [cast(Policy, p) for p in wanted]


def command(
    scenario: Annotated[str, typer.Option(help=f"One of {', '.join(SCENARIO_NAMES)}.")] = "lunch_peak",
    seed: Annotated[int, typer.Option(min=0, help="Random seed: the same seed and code give the same KPIs.")] = 1,
    policy: Annotated[str, typer.Option(help="Dispatch policy: greedy or vrp.")] = "vrp",
    compare: Annotated[
        str | None, typer.Option(metavar="P1,P2", help="Run both policies on the same seed and compare them.")
    ] = None,
    osm: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="City from an OpenStreetMap extract."),
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", dir_okay=False, help="Write the KPIs as JSON here.")
    ] = None,
    out: Annotated[Path | None, typer.Option(file_okay=False, help="Report directory (Markdown + PNG plots).")] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Run against the demo's database at --speed × real time.")
    ] = False,
    speed: Annotated[float, typer.Option(min=1, max=3600, help="With --live: virtual seconds per real second.")] = 30,
    scale: Annotated[
        float, typer.Option(min=0.001, max=10, help="Fraction of the scenario's orders and couriers.")
    ] = 1.0,
    minutes: Annotated[
        int | None, typer.Option(min=5, max=24 * 60, help="Shorten the run to this many minutes.")
    ] = None,
    solver_work: Annotated[
        int,
        typer.Option(
            min=1,
            max=10_000,
            help="vrp: parts searched per solver process in each dispatch cycle. A bound on work, not "
            "time: the same seed gives the same KPIs on any machine.",
        ),
    ] = SIMULATED_SOLVER_WORK,
    time_limit: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            max=60,
            help="vrp: bound each dispatch cycle's search by these seconds instead of --solver-work "
            "(KPIs then depend on the machine's speed and load; --live: the platform's limit, 1 s by default).",
        ),
    ] = None,
    tail: Annotated[
        int, typer.Option(min=0, max=240, help="Minutes after the last order for deliveries to finish.")
    ] = 30,
    tag: Annotated[
        str | None,
        typer.Option(hidden=True, help="Suffix of the simulated accounts' e-mails (the demo names its courier login)."),
    ] = None,
    cycle_s: Annotated[
        float, typer.Option(min=5, max=600, help="Dispatch cycle period per zone, in virtual seconds.")
    ] = 30.0,
    couriers: Annotated[
        int | None,
        typer.Option(min=1, max=5000, help="Couriers on shift instead of the scenario's (after --scale)."),
    ] = None,
) -> None:
    """Simulate a city in virtual time against the real services; print and write the KPIs."""
    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"expected one of {', '.join(SCENARIO_NAMES)}", param_hint="--scenario")
    if tag is not None and not re.fullmatch(r"[a-z0-9]{1,12}", tag):
        raise typer.BadParameter("1–12 lower-case letters or digits", param_hint="--tag")
    policies = _policies(policy, compare)
    if live and len(policies) > 1:
        raise typer.BadParameter("--live runs one policy", param_hint="--compare")
    chosen = SCENARIOS[scenario]
    configure_logging("WARNING")  # thousands of orders: the services' info lines would bury the progress bar
    if scale != 1.0 or minutes is not None:
        chosen = chosen.scaled(scale, duration_s=minutes * 60 if minutes else None)
    if couriers is not None:
        chosen = chosen.with_fleet(couriers)
    from o2o.simulate_run import NoRedisDatabase, Request, runs

    request = Request(
        scenario=chosen,
        seed=seed,
        policies=policies,
        osm=osm,
        live=live,
        speed=speed,
        time_limit_s=time_limit,
        solver_work=solver_work,
        cycle_period_s=cycle_s,
        tag=tag,
        tail_s=tail * 60.0,
    )
    try:
        results = runs(request, _progress_display)
    except NoRedisDatabase as busy:
        console.print(f"[bold red]{busy}[/]: wait for one to finish.")
        raise typer.Exit(1) from busy
    _print(results)
    document: dict[str, Any] = (
        results[0].contract() if len(results) == 1 else {"runs": {r.options.policy: r.contract() for r in results}}
    )
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(document, indent=2) + "\n")
        console.print(f"KPIs written to {json_file}")
    folder = out or get_settings().home / "simulations" / f"{scenario}-seed{seed}"
    from simulations.report import write_report

    written = write_report(results, folder)
    console.print(f"Report: {written}")


def _progress_display(title: str) -> Any:
    """A rich progress bar over virtual time with the live KPIs in its description."""
    from simulations.run import Progress as Snapshot

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console)
    task: list[TaskID] = []

    def show(p: Snapshot) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task(title, total=p.total_s))
        hours, rest = divmod(int(p.virtual_s), 3600)
        late = 100 * p.late / p.delivered if p.delivered else 0.0
        bar.update(
            task[0],
            completed=p.virtual_s,
            description=(
                f"{title} · virtual {hours}:{rest // 60:02d} · placed {p.placed} · delivered {p.delivered}"
                f" ({late:.0f}% late) · couriers busy {p.couriers_busy}/{p.couriers_on_shift} · cycles {p.cycles}"
            ),
        )
        if p.virtual_s >= p.total_s - 60:
            bar.stop()

    return show


def _print(results: list[Any]) -> None:
    table = Table("KPI", *(f"{r.options.policy}" for r in results), title="Simulation KPIs")
    first = results[0]
    table.add_row("wall s", *(f"{r.wall_s:.1f}" for r in results))
    table.add_row("orders", *(str(r.contract()["orders"]) for r in results))
    for key in first.kpis:
        table.add_row(key, *(str(r.kpis[key]) for r in results))
    console.print(table)
