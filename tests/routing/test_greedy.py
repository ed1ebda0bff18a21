"""The nearest-available-courier baseline."""

from __future__ import annotations

import numpy as np

from routing.check import check_plan
from routing.greedy import NO_COURIER, extend, greedy
from routing.params import SolveParams
from routing.plan import SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment, Vehicle
from routing.solve import solve
from routing.types import Matrices


def line(n: int) -> Matrices:
    idx = np.arange(n)
    gap = np.abs(idx[:, None] - idx[None, :]).astype(np.int64) * 60
    return Matrices(gap, gap * 5)


def test_courier_who_reaches_the_pickup_first_gets_it() -> None:
    shipments = (
        Shipment("a", pickup=1, delivery=2, demand=(1,), pickup_window=(0, 10_000)),
        Shipment("b", pickup=8, delivery=9, demand=(1,), pickup_window=(100, 10_000)),
    )
    fleet = (Vehicle("left", start=0, capacity=(1,)), Vehicle("right", start=9, capacity=(1,)))
    problem = Problem({"bike": line(10)}, fleet, shipments)
    plan = greedy(problem)
    assert check_plan(problem, plan) == []
    assert plan.assignment() == {"a": "left", "b": "right"}
    assert plan.stats.backend == "greedy"


def test_appends_and_reports_what_does_not_fit() -> None:
    shipments = tuple(
        Shipment(f"s{i}", pickup=0, delivery=5, demand=(1,), delivery_window=(0, 1000), hard_deadline=True)
        for i in range(3)
    )
    problem = Problem({"bike": line(6)}, (Vehicle("only", start=0, capacity=(1,)),), shipments)
    plan = greedy(problem)
    assert check_plan(problem, plan) == []
    # Each delivery is 300 s away and the store 300 s back: the third would arrive at 1500 s.
    assert len(plan.assignment()) == 2
    assert [u.reason for u in plan.unassigned] == [NO_COURIER]


def test_on_board_goods_are_delivered_first() -> None:
    shipments = (
        Shipment("held", pickup=3, delivery=4, demand=(2,)),
        Shipment("next", pickup=1, delivery=2, demand=(1,)),
    )
    courier = Vehicle("c", start=1, capacity=(2,), on_board=("held",))
    problem = Problem({"bike": line(5)}, (courier,), shipments)
    plan = greedy(problem)
    assert check_plan(problem, plan) == []
    assert [(s.kind, s.shipment_id) for s in plan.routes[0].stops] == [
        ("delivery", "held"),
        ("pickup", "next"),
        ("delivery", "next"),
    ]


def test_a_split_order_on_board_is_delivered_before_anything_new() -> None:
    # Both parts of a split order are on board and the shift leaves room for that delivery only:
    # a ready order must not take the time first (a plan that leaves goods on a bike is invalid).
    shipments = (
        Shipment("o1@a", pickup=3, delivery=4, demand=(1,), group="o1"),
        Shipment("o1@b", pickup=2, delivery=4, demand=(1,), group="o1"),
        Shipment("new", pickup=1, delivery=0, demand=(1,)),
    )
    courier = Vehicle("c", start=1, capacity=(3,), shift=(0, 400), on_board=("o1@a", "o1@b"))
    problem = Problem({"bike": line(5)}, (courier,), shipments)
    plan = greedy(problem)
    assert check_plan(problem, plan) == []
    assert plan.assignment() == {"o1@a": "c", "o1@b": "c"}
    assert [u.shipment_id for u in plan.unassigned] == ["new"]


def test_depot_deliveries_respect_capacity() -> None:
    shipments = tuple(Shipment(f"c{i}", delivery=i, demand=(2,)) for i in range(1, 5))
    fleet = (Vehicle("a", start=0, end=0, capacity=(4,)), Vehicle("b", start=0, end=0, capacity=(4,)))
    problem = Problem({"bike": line(5)}, fleet, shipments)
    plan = greedy(problem)
    assert check_plan(problem, plan) == []
    assert not plan.unassigned


def test_solver_beats_or_matches_greedy() -> None:
    rng = np.random.default_rng(3)
    shipments = tuple(
        Shipment(
            f"s{i}",
            pickup=int(rng.integers(0, 3)),
            delivery=int(rng.integers(3, 12)),
            demand=(1,),
            pickup_window=(int(rng.integers(0, 300)), 10_000),
            delivery_window=(0, 1500),
        )
        for i in range(10)
    )
    fleet = tuple(Vehicle(f"v{k}", start=k, capacity=(3,)) for k in range(3))
    problem = Problem({"bike": line(12)}, fleet, shipments)
    baseline = greedy(problem)
    plan = solve(problem, SolveParams(time_limit_s=0.5, backend="ortools"))
    assert check_plan(problem, baseline) == []
    assert check_plan(problem, plan) == []
    assert plan.cost.total <= baseline.cost.total


def test_extend_appends_to_the_courier_free_soonest() -> None:
    shipments = (
        Shipment("a", pickup=1, delivery=2, demand=(1,)),
        Shipment("b", pickup=2, delivery=9, demand=(1,)),
        Shipment("late", pickup=3, delivery=4, demand=(1,), delivery_window=(0, 10), hard_deadline=True),
    )
    fleet = (Vehicle("busy", start=0, capacity=(1,)), Vehicle("far", start=9, capacity=(1,)))
    problem = Problem({"bike": line(10)}, fleet, shipments)
    routes = {"busy": [Stop("pickup", "a"), Stop("delivery", "a")], "far": []}
    extended = extend(problem, routes, {}, [problem.shipment("b"), problem.shipment("late")])
    # "busy" ends at 2, right where "b" is picked up; "late" cannot be delivered by t=10.
    assert extended["busy"] == [*routes["busy"], Stop("pickup", "b"), Stop("delivery", "b")]
    assert extended["far"] == []
    plan = build_plan(problem, extended, SolverStats("t", "", 0.0))
    assert check_plan(problem, plan) == []


def test_pickups_go_only_to_couriers_with_room_in_every_dimension() -> None:
    # Dimensions: bags, grams, cold box. The nearest courier has no cold box (capacity 0): the
    # frozen order must go to the far one, and bags must count too.
    shipments = (
        Shipment("frozen", pickup=1, delivery=2, demand=(1, 1000, 1)),
        Shipment("bulky", pickup=1, delivery=2, demand=(5, 1000, 0), pickup_window=(0, 10_000)),
    )
    fleet = (
        Vehicle("near", start=0, capacity=(4, 30_000, 0)),
        Vehicle("far", start=9, capacity=(4, 30_000, 1)),
    )
    problem = Problem({"bike": line(10)}, fleet, shipments)
    plan = greedy(problem, reasons={})
    assert check_plan(problem, plan) == []
    assert plan.assignment() == {"frozen": "far"}
    assert [u.shipment_id for u in plan.unassigned] == ["bulky"]
    # `solve` prices greedy's plan as its fallback: what it returns must be valid as well.
    solved = solve(problem, SolveParams(time_limit_s=0.3, backend="ortools"))
    assert check_plan(problem, solved) == []
    assert solved.assignment() == {"frozen": "far"}


def test_each_courier_is_timed_on_their_own_profiles_streets() -> None:
    bike_streets = Matrices(line(10).durations // 4, line(10).distances)  # 15 s a block
    car_streets = line(10)  # 60 s a block
    shipments = (Shipment("a", pickup=5, delivery=6, demand=(1,), pickup_window=(0, 10_000)),)
    bike = Vehicle("bike", start=0, capacity=(1,), profile="bike")

    def winner(car: Vehicle) -> str:
        problem = Problem({"bike": bike_streets, "car": car_streets}, (bike, car), shipments)
        plan = greedy(problem)
        assert check_plan(problem, plan) == []
        return plan.assignment()["a"]

    # Reach times: bike 5 blocks × 15 s = 75 s; a car 2 blocks away 120 s, 1 block away 60 s.
    assert winner(Vehicle("car", start=3, capacity=(1,), profile="car")) == "bike"
    assert winner(Vehicle("car", start=4, capacity=(1,), profile="car")) == "car"
    # The car's way back to its end counts on car streets: pickup at 60 s, delivered at 120 s,
    # home (2 blocks) at 240 s — past a shift ending at 150 s.
    assert winner(Vehicle("car", start=4, capacity=(1,), profile="car", end=4, shift=(0, 150))) == "bike"
