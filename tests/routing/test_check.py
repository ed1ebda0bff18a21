"""check_plan catches violations constructed by hand, and accepts a valid plan."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from routing.check import check_plan
from routing.plan import Plan, SolverStats, Stop, Visit, build_plan
from routing.problem import Problem, Shipment, Vehicle
from routing.types import Matrices

STATS = SolverStats("hand", "feasible", 0.0)


def line_matrices(n: int) -> Matrices:
    """Locations on a line, 10 s and 100 m apart."""
    idx = np.arange(n)
    gap = np.abs(idx[:, None] - idx[None, :]).astype(np.int64)
    return Matrices(gap * 10, gap * 100)


def make_problem(**shipment_overrides: object) -> Problem:
    a = Shipment("a", pickup=1, delivery=2, demand=(2, 100), **shipment_overrides)  # type: ignore[arg-type]
    b = Shipment("b", pickup=3, delivery=4, demand=(1, 50))
    van = Vehicle("van", start=0, end=0, capacity=(2, 1000), shift=(0, 1000))
    bike = Vehicle("bike", start=0, capacity=(1, 500), shift=(0, 1000))
    return Problem({"bike": line_matrices(5)}, (van, bike), (a, b))


def plan_of(problem: Problem, sequences: dict[str, list[Stop]]) -> Plan:
    return build_plan(problem, sequences, STATS)


def valid_sequences() -> dict[str, list[Stop]]:
    return {
        "van": [Stop("pickup", "a"), Stop("delivery", "a")],
        "bike": [Stop("pickup", "b"), Stop("delivery", "b")],
    }


def test_valid_plan_has_no_violation() -> None:
    problem = make_problem()
    assert check_plan(problem, plan_of(problem, valid_sequences())) == []


def test_capacity_in_second_dimension() -> None:
    problem = make_problem()
    # The bike carries 1 unit, 500 g: b alone fits, a (2 units) does not.
    seq = {"bike": [Stop("pickup", "a"), Stop("delivery", "a"), Stop("pickup", "b"), Stop("delivery", "b")]}
    errors = check_plan(problem, plan_of(problem, seq))
    assert any("load" in e for e in errors)


def test_capacity_when_carrying_two_at_once() -> None:
    problem = make_problem()
    seq = {"van": [Stop("pickup", "a"), Stop("pickup", "b"), Stop("delivery", "a"), Stop("delivery", "b")]}
    assert any("load [3, 150]" in e for e in check_plan(problem, plan_of(problem, seq)))


def test_delivery_before_pickup() -> None:
    problem = make_problem()
    seq = valid_sequences()
    seq["van"] = [Stop("delivery", "a"), Stop("pickup", "a")]
    assert any("before picking it up" in e for e in check_plan(problem, plan_of(problem, seq)))


def test_pickup_and_delivery_on_different_vehicles() -> None:
    problem = make_problem()
    seq = {"van": [Stop("pickup", "a"), Stop("pickup", "b"), Stop("delivery", "b")], "bike": [Stop("delivery", "a")]}
    errors = check_plan(problem, plan_of(problem, seq))
    assert any("split over vehicles" in e for e in errors)


def test_hard_pickup_window() -> None:
    problem = make_problem(pickup_window=(0, 5))  # pickup at location 1 takes 10 s to reach
    assert any("outside window" in e for e in check_plan(problem, plan_of(problem, valid_sequences())))


def test_hard_deadline_and_soft_lateness() -> None:
    hard = make_problem(delivery_window=(0, 15), hard_deadline=True)
    assert any("outside window" in e for e in check_plan(hard, plan_of(hard, valid_sequences())))
    soft = make_problem(delivery_window=(0, 15), lateness_cost=3)
    plan = plan_of(soft, valid_sequences())
    assert check_plan(soft, plan) == []
    assert plan.cost.lateness == (20 - 15) * 3


def test_goods_waiting_at_the_pickup_are_priced_from_the_moment_they_are_ready() -> None:
    problem = make_problem(pickup_window=(4, 1000), pickup_wait_cost=2)  # the van is there at 10 s
    plan = plan_of(problem, valid_sequences())
    assert check_plan(problem, plan) == []
    assert plan.cost.waiting == (10 - 4) * 2
    assert plan.cost.total == plan.cost.travel + plan.cost.lateness + plan.cost.waiting
    understated = replace(plan, cost=replace(plan.cost, waiting=0))
    assert check_plan(problem, understated) == ["reported waiting cost 0 != recomputed 12"]


def test_max_ride_time() -> None:
    problem = make_problem(max_ride_s=5)
    assert any("rides 10 s" in e for e in check_plan(problem, plan_of(problem, valid_sequences())))


def test_shift_end() -> None:
    problem = make_problem()
    short = replace(problem.vehicles[0], shift=(0, 30))  # pickup 10, delivery 20, back at depot 40
    problem = replace(problem, vehicles=(short, problem.vehicles[1]))
    assert any("after its shift" in e for e in check_plan(problem, plan_of(problem, valid_sequences())))


def test_missing_and_duplicate_shipments() -> None:
    problem = make_problem()
    seq = valid_sequences()
    del seq["bike"]
    plan = plan_of(problem, seq)
    assert check_plan(problem, plan) == []  # b is reported unassigned
    no_b = replace(plan, unassigned=())
    assert any("neither routed nor unassigned" in e for e in check_plan(problem, no_b))
    twice = replace(plan_of(problem, valid_sequences()), unassigned=plan.unassigned)
    assert any("both routed and unassigned" in e for e in check_plan(problem, twice))


def test_on_board_shipment_must_be_delivered_by_its_vehicle() -> None:
    problem = make_problem()
    van = replace(problem.vehicles[0], on_board=("b",))
    problem = replace(problem, vehicles=(van, problem.vehicles[1]))
    ok = {"van": [Stop("delivery", "b"), Stop("pickup", "a"), Stop("delivery", "a")]}
    assert check_plan(problem, plan_of(problem, ok)) == []
    wrong = {"van": [Stop("pickup", "a"), Stop("delivery", "a")], "bike": [Stop("delivery", "b")]}
    assert any("fixed to van" in e for e in check_plan(problem, plan_of(problem, wrong)))
    dropped = {"van": [Stop("pickup", "a"), Stop("delivery", "a")]}
    assert any("not delivered by van" in e for e in check_plan(problem, plan_of(problem, dropped)))
    picked_again = {"van": [Stop("pickup", "b"), Stop("delivery", "b")]}
    assert any("needs 0 pickup" in e for e in check_plan(problem, plan_of(problem, picked_again)))


def test_times_are_recomputed_not_trusted() -> None:
    problem = make_problem()
    plan = plan_of(problem, valid_sequences())
    route = plan.routes[0]
    early = replace(route.visits[2], start_s=route.visits[2].start_s - 5)  # faster than the matrix
    forged = replace(
        plan, routes=(replace(route, visits=(*route.visits[:2], early, *route.visits[3:])), plan.routes[1])
    )
    assert any("before it can arrive" in e for e in check_plan(problem, forged))


def test_misreported_cost() -> None:
    problem = make_problem()
    plan = plan_of(problem, valid_sequences())
    cheaper = replace(plan, cost=replace(plan.cost, travel=plan.cost.travel - 1))
    assert any("travel cost" in e for e in check_plan(problem, cheaper))


def test_route_structure() -> None:
    problem = make_problem()
    plan = plan_of(problem, valid_sequences())
    van, bike = plan.routes
    no_end = replace(van, visits=van.visits[:-1])
    assert any("end visit" in e for e in check_plan(problem, replace(plan, routes=(no_end, bike))))
    extra_end = replace(bike, visits=(*bike.visits, Visit("end", 0, 99, 99, 99, (0, 0))))
    assert any("open route" in e for e in check_plan(problem, replace(plan, routes=(van, extra_end))))


@pytest.mark.parametrize("location", [1, 3])
def test_wrong_location(location: int) -> None:
    problem = make_problem()
    plan = plan_of(problem, valid_sequences())
    van = plan.routes[0]
    moved = replace(van.visits[2], location=location)
    bad = replace(van, visits=(*van.visits[:2], moved, *van.visits[3:]))
    assert any("expected 2" in e for e in check_plan(problem, replace(plan, routes=(bad, plan.routes[1]))))
