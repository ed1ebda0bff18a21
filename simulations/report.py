"""The run's report: `report.md` with the KPI table (side by side when policies are compared),
`kpis.json`, where click-to-door goes (its stages, all policies in one plot), and PNG plots per
policy: orders and late orders over time, click-to-door histogram, courier utilisation, and a map
of deliveries coloured by lateness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from simulations.kpis import STAGES, stage_minutes
from simulations.tables import write_tables

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from simulations.run import RunResult

BIN_S = 300


def _search_bound(result: RunResult) -> str:
    conditions = result.conditions()
    if conditions["time_limit_s"] is not None:
        return f"vrp's search limited to {conditions['time_limit_s']:g} s per cycle (figures depend on the machine)"
    return f"vrp's search bounded by {conditions['solver_work']} parts per solver process and cycle (reproducible)"


def write_report(results: list[RunResult], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kpis.json").write_text(json.dumps([r.contract() for r in results], indent=2) + "\n")
    first = results[0]
    scenario = first.options.scenario
    lines = [
        f"# Simulation report: {scenario.name}, seed {first.options.seed}",
        "",
        f"{scenario.orders} orders expected over {scenario.duration_s / 3600:.1f} h, {scenario.couriers} couriers;"
        f" start {scenario.start.isoformat()}; {_search_bound(first)}.",
        "",
    ]
    lines += _kpi_table(results)
    lines += ["", "## Where the minutes go", "", f"![stages]({_stages(results, folder)})"]
    lines += ["", "## Where the wall time went", ""]
    lines += _wall_table(results)
    for result in results:
        lines += ["", f"## {result.options.policy}", ""]
        for name in _plots(result, folder):
            lines.append(f"![{name}]({name})")
        tables = ", ".join(f"[{p.name}]({p.name})" for p in write_tables(result, folder))
        lines += ["", f"One row per order, courier and dispatch cycle: {tables}."]
    report = folder / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def _kpi_table(results: list[RunResult]) -> list[str]:
    """Every KPI side by side; comparing two policies, also the second's figure over the first's."""
    ratio = len(results) == 2
    head = "| KPI | " + " | ".join(r.options.policy for r in results) + " |"
    if ratio:
        head += f" {results[1].options.policy} / {results[0].options.policy} |"
    rows = [("wall s", [round(r.wall_s, 1) for r in results]), ("orders", [r.contract()["orders"] for r in results])]
    rows += [(key, [r.kpis[key] for r in results]) for key in results[0].kpis]
    lines = [head, "|---|" + "---|" * (len(results) + ratio)]
    for name, values in rows:
        cells = [str(v) for v in values]
        if ratio:
            first, second = values
            cells.append(f"{second / first:.2f}" if first else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _wall_table(results: list[RunResult]) -> list[str]:
    """Each run's wall seconds by kind of work, with its share and the time per unit of work."""
    lines = ["| run | work | s | share | steps | ms per step |", "|---|---|---|---|---|---|"]
    for result in results:
        steps = result.records.steps
        for work, seconds in result.wall_by_work().items():
            count = steps.get(work)
            per = f"{1000 * seconds / count:.1f}" if count else ""
            share = 100 * seconds / result.wall_s if result.wall_s else 0.0
            lines.append(
                f"| {result.options.policy} | {work} | {seconds:.1f} | {share:.0f} % | {count or ''} | {per} |"
            )
        # Beside the wall time, not in it: the relay records pings on the other core.
        relay = result.records.ping_relay_s
        lines.append(f"| {result.options.policy} | ping relay (second process) | {relay:.1f} | | | |")
    return lines


def _stages(results: list[RunResult], folder: Path) -> str:
    """Mean minutes of each stage of click-to-door (kpis.STAGES), stacked, one bar per policy:
    means add up (to the mean click-to-door), percentiles do not."""
    figure, axes = plt.subplots(figsize=(8, 1.8 + 0.6 * len(results)))
    policies = [r.options.policy for r in results]
    left = [0.0] * len(results)
    per_run = [stage_minutes([o for o in r.records.orders.values() if o.delivered_s is not None]) for r in results]
    for name, _, _ in STAGES:
        means = [sum(run[name]) / len(run[name]) if run[name] else 0.0 for run in per_run]
        bars = axes.barh(policies, means, left=left, label=name.replace("_", " "))
        axes.bar_label(bars, labels=[f"{m:.1f}" if m >= 1 else "" for m in means], label_type="center")
        left = [a + b for a, b in zip(left, means, strict=True)]
    axes.set_xlabel("minutes, mean over delivered orders")
    axes.set_title("Where click-to-door goes", pad=28)
    axes.legend(ncols=len(STAGES), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    figure.tight_layout()
    name = "stages.png"
    figure.savefig(folder / name, dpi=90)
    plt.close(figure)
    return name


def _plots(result: RunResult, folder: Path) -> list[str]:
    policy = result.options.policy
    names = []
    for title, draw in (
        ("orders", _orders_over_time),
        ("click_to_door", _histogram),
        ("utilisation", _utilisation),
        ("map", _map),
    ):
        figure, axes = plt.subplots(figsize=(8, 5))
        draw(result, axes)
        axes.set_title(f"{axes.get_title()} ({policy})")
        name = f"{title}-{policy}.png"
        figure.tight_layout()
        figure.savefig(folder / name, dpi=90)
        plt.close(figure)
        names.append(name)
    return names


def _orders_over_time(result: RunResult, axes: Axes) -> None:
    orders = list(result.records.orders.values())
    bins = max(1, int(result.virtual_s // BIN_S) + 1)
    placed, late = [0] * bins, [0] * bins
    for o in orders:
        placed[min(bins - 1, int(o.placed_s // BIN_S))] += 1
        if o.late_s is not None and o.late_s > 0 and o.delivered_s is not None:
            late[min(bins - 1, int(o.delivered_s // BIN_S))] += 1
    minutes = [i * BIN_S / 60 for i in range(bins)]
    axes.plot(minutes, placed, label="orders placed")
    axes.plot(minutes, late, label="late deliveries", color="tab:red")
    axes.set_xlabel("minutes into the run")
    axes.set_ylabel(f"per {BIN_S // 60} min")
    axes.set_title("Orders and late orders over time")
    axes.legend()


def _histogram(result: RunResult, axes: Axes) -> None:
    minutes = [o.click_to_door_s / 60 for o in result.records.orders.values() if o.click_to_door_s is not None]
    axes.hist(minutes, bins=30, color="tab:blue")
    axes.set_xlabel("click to door (min)")
    axes.set_ylabel("orders")
    axes.set_title("Click-to-door")


def _utilisation(result: RunResult, axes: Axes) -> None:
    shares = [100 * c.busy_s / c.on_shift_s for c in result.records.couriers.values() if c.on_shift_s > 0]
    axes.hist(shares, bins=20, range=(0, 100), color="tab:green")
    axes.set_xlabel("share of shift with stops to serve (%)")
    axes.set_ylabel("couriers")
    axes.set_title("Courier utilisation")


def _map(result: RunResult, axes: Axes) -> None:
    delivered = [o for o in result.records.orders.values() if o.late_s is not None]
    late_min = [max(-15.0, min(30.0, (o.late_s or 0) / 60)) for o in delivered]
    points = axes.scatter(
        [o.lon for o in delivered], [o.lat for o in delivered], c=late_min, cmap="RdYlGn_r", vmin=-15, vmax=30, s=6
    )
    plt.colorbar(points, ax=axes, label="minutes late (negative: early)")
    stores = result.world.stores
    axes.scatter([s.lon for s in stores], [s.lat for s in stores], marker="^", color="black", s=40, label="stores")
    axes.set_xlabel("longitude")
    axes.set_ylabel("latitude")
    axes.set_title("Deliveries by lateness")
    axes.legend(loc="lower right")
