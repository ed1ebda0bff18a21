"""Repair of a previous plan: its routes kept, new shipments inserted where they cost least."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from routing._insertion_costs import RouteState, Units
from routing.check import check_plan
from routing.insertion import NO_ROOM, TOO_DEAR, complete, insert, repair, walk
from routing.plan import Plan, SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment, Vehicle
from routing.types import Matrices

STATS = SolverStats("test", "", 0.0)


def line(n: int) -> Matrices:
    """Points 0..n-1 on a line, 10 s apart (distance: 30 m per second)."""
    x = np.arange(n, dtype=np.int64) * 10
    d = np.abs(x[:, None] - x[None])
    return Matrices(d, d * 3)


def manhattan(points: list[tuple[int, int]]) -> Matrices:
    """Integer Manhattan distances: the triangle inequality holds exactly, as on a street graph
    without rounding, so the vectorised estimate must be exact."""
    xy = np.asarray(points, dtype=np.int64)
    d = np.abs(xy[:, None] - xy[None]).sum(-1)
    return Matrices(d, d * 3)


def planned(problem: Problem, routes: dict[str, list[Stop]]) -> Plan:
    plan = build_plan(problem, routes, STATS)
    assert check_plan(problem, plan) == []
    return plan


# --- the vectorised pricing agrees with scheduling the route for real --------------------------


def random_problem(rng: random.Random, *, closed: bool) -> Problem:
    points = [(rng.randrange(0, 400), rng.randrange(0, 400)) for _ in range(14)]
    shipments = []
    for i in range(7):
        ready = rng.randrange(0, 300)
        due = ready + rng.randrange(150, 900)
        shipments.append(
            Shipment(
                f"s{i}",
                pickup=rng.randrange(1, 14),
                delivery=rng.randrange(1, 14),
                demand=(rng.randrange(1, 3), rng.randrange(0, 2)),
                pickup_window=(ready, ready + rng.choice([60, 400, 100_000])),
                delivery_window=(rng.choice([0, ready + 100]), due),
                hard_deadline=rng.random() < 0.3,
                lateness_cost=rng.randrange(1, 4),
                pickup_wait_cost=rng.randrange(0, 3),
                pickup_service_s=rng.randrange(0, 40),
                delivery_service_s=rng.randrange(0, 40),
                max_ride_s=rng.choice([None, 300, 700]) if i == 6 else None,  # only the one inserted
            )
        )
    shipments.append(Shipment("home", delivery=rng.randrange(1, 14), demand=(1, 0), delivery_window=(0, 500)))
    vehicle = Vehicle(
        "v", start=0, capacity=(4, 1), shift=(0, rng.choice([1500, 2500, 10_000])), end=0 if closed else None
    )
    return Problem({"bike": manhattan(points)}, (replace(vehicle, on_board=("home",)),), tuple(shipments))


def random_route(rng: random.Random, problem: Problem) -> list[Stop] | None:
    """A feasible route of some of s0..s5 and the on-board delivery, or None."""
    chosen = rng.sample([f"s{i}" for i in range(6)], rng.randrange(0, 5))
    stops: list[Stop] = [Stop("delivery", "home")]
    for sid in chosen:
        p = rng.randrange(len(stops) + 1)
        stops.insert(p, Stop("pickup", sid))
        stops.insert(rng.randrange(p + 1, len(stops) + 1), Stop("delivery", sid))
    vehicle = problem.vehicles[0]
    return stops if walk(problem, vehicle, stops).violation is None else None


def brute_force(problem: Problem, stops: list[Stop], sid: str) -> float:
    """Cheapest feasible insertion of `sid`, by scheduling every position pair."""
    vehicle = problem.vehicles[0]
    base = walk(problem, vehicle, stops).cost
    best = np.inf
    for a in range(len(stops) + 1):
        for b in range(a, len(stops) + 1):
            new = [*stops[:a], Stop("pickup", sid), *stops[a:b], Stop("delivery", sid), *stops[b:]]
            done = walk(problem, vehicle, new)
            if done.violation is None:
                best = min(best, done.cost - base)
    return best


@pytest.mark.parametrize("closed", [False, True])
def test_vectorised_insertion_cost_equals_rescheduling_every_position(closed: bool) -> None:
    rng = random.Random(7 if closed else 11)
    compared = feasible = 0
    while compared < 150:
        problem = random_problem(rng, closed=closed)
        stops = random_route(rng, problem)
        if stops is None:
            continue
        state = RouteState(problem, problem.vehicles[0], stops)
        loose = [s for s in problem.shipments if s.id not in {x.shipment_id for x in stops}]
        idx = np.arange(len(loose))
        cost, _, _ = state.pickup_delivery(Units.of(problem, loose), idx, np.zeros(len(loose)))
        for s, estimate in zip(loose, cost, strict=True):
            assert estimate == brute_force(problem, stops, s.id), (stops, s)
            compared += 1
            feasible += bool(np.isfinite(estimate))
    assert 30 < feasible < compared  # both kinds of case were exercised


def test_delivery_of_goods_on_board_is_priced_like_rescheduling() -> None:
    rng = random.Random(3)
    compared = 0
    while compared < 60:
        problem = random_problem(rng, closed=rng.random() < 0.5)
        stops = random_route(rng, problem)
        if stops is None:
            continue
        without = [s for s in stops if s.shipment_id != "home"]
        vehicle = problem.vehicles[0]
        state = RouteState(problem, vehicle, without)
        home = [problem.shipment("home")]
        cost, _ = state.delivery(Units.of(problem, home), np.arange(1), np.zeros(1))
        base = walk(problem, vehicle, without).cost
        exact = [
            done.cost - base
            for b in range(len(without) + 1)
            if (done := walk(problem, vehicle, [*without[:b], Stop("delivery", "home"), *without[b:]])).violation
            is None
        ]
        assert cost[0] == min(exact, default=np.inf)
        compared += 1


def test_walk_prices_like_build_plan_and_checks_like_check_plan() -> None:
    rng = random.Random(5)
    walked = 0
    while walked < 100:
        problem = random_problem(rng, closed=rng.random() < 0.5)
        stops = [Stop("delivery", "home")]
        for sid in rng.sample([f"s{i}" for i in range(7)], 3):
            stops += [Stop("pickup", sid), Stop("delivery", sid)]
        plan = build_plan(problem, {"v": stops}, STATS)
        done = walk(problem, problem.vehicles[0], stops)
        assert (done.violation is None) == (check_plan(problem, plan) == [])
        if done.violation is None:
            assert done.cost == plan.cost.travel + plan.cost.lateness + plan.cost.waiting
        walked += 1


# --- repair: what it keeps, where it inserts, what it leaves out --------------------------------


def two_couriers(**changes: object) -> Problem:
    shipments = (
        Shipment("a", pickup=2, delivery=8, demand=(1,)),
        Shipment("b", pickup=12, delivery=18, demand=(1,)),
    )
    fleet = (Vehicle("left", start=0, capacity=(2,)), Vehicle("right", start=10, capacity=(2,)))
    problem = Problem({"bike": line(20)}, fleet, shipments, reassignment_cost=500)
    return replace(problem, **changes)  # type: ignore[arg-type]


def test_new_order_is_inserted_where_a_route_already_passes() -> None:
    problem = two_couriers()
    previous = planned(
        problem,
        {
            "left": [Stop("pickup", "a"), Stop("delivery", "a")],
            "right": [Stop("pickup", "b"), Stop("delivery", "b")],
        },
    )
    # "c" lies on the left courier's way from 2 to 8: in the middle of that route it costs no
    # travel at all; anywhere else it is a detour.
    changed = replace(problem, shipments=(*problem.shipments, Shipment("c", pickup=4, delivery=6, demand=(1,))))
    plan = repair(changed, previous)
    assert check_plan(changed, plan) == []
    assert plan.route("left").stops == (
        Stop("pickup", "a"),
        Stop("pickup", "c"),
        Stop("delivery", "c"),
        Stop("delivery", "a"),
    )
    assert plan.route("right").stops == previous.route("right").stops
    assert plan.cost.travel == previous.cost.travel
    assert plan.stats.backend == "repair"


def test_a_full_courier_is_passed_over() -> None:
    problem = two_couriers()
    fleet = (replace(problem.vehicles[0], capacity=(1,)), problem.vehicles[1])
    problem = replace(problem, vehicles=fleet)
    previous = planned(problem, {"left": [Stop("pickup", "a"), Stop("delivery", "a")]})
    new = Shipment("c", pickup=4, delivery=6, demand=(1,))
    changed = replace(problem, shipments=(*problem.shipments, new))
    plan = repair(changed, previous)
    assert check_plan(changed, plan) == []
    # Carrying "c" inside the left route would need room for two; after "a" is delivered it is
    # a detour back, which still beats the right courier's ride.
    left = plan.route("left").stops
    assert left.index(Stop("pickup", "c")) > left.index(Stop("delivery", "a"))


def test_previous_assignments_stay_and_moving_one_is_priced() -> None:
    problem = two_couriers()
    previous = planned(
        problem,
        {
            "left": [Stop("pickup", "a"), Stop("delivery", "a")],
            "right": [Stop("pickup", "b"), Stop("delivery", "b")],
        },
    )
    # The left courier now declines "a": repair must move it, and pays for the move.
    changed = replace(problem, shipments=(replace(problem.shipments[0], excluded=("left",)), problem.shipments[1]))
    plan = repair(changed, previous)
    assert check_plan(changed, plan) == []
    assert plan.assignment() == {"a": "right", "b": "right"}
    assert plan.cost.reassignment == 500


def test_goods_on_board_missing_from_the_previous_plan_go_back_to_their_carrier() -> None:
    problem = two_couriers()
    fleet = (replace(problem.vehicles[0], on_board=("a",)), problem.vehicles[1])
    changed = replace(problem, vehicles=fleet)
    previous = planned(problem, {"right": [Stop("pickup", "b"), Stop("delivery", "b")]})
    plan = repair(changed, previous)
    assert check_plan(changed, plan) == []
    assert plan.route("left").stops == (Stop("delivery", "a"),)


def test_a_group_is_inserted_whole_pickups_before_deliveries() -> None:
    problem = two_couriers()
    parts = (
        Shipment("g1", pickup=3, delivery=15, demand=(1,), group="g"),
        Shipment("g2", pickup=5, delivery=15, demand=(1,), group="g"),
    )
    previous = planned(problem, {"left": [Stop("pickup", "a"), Stop("delivery", "a")]})
    changed = replace(problem, shipments=(*problem.shipments, *parts))
    plan = repair(changed, previous)
    assert check_plan(changed, plan) == []
    owner = plan.assignment()["g1"]
    assert plan.assignment()["g2"] == owner
    kinds = [s.kind for s in plan.route(owner).stops if s.shipment_id in ("g1", "g2")]
    assert kinds == ["pickup", "pickup", "delivery", "delivery"]


def test_a_group_all_on_board_goes_back_to_its_carrier_as_its_deliveries() -> None:
    # Both parts of a split order collected, and the plan being repaired does not have them
    # (found in a simulated lunch peak: the repair fell over on a group with no pickup).
    problem = two_couriers()
    parts = (
        Shipment("g1", pickup=3, delivery=15, demand=(1,), group="g"),
        Shipment("g2", pickup=5, delivery=15, demand=(1,), group="g"),
    )
    fleet = (replace(problem.vehicles[0], on_board=("g1", "g2")), problem.vehicles[1])
    changed = replace(problem, vehicles=fleet, shipments=(*problem.shipments, *parts))
    previous = planned(problem, {"right": [Stop("pickup", "b"), Stop("delivery", "b")]})
    plan = repair(changed, previous)
    assert check_plan(changed, plan) == []
    stops = [s for s in plan.route("left").stops if s.shipment_id in ("g1", "g2")]
    assert sorted(stops) == [Stop("delivery", "g1"), Stop("delivery", "g2")]


def test_what_fits_nowhere_stays_unassigned_with_a_reason() -> None:
    problem = two_couriers()
    fleet = (replace(problem.vehicles[0], capacity=(1,)), problem.vehicles[1])
    a = replace(problem.shipments[0], pickup_window=(0, 20))
    problem = replace(problem, vehicles=fleet, shipments=(a, problem.shipments[1]))
    previous = planned(problem, {"left": [Stop("pickup", "a"), Stop("delivery", "a")]})
    # Only the left courier may take "late", and alone they could: but before "a" its pickup
    # window closes, during "a" there is no room, after "a" the hard deadline has passed.
    late = Shipment(
        "late", pickup=4, delivery=6, demand=(1,), delivery_window=(0, 60), hard_deadline=True, excluded=("right",)
    )
    changed = replace(problem, shipments=(*problem.shipments, late))
    plan = repair(changed, previous)
    assert check_plan(changed, plan) == []
    assert [(u.shipment_id, u.reason) for u in plan.unassigned] == [("late", NO_ROOM)]
    assert plan.route("left").stops == previous.route("left").stops


def test_an_insertion_dearer_than_the_drop_penalty_is_not_made() -> None:
    problem = two_couriers(drop_penalty=30)
    routes, why = insert(problem, {}, [Shipment("far", pickup=1, delivery=19, demand=(1,))])
    assert why == {"far": TOO_DEAR}
    assert routes == {"left": [], "right": []}


# --- complete: a search's plan with what it left out put back ---------------------------------


def test_what_a_plan_left_out_but_could_serve_is_inserted() -> None:
    problem = two_couriers()
    # A search stopped after its first solution: "b" left out although the right courier is free.
    first = planned(problem, {"left": [Stop("pickup", "a"), Stop("delivery", "a")]})
    assert [u.shipment_id for u in first.unassigned] == ["b"]
    plan = complete(problem, first, reasons={})
    assert check_plan(problem, plan) == []
    assert plan.unassigned == ()
    assert plan.route("right").stops == (Stop("pickup", "b"), Stop("delivery", "b"))
    assert plan.route("left").stops == first.route("left").stops
    assert plan.cost.total < first.cost.total
    assert plan.stats.status.endswith("(+1 inserted)")


def test_complete_leaves_unservable_shipments_and_full_plans_alone() -> None:
    problem = two_couriers()
    first = planned(problem, {"left": [Stop("pickup", "a"), Stop("delivery", "a")]})
    # Known unservable (the caller's reasons): it stays out with its reason, the plan unchanged.
    assert complete(problem, first, reasons={"b": "no courier can carry it"}) is first
    full = planned(
        problem, {"right": [Stop("pickup", "b"), Stop("delivery", "b")], "left": list(first.route("left").stops)}
    )
    assert complete(problem, full, reasons={}) is full


def test_complete_prices_moves_against_the_warm_start() -> None:
    problem = two_couriers()
    first = planned(problem, {"left": [Stop("pickup", "a"), Stop("delivery", "a")]})
    # Alone, "b" is cheapest on the right courier (80 s from 10 against 100 s after "a" on the
    # left); but it was the left courier's in the previous plan, and moving it costs 500.
    assert complete(problem, first, reasons={}).assignment()["b"] == "right"
    plan = complete(problem, first, reasons={}, previous={"a": "left", "b": "left"})
    assert plan.assignment()["b"] == "left"
    assert plan.cost.reassignment == 0


def test_repair_of_random_plans_is_always_valid() -> None:
    rng = random.Random(1)
    for _ in range(40):
        points = [(rng.randrange(0, 300), rng.randrange(0, 300)) for _ in range(30)]
        shipments = tuple(
            Shipment(
                f"s{i}",
                pickup=rng.randrange(30),
                delivery=rng.randrange(30),
                demand=(rng.randrange(1, 3),),
                pickup_window=(r := rng.randrange(0, 600), r + rng.choice([100, 10_000])),
                delivery_window=(0, r + rng.randrange(200, 900)),
                hard_deadline=rng.random() < 0.3,
                max_ride_s=rng.choice([None, 400]),
                pickup_service_s=30,
                delivery_service_s=30,
                excluded=("v0",) if rng.random() < 0.2 else (),
            )
            for i in range(16)
        )
        fleet = tuple(
            Vehicle(f"v{k}", start=rng.randrange(30), capacity=(3,), shift=(0, 2000), end=rng.choice([None, 0]))
            for k in range(4)
        )
        first = Problem({"bike": manhattan(points)}, fleet, shipments[:10], reassignment_cost=100)
        previous = repair(first, build_plan(first, {}, STATS))
        assert check_plan(first, previous) == []
        later = replace(first, shipments=shipments[2:])  # two done, six new
        plan = repair(later, previous)
        assert check_plan(later, plan) == []
        kept = {sid: vid for sid, vid in previous.assignment().items() if sid in later.shipment_index}
        assert all(plan.assignment().get(sid) == vid for sid, vid in kept.items())
