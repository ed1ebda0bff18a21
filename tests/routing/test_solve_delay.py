"""A delay cost prices the route time before each delivery (the customer's wait for the
courier's other stops): the solver then sends a second courier rather than let a customer wait
behind another's drop-off, while lateness past a promise still comes first."""

from __future__ import annotations

import time

import numpy as np
import pytest

from routing._ortools import run as ortools_run
from routing._strategy import Strategy
from routing.check import check_plan
from routing.params import SolveParams
from routing.plan import Plan, SolverStats, build_plan
from routing.problem import Problem, Shipment, Vehicle
from routing.types import Matrices

FAST = SolveParams(time_limit_s=0.5, backend="ortools")


def matrices(seconds: list[list[int]]) -> Matrices:
    durations = np.asarray(seconds, dtype=np.int64)
    return Matrices(durations, durations * 5)


def solved(problem: Problem) -> Plan:
    """The OR-Tools model searched alone (`solve` would also get some of these plans from its
    greedy fallback, priced by the plan's cost), its objective checked against the plan's."""
    strategy = Strategy("parallel_cheapest_insertion", "guided_local_search")
    outcome = ortools_run(problem, problem.shipments, FAST, strategy, time.monotonic() + 0.4)
    plan = build_plan(problem, outcome.sequences, SolverStats("ortools", "test", 0.0), starts=outcome.starts)
    assert check_plan(problem, plan) == []
    assert outcome.objective == plan.cost.total
    return plan


# The store (0) and two doors on one street beyond it: A (1) after 100 s, B (2) after 200 s.
LINE = matrices([[0, 100, 200], [100, 0, 100], [200, 100, 0]])


@pytest.mark.parametrize(("delay_cost", "couriers_used"), [(0, 1), (1, 2)])
def test_a_delay_cost_sends_a_second_courier_rather_than_keep_a_customer_waiting(delay_cost, couriers_used) -> None:
    # One courier riding on to B after A's 300 s hand-over saves 100 s of riding; B then waits
    # 400 s longer. Free of charge without a delay cost, dearer than the riding with one.
    shipments = tuple(
        Shipment(name, pickup=0, delivery=door, demand=(1,), delivery_service_s=300, delay_cost=delay_cost)
        for name, door in (("a", 1), ("b", 2))
    )
    fleet = (Vehicle("v1", start=0, capacity=(4,)), Vehicle("v2", start=0, capacity=(4,)))

    plan = solved(Problem({"bike": LINE}, fleet, shipments))

    assert plan.vehicles_used == couriers_used
    assert not plan.unassigned
    delivered = {v.shipment_id: v.start_s for r in plan.routes for v in r.visits if v.kind == "delivery"}
    assert plan.cost.delay == delay_cost * sum(delivered.values())
    assert delivered["b"] == (200 if couriers_used == 2 else 500)


def test_a_promise_about_to_be_broken_goes_before_a_quicker_delivery() -> None:
    # From the store (0): door A (1) 100 s away, door B (2) 50 s the other way. B first would
    # cut the waiting, but A is due at 150 s and each late second costs 10.
    roads = matrices([[0, 100, 50], [100, 0, 150], [50, 150, 0]])
    shipments = (
        Shipment("a", pickup=0, delivery=1, demand=(1,), delivery_window=(0, 150), lateness_cost=10, delay_cost=1),
        Shipment("b", pickup=0, delivery=2, demand=(1,), delivery_window=(0, 10_000), lateness_cost=1, delay_cost=1),
    )

    plan = solved(Problem({"bike": roads}, (Vehicle("v", start=0, capacity=(4,)),), shipments))

    (route,) = plan.routes
    assert [v.shipment_id for v in route.visits if v.kind == "delivery"] == ["a", "b"]
    assert plan.cost.lateness == 0
    assert plan.cost.delay == 100 + 250


def test_waiting_for_the_goods_is_not_delay() -> None:
    # The bags are ready at 500 s; the courier waits at the store and reaches the door 100 s
    # after leaving. The delay counts the route's riding and service (100 s), not the wait.
    late_bags = Shipment("bags", pickup=0, delivery=1, demand=(1,), pickup_window=(500, 10_000), delay_cost=2)

    plan = solved(Problem({"bike": LINE}, (Vehicle("v", start=0, capacity=(4,)),), (late_bags,)))

    (route,) = plan.routes
    assert [v.start_s for v in route.visits if v.kind == "delivery"] == [600]
    assert plan.cost.delay == 2 * 100
