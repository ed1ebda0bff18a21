"""Benchmark instance readers: Solomon / Gehring–Homberger VRPTW text files, CVRPLIB (VRPLIB
format, through `vrplib`), and best-known-solution tables.

Classic VRPTW maps onto our model as delivery-only shipments (goods loaded at the depot) with hard
windows, and vehicles that start and end at the depot. Solomon distances are Euclidean in double
precision, which is what the best-known solutions use; the solver needs integers, so distances
are scaled (×1000 by default) and rounded, travel times rounded up (so an integer-feasible plan is
feasible with exact times too), and `Instance.exact_cost` re-prices a plan with exact floats.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from routing.plan import Plan
from routing.problem import Problem, Shipment, Vehicle
from routing.types import Matrices

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Instance:
    name: str
    problem: Problem
    distances: FloatMatrix  # exact, unscaled

    def exact_cost(self, plan: Plan) -> float:
        """Total distance of the plan's routes with exact (unscaled, unrounded) distances."""
        total = 0.0
        for route in plan.routes:
            if route.is_empty:
                continue
            locations = [v.location for v in route.visits]
            total += float(sum(self.distances[a, b] for a, b in itertools.pairwise(locations)))
        return total


@dataclass(frozen=True, slots=True)
class BestKnown:
    vehicles: int
    cost: float


def read_bks(path: Path) -> dict[str, BestKnown]:
    """`instance,vehicles,distance[,source]` CSV → name → best-known solution."""
    with path.open(newline="") as f:
        return {
            row["instance"].strip(): BestKnown(int(row["vehicles"]), float(row["distance"]))
            for row in csv.DictReader(f)
        }


def _euclidean(xy: FloatMatrix) -> FloatMatrix:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.asarray(np.sqrt((diff**2).sum(axis=-1)), dtype=np.float64)


def vrptw_problem(
    distances: FloatMatrix,
    demand: npt.NDArray[np.int64],
    windows: FloatMatrix,
    service: FloatMatrix,
    vehicles: int,
    capacity: int,
    scale: int,
) -> Problem:
    """Depot (row 0) based VRPTW → Problem; times and distances multiplied by `scale`."""
    meters = np.rint(distances * scale).astype(np.int64)
    seconds = np.ceil(distances * scale - 1e-9).astype(np.int64)
    shift = (round(windows[0, 0] * scale), round(windows[0, 1] * scale))
    fleet = tuple(
        Vehicle(id=f"v{k + 1}", start=0, end=0, capacity=(capacity,), shift=shift, profile="car")
        for k in range(vehicles)
    )
    shipments = tuple(
        Shipment(
            id=str(i),
            delivery=i,
            demand=(int(demand[i]),),
            delivery_window=(round(windows[i, 0] * scale), round(windows[i, 1] * scale)),
            hard_deadline=True,
            delivery_service_s=round(service[i] * scale),
        )
        for i in range(1, len(distances))
    )
    # Larger than any insertion cost (at most a detour of twice the longest arc), so that dropping
    # is only ever chosen when serving is impossible.
    penalty = 100 * int(meters.max() + 1)
    return Problem({"car": Matrices(seconds, meters)}, fleet, shipments, drop_penalty=penalty, objective="distance")


def read_solomon(path: Path, scale: int = 1000) -> Instance:
    """Solomon / Gehring–Homberger file: VEHICLE NUMBER/CAPACITY, then one row per node
    (CUST NO., XCOORD., YCOORD., DEMAND, READY TIME, DUE DATE, SERVICE TIME), node 0 the depot."""
    lines = path.read_text().splitlines()
    name = lines[0].strip() or path.stem
    fleet_at = next(i for i, line in enumerate(lines) if line.strip().upper().startswith("NUMBER"))
    vehicles, capacity = (int(x) for x in lines[fleet_at + 1].split()[:2])
    rows = [
        [float(x) for x in line.split()]
        for line in lines[fleet_at + 2 :]
        if re.fullmatch(r"\s*(-?[\d.]+\s+){6}-?[\d.]+\s*", line)
    ]
    if not rows:
        raise ValueError(f"{path}: no customer rows")
    data = np.asarray(rows, dtype=np.float64)
    if data[0, 0] != 0:
        raise ValueError(f"{path}: the first node must be the depot (number 0)")
    distances = _euclidean(data[:, 1:3])
    problem = vrptw_problem(distances, data[:, 3].astype(np.int64), data[:, 4:6], data[:, 6], vehicles, capacity, scale)
    return Instance(name, problem, distances)


def read_vrplib(path: Path, scale: int = 1, vehicles: int | None = None) -> Instance:
    """CVRPLIB instance (CVRP or VRPTW in VRPLIB format) through `vrplib`.

    CVRPLIB's convention rounds Euclidean distances to the nearest integer (TSPLIB `nint`), which
    `scale=1` reproduces. The fleet is the file's VEHICLES field, else the `-kN` of the name, else
    one vehicle per customer.
    """
    import vrplib  # only the benchmarks read these files

    data = vrplib.read_instance(str(path))
    name = str(data.get("name", path.stem))
    exact = np.asarray(data["edge_weight"], dtype=np.float64)
    distances = np.rint(exact) if scale == 1 else exact
    n = len(distances)
    depot = int(np.asarray(data.get("depot", [0])).ravel()[0])
    if depot != 0:
        raise ValueError(f"{path}: only instances whose depot is node 0 are supported")
    demand = np.asarray(data.get("demand", np.zeros(n)), dtype=np.int64)
    windows = np.asarray(data.get("time_window", [[0.0, 1e6 / max(scale, 1)]] * n), dtype=np.float64)
    service = np.asarray(data.get("service_time", np.zeros(n)), dtype=np.float64).ravel()
    if service.size == 1:
        service = np.full(n, float(service[0]))
    match = re.search(r"-k(\d+)", name)
    fleet = vehicles or int(data.get("vehicles", 0)) or (int(match.group(1)) if match else n - 1)
    problem = vrptw_problem(distances, demand, windows, service, fleet, int(data["capacity"]), scale)
    return Instance(name, problem, distances)


def read_instance(path: Path, scale: int | None = None) -> Instance:
    """Solomon text (`.txt`) or VRPLIB (`.vrp`) by extension."""
    if path.suffix.lower() == ".vrp":
        return read_vrplib(path, scale or 1)
    return read_solomon(path, scale or 1000)


def gap_pct(cost: float, best: float) -> float:
    return math.inf if best <= 0 else 100.0 * (cost - best) / best
