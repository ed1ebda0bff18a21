"""A search bounded by work instead of time (`SolveParams(time_limit_s=None, max_iterations=N)`)
gives the same plan whatever the process, its hash seed or the machine's load: what a simulation
needs for "same seed, same KPIs" with the VRP policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from routing.check import check_plan
from routing.greedy import greedy
from routing.params import SolveParams
from routing.solve import solve
from tests.routing.test_solve_parts import city

ROOT = Path(__file__).resolve().parents[2]

# Solves twice in a fresh interpreter (cold, then warm-started from the first plan, as a dispatch
# cycle does) and prints both plans' routes and costs.
SCRIPT = """
import json
from routing.params import SolveParams
from routing.solve import solve
from tests.routing.test_solve_parts import city

problem = city(4, orders=90, couriers=26)
params = SolveParams(time_limit_s=None, max_iterations=8, workers=2)
first = solve(problem, params)
second = solve(problem, params, initial=first)
print(json.dumps([
    {"routes": {r.vehicle_id: [[s.kind, s.shipment_id] for s in r.stops] for r in plan.routes},
     "cost": plan.cost.total, "strategy": plan.stats.strategy, "parts": plan.stats.iterations}
    for plan in (first, second)
]))
"""


def _solve_in_process(hash_seed: str) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    result: list[dict[str, object]] = json.loads(done.stdout)
    return result


def test_a_search_bounded_by_work_gives_the_same_plans_in_any_process() -> None:
    one, other = _solve_in_process("1"), _solve_in_process("2")
    # Searched by parts in two groups of couriers (26 > 2 × 12), 8 parts each, not a fallback.
    assert [plan["parts"] for plan in one] == [16, 16]
    assert all("2-groups" in str(plan["strategy"]) for plan in one)
    assert one == other


def test_a_search_bounded_by_work_improves_on_greedy() -> None:
    problem = city(4, orders=90, couriers=26)
    plan = solve(problem, SolveParams(time_limit_s=None, max_iterations=8, workers=2))
    assert check_plan(problem, plan) == []
    assert plan.cost.total < greedy(problem).cost.total


def test_no_clock_needs_a_work_bound() -> None:
    with pytest.raises(ValueError, match="max_iterations"):
        SolveParams(time_limit_s=None)
    assert SolveParams(time_limit_s=None, max_iterations=5).time_limit_s is None
