"""Vehicles with different profiles travel on their own matrices."""

from __future__ import annotations

import numpy as np

from routing.check import check_plan
from routing.params import SolveParams
from routing.problem import Problem, Shipment, Vehicle
from routing.solve import solve
from routing.types import Matrices, Profile


def line(n: int, seconds_per_step: int) -> Matrices:
    idx = np.arange(n)
    gap = np.abs(idx[:, None] - idx[None, :]).astype(np.int64)
    return Matrices(gap * seconds_per_step, gap * 100)


def test_each_vehicle_uses_its_profile_matrices() -> None:
    matrices: dict[Profile, Matrices] = {"bike": line(6, 60), "car": line(6, 20)}
    # A deadline only the car can make; a short hop the bike does.
    far = Shipment("far", pickup=0, delivery=5, demand=(1,), delivery_window=(0, 110), hard_deadline=True)
    near = Shipment("near", pickup=0, delivery=1, demand=(1,))
    fleet = (
        Vehicle("bike", start=0, capacity=(1,), profile="bike"),
        Vehicle("car", start=0, capacity=(1,), profile="car"),
    )
    problem = Problem(matrices, fleet, (far, near))
    plan = solve(problem, SolveParams(time_limit_s=0.4, backend="ortools"))
    assert check_plan(problem, plan) == []
    assert plan.assignment() == {"far": "car", "near": "bike"}
    delivery = plan.route("car").visits[-1]
    assert delivery.arrival_s == 5 * 20  # car speed, not bike speed
    assert plan.route("bike").visits[-1].arrival_s == 60
    assert plan.cost.travel == 100 + 60


def test_distance_objective_uses_metres() -> None:
    matrices: dict[Profile, Matrices] = {"car": line(4, 30)}
    problem = Problem(
        matrices,
        (Vehicle("c", start=0, end=0, capacity=(1,), profile="car"),),
        (Shipment("s", pickup=1, delivery=3, demand=(1,)),),
        objective="distance",
    )
    plan = solve(problem, SolveParams(time_limit_s=0.3, backend="ortools"))
    assert check_plan(problem, plan) == []
    assert plan.cost.travel == plan.routes[0].distance_m == 600
