"""The run's records as CSV tables beside the report, one row per order, courier and dispatch
cycle: what a researcher needs to compute a KPI of their own, and what two runs of the same seed
are compared on to find where they parted."""

from __future__ import annotations

import csv
from dataclasses import astuple, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulations.records import CourierRecord, CycleRecord, OrderRecord

if TYPE_CHECKING:
    from simulations.run import RunResult


def write_tables(result: RunResult, folder: Path) -> list[Path]:
    """`orders-<policy>.csv`, `couriers-<policy>.csv` and `cycles-<policy>.csv`. Orders and
    couriers come in the order the run met them; the columns are the records' fields. A cycle's
    `cycle_s` and `solve_s` are wall seconds; every other cell is the seeded course of events."""
    policy = result.options.policy
    records = result.records
    tables: list[tuple[str, type, list[Any]]] = [
        ("orders", OrderRecord, list(records.orders.values())),
        ("couriers", CourierRecord, list(records.couriers.values())),
        ("cycles", CycleRecord, records.cycles),
    ]
    written = []
    for name, kind, rows in tables:
        path = folder / f"{name}-{policy}.csv"
        with path.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow([f.name for f in fields(kind)])
            writer.writerows(_cells(astuple(row)) for row in rows)
        written.append(path)
    return written


def _cells(values: tuple[Any, ...]) -> list[Any]:
    # Empty for "never happened" (None), six decimals for seconds and metres: enough to tell two
    # runs apart, and the file stays readable.
    return ["" if v is None else round(v, 6) if isinstance(v, float) else v for v in values]
