"""Warm starts from a previous plan, and stability through the reassignment cost."""

from __future__ import annotations

import importlib
from dataclasses import replace

import numpy as np
import pytest

from routing._strategy import Outcome
from routing.check import check_plan
from routing.insertion import repair, sanitize_routes
from routing.params import SolveParams
from routing.plan import Plan, SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment, Vehicle
from routing.solve import solve
from routing.types import Matrices

FAST = SolveParams(time_limit_s=0.4, backend="ortools")


def plane(points: list[tuple[int, int]]) -> Matrices:
    xy = np.asarray(points, dtype=np.float64)
    d = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    return Matrices(d, d * 5)


POINTS = [(0, 0), (100, 0), (0, 100), (10, 0), (110, 0), (10, 100), (200, 200), (210, 200), (120, 10)]


def base_problem() -> Problem:
    shipments = (
        Shipment("a", pickup=0, delivery=1, demand=(1,)),
        Shipment("b", pickup=0, delivery=2, demand=(1,)),
        Shipment("c", pickup=6, delivery=7, demand=(1,)),
    )
    fleet = (Vehicle("x", start=3, capacity=(2,)), Vehicle("y", start=5, capacity=(2,)))
    return Problem({"bike": plane(POINTS)}, fleet, shipments)


def solved(problem: Problem, initial: Plan | None = None) -> Plan:
    plan = solve(problem, FAST, initial)
    assert check_plan(problem, plan) == []
    return plan


def test_warm_start_on_a_changed_problem() -> None:
    problem = base_problem()
    first = solved(problem)
    owner_a = first.assignment()["a"]
    # Later: "b" was cancelled, "a" has been picked up, a new order "d" arrived.
    fleet = tuple(replace(v, on_board=("a",)) if v.id == owner_a else v for v in problem.vehicles)
    shipments = (problem.shipment("a"), problem.shipment("c"), Shipment("d", pickup=1, delivery=8, demand=(1,)))
    changed = replace(problem, vehicles=fleet, shipments=shipments)
    plan = solved(changed, initial=first)
    assert plan.stats.warm_start
    assert not plan.unassigned
    assert plan.assignment()["a"] == owner_a
    assert ("pickup", "a") not in [(s.kind, s.shipment_id) for s in plan.route(owner_a).stops]


def test_sanitize_removes_what_no_longer_exists() -> None:
    problem = base_problem()
    stale = build_plan(
        problem,
        {
            "x": [Stop("pickup", "a"), Stop("pickup", "b"), Stop("delivery", "a"), Stop("delivery", "b")],
            "y": [Stop("pickup", "c"), Stop("delivery", "c")],
        },
        SolverStats("test", "", 0.0),
    )
    fleet = (replace(problem.vehicles[0], on_board=("a",)), problem.vehicles[1])
    changed = replace(problem, vehicles=fleet, shipments=(problem.shipment("a"), problem.shipment("c")))
    routes = sanitize_routes(changed, stale, {"a", "c"})
    assert routes == {"x": [Stop("delivery", "a")], "y": [Stop("pickup", "c"), Stop("delivery", "c")]}


def test_infeasible_warm_start_falls_back() -> None:
    problem = base_problem()
    first = solved(problem)
    # Shifts got much shorter: the old routes are infeasible, the new plan is still valid.
    fleet = tuple(replace(v, shift=(0, 250)) for v in problem.vehicles)
    plan = solved(replace(problem, vehicles=fleet), initial=first)
    assert plan.assignment()


def test_reassignment_cost_keeps_a_stable_plan() -> None:
    # Two couriers equally placed for "s"; the first plan gives it to one of them. Then the other
    # courier moves 5 m closer: without a reassignment cost "s" switches, with one it stays.
    points = [(0, 0), (100, 0), (50, 0), (50, 50), (50, -50)]
    shipments = (Shipment("s", pickup=2, delivery=1, demand=(1,)),)
    fleet = (Vehicle("p", start=3, capacity=(1,)), Vehicle("q", start=4, capacity=(1,)))
    problem = Problem({"bike": plane(points)}, fleet, shipments, reassignment_cost=1000)
    first = solved(problem)
    owner = first.assignment()["s"]
    other = "q" if owner == "p" else "p"
    closer = [*points, (50, 45) if other == "p" else (50, -45)]
    moved = tuple(replace(v, start=5) if v.id == other else v for v in fleet)
    after = replace(problem, matrices={"bike": plane(closer)}, vehicles=moved)
    assert solved(after, initial=first).assignment()["s"] == owner
    free = replace(after, reassignment_cost=0)
    assert solved(free, initial=first).assignment()["s"] == other


def test_reassignment_cost_is_priced() -> None:
    problem = base_problem()
    first = solved(problem)
    swapped = {r.vehicle_id: list(r.stops) for r in first.routes}
    x, y = swapped.get("x", []), swapped.get("y", [])
    plan = build_plan(
        replace(problem, reassignment_cost=7),
        {"x": y, "y": x},
        SolverStats("t", "", 0.0),
        previous=first.assignment(),
    )
    assert plan.cost.reassignment == 7 * 3


def test_without_a_search_result_the_repaired_previous_plan_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    # The dispatch cycle's usual case under a short budget on a busy machine: no search returns
    # in time. Greedy from scratch would reshuffle the couriers; the repair keeps the previous
    # routes and inserts the new order, and is the cheapest valid fallback.
    solve_module = importlib.import_module("routing.solve")  # `routing.solve` is also the function
    timed_out = Outcome({}, {}, "fail_timeout", None, 0, 0, "x", False)
    seen: list[dict[str, list[Stop]] | None] = []

    def no_result(*args: object) -> list[Outcome]:
        seen.append(args[5])  # type: ignore[arg-type]
        return [timed_out]

    monkeypatch.setattr(solve_module, "_search", no_result)
    problem = replace(base_problem(), reassignment_cost=1000)
    previous = build_plan(
        problem,
        {
            "x": [Stop("pickup", "a"), Stop("pickup", "b"), Stop("delivery", "a"), Stop("delivery", "b")],
            "y": [Stop("pickup", "c"), Stop("delivery", "c")],
        },
        SolverStats("test", "", 0.0),
    )
    changed = replace(problem, shipments=(*problem.shipments, Shipment("d", pickup=1, delivery=8, demand=(1,))))
    plan = solved(changed, initial=previous)
    assert plan.stats.status == "fallback_repair (fail_timeout)"
    assert {sid: vid for sid, vid in plan.assignment().items() if sid != "d"} == previous.assignment()
    assert plan.cost.reassignment == 0
    # The search was warm-started from the repaired plan: the new order already on a route.
    (warm,) = seen
    assert warm is not None
    assert Stop("delivery", "d") in [stop for stops in warm.values() for stop in stops]


def test_a_search_warm_started_from_the_repair_is_no_worse_than_it() -> None:
    problem = replace(base_problem(), reassignment_cost=1000)
    first = solved(problem)
    changed = replace(problem, shipments=(*problem.shipments, Shipment("d", pickup=1, delivery=8, demand=(1,))))
    plan = solved(changed, initial=first)
    assert plan.cost.total <= repair(changed, first).cost.total
    assert not plan.unassigned
