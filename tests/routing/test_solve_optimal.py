"""On tiny instances the solver finds the optimum computed by brute force in the test."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator

import numpy as np
import pytest

from routing.check import check_plan
from routing.params import SolveParams
from routing.plan import SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment, Vehicle
from routing.solve import solve
from routing.types import Matrices

# Far more than these 7-stop instances need, so that a busy machine does not make the test fail.
FAST = SolveParams(time_limit_s=1.0, backend="ortools")


def euclidean(points: list[tuple[int, int]]) -> Matrices:
    xy = np.asarray(points, dtype=np.float64)
    d = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    return Matrices(d, d * 4)


def orders(stops: list[Stop]) -> Iterator[list[Stop]]:
    """Every order of the stops that keeps each pickup before its delivery."""
    for perm in itertools.permutations(stops):
        seen: set[str] = set()
        ok = True
        for s in perm:
            if s.kind == "pickup":
                seen.add(s.shipment_id)
            elif Stop("pickup", s.shipment_id) in stops and s.shipment_id not in seen:
                ok = False
                break
        if ok:
            yield list(perm)


def brute_force(problem: Problem) -> int:
    best = math.inf
    owners = [None, *(v.id for v in problem.vehicles)]
    for assignment in itertools.product(owners, repeat=len(problem.shipments)):
        per_vehicle: dict[str, list[Stop]] = {v.id: [] for v in problem.vehicles}
        for shipment, owner in zip(problem.shipments, assignment, strict=True):
            if owner is None:
                continue
            if problem.has_pickup(shipment):
                per_vehicle[owner].append(Stop("pickup", shipment.id))
            per_vehicle[owner].append(Stop("delivery", shipment.id))
        vids = list(per_vehicle)
        for combo in itertools.product(*(list(orders(per_vehicle[v])) for v in vids)):
            plan = build_plan(problem, dict(zip(vids, combo, strict=True)), SolverStats("bf", "", 0.0))
            if plan.cost.total < best and not check_plan(problem, plan):
                best = plan.cost.total
    return int(best)


def random_pdp(seed: int, pairs: int, vehicles: int, windows: bool) -> Problem:
    rng = random.Random(seed)
    points = [(rng.randint(0, 100), rng.randint(0, 100)) for _ in range(1 + 2 * pairs)]
    shipments = []
    for i in range(pairs):
        lo = rng.randint(0, 100) if windows else 0
        shipments.append(
            Shipment(
                f"s{i}",
                pickup=1 + 2 * i,
                delivery=2 + 2 * i,
                demand=(rng.randint(1, 2),),
                pickup_window=(lo, lo + 80) if windows else (0, 10_000),
                delivery_window=(0, lo + 150) if windows else (0, 10_000),
                hard_deadline=windows,
                pickup_service_s=5,
                delivery_service_s=5,
            )
        )
    fleet = tuple(Vehicle(f"v{k}", start=0, end=0, capacity=(3,), shift=(0, 1000)) for k in range(vehicles))
    return Problem({"bike": euclidean(points)}, fleet, tuple(shipments), drop_penalty=10_000)


@pytest.mark.parametrize(("seed", "vehicles", "windows"), [(1, 1, False), (2, 2, False), (3, 1, True), (4, 2, True)])
def test_pickup_delivery_matches_brute_force(seed: int, vehicles: int, windows: bool) -> None:
    problem = random_pdp(seed, pairs=3, vehicles=vehicles, windows=windows)
    plan = solve(problem, FAST)
    assert check_plan(problem, plan) == []
    assert plan.cost.total == brute_force(problem)


def test_depot_deliveries_match_brute_force() -> None:
    rng = random.Random(7)
    points = [(rng.randint(0, 100), rng.randint(0, 100)) for _ in range(7)]
    shipments = tuple(
        Shipment(f"c{i}", delivery=i, demand=(rng.randint(1, 4),), delivery_window=(0, 10_000), hard_deadline=True)
        for i in range(1, 7)
    )
    fleet = (
        Vehicle("a", start=0, end=0, capacity=(8,), profile="car"),
        Vehicle("b", start=0, end=0, capacity=(8,), profile="car"),
    )
    problem = Problem({"car": euclidean(points)}, fleet, shipments, objective="distance")
    for backend in ("ortools", "pyvrp"):
        plan = solve(problem, SolveParams(time_limit_s=1.0, backend=backend))
        assert check_plan(problem, plan) == []
        assert plan.cost.total == brute_force(problem), backend
