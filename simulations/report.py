"""The run's report: `report.md` with the KPI table (side by side when policies are compared),
`kpis.json`, and PNG plots per policy: orders and late orders over time, click-to-door histogram,
courier utilisation, and a map of deliveries coloured by lateness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from simulations.run import RunResult

BIN_S = 300


def write_report(results: list[RunResult], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kpis.json").write_text(json.dumps([r.contract() for r in results], indent=2) + "\n")
    first = results[0]
    scenario = first.options.scenario
    lines = [
        f"# Simulation report: {scenario.name}, seed {first.options.seed}",
        "",
        f"{scenario.orders} orders expected over {scenario.duration_s / 3600:.1f} h, {scenario.couriers} couriers;"
        f" start {scenario.start.isoformat()}.",
        "",
        "| KPI | " + " | ".join(r.options.policy for r in results) + " |",
        "|---|" + "---|" * len(results),
        "| wall s | " + " | ".join(f"{r.wall_s:.1f}" for r in results) + " |",
        "| orders | " + " | ".join(str(r.contract()["orders"]) for r in results) + " |",
    ]
    lines += [f"| {key} | " + " | ".join(str(r.kpis[key]) for r in results) + " |" for key in first.kpis]
    for result in results:
        lines += ["", f"## {result.options.policy}", ""]
        for name in _plots(result, folder):
            lines.append(f"![{name}]({name})")
    report = folder / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report


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
