"""The run's KPIs, computed from the records (simulations.records) after the clock stops.

Orders count when placed inside the run; click-to-door is measured on those delivered (a
re-placed order keeps its first click). Utilisation is the share of shift time a courier had
stops to serve. Times are minutes, distances km, shares per cent; the dispatch cycle's duration is
wall time (it is the one figure that depends on the machine, not on the seed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulations.records import OrderRecord, Records

CONTRACT_KEYS = (
    "click_to_door_p50_min",
    "click_to_door_p90_min",
    "on_time_pct",
    "orders_per_courier_hour",
    "km_per_order",
    "courier_utilisation_pct",
    "stockouts",
    "split_orders",
    "dispatch_cycle_p99_s",
)
# Where a delivered order's click-to-door goes: waiting for a picker, picking and packing, packed
# and waiting for its courier (to come and take it), and the ride to the door. Each is
# (name, from, to) over OrderRecord's timestamps; an order's four add up to its click-to-door.
STAGES = (
    ("store_queue", "placed_s", "picking_started_s"),
    ("picking", "picking_started_s", "packed_s"),
    ("courier_wait", "packed_s", "picked_up_s"),
    ("ride", "picked_up_s", "delivered_s"),
)
# Figures that depend on the machine's speed, not on the seed: left out of determinism checks.
WALL_CLOCK_KEYS = frozenset({"dispatch_cycle_p50_s", "dispatch_cycle_p99_s", "solver_p50_s", "solver_max_s"})


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default); 0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else 0.0


def compute(records: Records, *, placed_before_s: float) -> dict[str, Any]:
    placed = [o for o in records.orders.values() if o.placed_s < placed_before_s]
    delivered = [o for o in placed if o.delivered_s is not None]
    minutes = [(o.delivered_s - o.placed_s) / 60 for o in delivered if o.delivered_s is not None]
    on_time = sum(1 for o in delivered if o.late_s is not None and o.late_s <= 0)
    shift_h = sum(c.on_shift_s for c in records.couriers.values()) / 3600
    busy_h = sum(c.busy_s for c in records.couriers.values()) / 3600
    km = sum(c.metres for c in records.couriers.values()) / 1000
    km_to_store = sum(c.metres_to_store for c in records.couriers.values()) / 1000
    km_to_door = sum(c.metres_to_door for c in records.couriers.values()) / 1000
    store_visits = sum(c.store_visits for c in records.couriers.values())
    cycles = [c.cycle_s for c in records.cycles]
    solves = [c.solve_s for c in records.cycles]
    kpis: dict[str, Any] = {
        "click_to_door_p50_min": round(percentile(minutes, 50), 2),
        "click_to_door_p90_min": round(percentile(minutes, 90), 2),
        "click_to_door_p99_min": round(percentile(minutes, 99), 2),
        "on_time_pct": round(100 * on_time / len(delivered), 2) if delivered else 0.0,
        "orders_per_courier_hour": round(len(delivered) / shift_h, 3) if shift_h else 0.0,
        "km_per_order": round(km / len(delivered), 3) if delivered else 0.0,
        "courier_utilisation_pct": round(100 * busy_h / shift_h, 2) if shift_h else 0.0,
        "stockouts": records.lost_sales,
        "split_orders": sum(1 for o in placed if o.locations > 1),
        "dispatch_cycle_p50_s": round(percentile(cycles, 50), 4),
        "dispatch_cycle_p99_s": round(percentile(cycles, 99), 4),
        "solver_p50_s": round(percentile(solves, 50), 4),
        "solver_max_s": round(max(solves, default=0.0), 4),
        "dispatch_cycles": len(cycles),
        "delivered": len(delivered),
        "cancelled": sum(1 for o in placed if o.cancelled),
        "undelivered": sum(1 for o in placed if o.delivered_s is None and not o.cancelled),
        "late_pick_waits": records.late_pick_waits,
        "late_pick_wait_avg_min": round(records.late_pick_wait_s / 60 / records.late_pick_waits, 2)
        if records.late_pick_waits
        else 0.0,
        "reservation_expiries": records.reservation_expiries,
        "out_of_area": records.out_of_area,
        "rerouted": records.rerouted,
        "transfers_received": records.transfers_received,
        "pings": records.pings,
        "pings_dropped": records.pings_dropped,
        "courier_hours": round(shift_h, 2),
        # Where the kilometres go, and how much batching there is (orders carried per store visit).
        "km_to_store_per_order": round(km_to_store / len(delivered), 3) if delivered else 0.0,
        "km_to_door_per_order": round(km_to_door / len(delivered), 3) if delivered else 0.0,
        "orders_per_store_visit": round(len(delivered) / store_visits, 2) if store_visits else 0.0,
        **{f"open_at_end_{stage}": count for stage, count in records.backlog.items()},
        **_stages(delivered),
    }
    return kpis


def stage_minutes(delivered: list[OrderRecord]) -> dict[str, list[float]]:
    """Minutes each of `delivered` spent in each stage (STAGES), by stage name (orders missing
    a stage's timestamps are left out of it)."""
    out: dict[str, list[float]] = {}
    for name, start, end in STAGES:
        minutes = out[name] = []
        for order in delivered:
            began, ended = getattr(order, start), getattr(order, end)
            if began is not None and ended is not None:
                minutes.append((ended - began) / 60)
    return out


def _stages(delivered: list[OrderRecord]) -> dict[str, float]:
    """p50 and p90 minutes of each stage (STAGES) over the delivered orders (a re-placed order
    queues from its first click, like its click-to-door)."""
    out: dict[str, float] = {}
    for name, minutes in stage_minutes(delivered).items():
        out[f"stage_{name}_p50_min"] = round(percentile(minutes, 50), 2)
        out[f"stage_{name}_p90_min"] = round(percentile(minutes, 90), 2)
    return out


def seeded_part(kpis: dict[str, Any]) -> dict[str, Any]:
    """The KPIs that the seed alone decides (for determinism checks)."""
    return {k: v for k, v in kpis.items() if k not in WALL_CLOCK_KEYS}
