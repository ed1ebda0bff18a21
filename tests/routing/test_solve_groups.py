"""Groups of shipments (an order picked at two stores) ride on one vehicle, every pickup before
any delivery; excluded vehicles (a courier who declined) never carry a shipment."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from routing.check import check_plan
from routing.greedy import greedy
from routing.params import SolveParams
from routing.plan import Plan, SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment, Vehicle
from routing.solve import solve
from routing.types import Matrices, Profile

FAST = SolveParams(time_limit_s=0.5, backend="ortools")


def line(n: int, step: int = 60) -> Matrices:
    idx = np.arange(n)
    gap = np.abs(idx[:, None] - idx[None, :]).astype(np.int64)
    return Matrices(gap * step, gap * step * 5)


def split_order(door: int = 3, stores: tuple[int, int] = (1, 5), **extra: object) -> tuple[Shipment, Shipment]:
    return (
        Shipment("o1@a", pickup=stores[0], delivery=door, demand=(1,), group="o1", **extra),  # type: ignore[arg-type]
        Shipment("o1@b", pickup=stores[1], delivery=door, demand=(1,), group="o1", **extra),  # type: ignore[arg-type]
    )


def assert_whole(problem: Problem, plan: Plan, group: tuple[str, ...]) -> str:
    """The group's vehicle, after checking it carries all parts with pickups first."""
    assert check_plan(problem, plan) == []
    owners = {plan.assignment().get(sid) for sid in group}
    assert len(owners) == 1, owners
    assert None not in owners
    (vid,) = owners
    stops = [s for s in plan.route(str(vid)).stops if s.shipment_id in group]
    kinds = [s.kind for s in stops]
    assert kinds.index("delivery") > max(i for i, k in enumerate(kinds) if k == "pickup")
    return str(vid)


@pytest.mark.parametrize("planner", ["ortools", "greedy"])
def test_split_order_rides_with_one_courier(planner: str) -> None:
    # Each store has a courier next to it: without the group each would take "their" part.
    vehicles = (Vehicle("west", start=0, capacity=(4,)), Vehicle("east", start=6, capacity=(4,)))
    problem = Problem({"bike": line(7)}, vehicles, split_order())
    plan = solve(problem, FAST) if planner == "ortools" else greedy(problem)
    assert not plan.unassigned
    assert_whole(problem, plan, ("o1@a", "o1@b"))


def test_groups_hold_in_a_search_by_parts() -> None:
    # Enough couriers for the search by parts (more than one part's worth) and a few groups.
    rng = np.random.default_rng(3)
    n = 40
    xy = rng.uniform(0, 3000, size=(n, 2))
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    matrices: dict[Profile, Matrices] = {"bike": Matrices(dist // 5, dist)}
    vehicles = tuple(Vehicle(f"v{i}", start=i, capacity=(3,)) for i in range(10))
    shipments: list[Shipment] = []
    for k in range(6):
        group = f"g{k}"
        door = 10 + k
        shipments += [
            Shipment(f"{group}a", pickup=20 + k, delivery=door, demand=(1,), group=group, delivery_window=(0, 900)),
            Shipment(f"{group}b", pickup=30 + k, delivery=door, demand=(1,), group=group, delivery_window=(0, 900)),
        ]
    shipments += [Shipment(f"s{k}", pickup=26 + k, delivery=16 + k, demand=(1,)) for k in range(4)]
    problem = Problem(matrices, vehicles, tuple(shipments))
    plan = solve(problem, SolveParams(time_limit_s=1.5, backend="ortools", workers=1))
    assert not plan.unassigned
    for k in range(6):
        assert_whole(problem, plan, (f"g{k}a", f"g{k}b"))


def test_warm_start_that_splits_a_group_is_repaired() -> None:
    vehicles = (Vehicle("west", start=0, capacity=(4,)), Vehicle("east", start=6, capacity=(4,)))
    problem = Problem({"bike": line(7)}, vehicles, split_order())
    torn = build_plan(
        problem,
        {
            "west": [Stop("pickup", "o1@a"), Stop("delivery", "o1@a")],
            "east": [Stop("pickup", "o1@b"), Stop("delivery", "o1@b")],
        },
        SolverStats("test", "", 0.0),
    )
    assert any("not carried whole" in e for e in check_plan(problem, torn))
    plan = solve(problem, FAST, initial=torn)
    assert not plan.unassigned
    assert_whole(problem, plan, ("o1@a", "o1@b"))


def test_check_plan_rejects_a_delivery_before_the_other_pickup() -> None:
    problem = Problem({"bike": line(7)}, (Vehicle("v", start=0, capacity=(4,)),), split_order())
    early = build_plan(
        problem,
        {"v": [Stop("pickup", "o1@a"), Stop("delivery", "o1@a"), Stop("pickup", "o1@b"), Stop("delivery", "o1@b")]},
        SolverStats("test", "", 0.0),
    )
    assert any("delivery comes before a pickup" in e for e in check_plan(problem, early))


def test_a_group_with_an_unservable_part_is_left_out_whole() -> None:
    late = Shipment("o1@b", pickup=5, delivery=3, demand=(9,), group="o1")  # too big for any bike
    parts = (split_order()[0], late)
    problem = Problem({"bike": line(7)}, (Vehicle("v", start=0, capacity=(4,)),), parts)
    for plan in (solve(problem, FAST), greedy(problem)):
        assert check_plan(problem, plan) == []
        assert {u.shipment_id for u in plan.unassigned} == {"o1@a", "o1@b"}


@pytest.mark.parametrize("planner", ["ortools", "greedy"])
def test_excluded_vehicle_never_carries_the_shipment(planner: str) -> None:
    # "near" declined the order: the far courier takes it although near is right there.
    vehicles = (Vehicle("near", start=1, capacity=(4,)), Vehicle("far", start=6, capacity=(4,)))
    shipments = (Shipment("o", pickup=1, delivery=2, demand=(1,), excluded=("near", "gone")),)
    problem = Problem({"bike": line(7)}, vehicles, shipments)
    plan = solve(problem, FAST) if planner == "ortools" else greedy(problem)
    assert check_plan(problem, plan) == []
    assert plan.assignment() == {"o": "far"}
    wrong = build_plan(problem, {"near": [Stop("pickup", "o"), Stop("delivery", "o")]}, SolverStats("t", "", 0.0))
    assert any("which it excludes" in e for e in check_plan(problem, wrong))


def test_excluded_by_a_sibling_excludes_the_whole_group() -> None:
    a, b = split_order()
    vehicles = (Vehicle("west", start=0, capacity=(4,)), Vehicle("east", start=6, capacity=(4,)))
    problem = Problem({"bike": line(7)}, vehicles, (a, replace(b, excluded=("west",))))
    for plan in (solve(problem, FAST), greedy(problem)):
        assert assert_whole(problem, plan, ("o1@a", "o1@b")) == "east"


def test_invalid_groups_and_exclusions_are_refused() -> None:
    a, b = split_order()
    with pytest.raises(ValueError, match="needs a pickup"):
        Shipment("x", delivery=1, demand=(1,), group="g")
    with pytest.raises(ValueError, match="group must be"):
        Shipment("x", pickup=0, delivery=1, demand=(1,), group="")
    two = (
        Vehicle("v", start=0, capacity=(4,), assigned=("o1@a",)),
        Vehicle("w", start=0, capacity=(4,), assigned=("o1@b",)),
    )
    with pytest.raises(ValueError, match="fixed to one vehicle"):
        Problem({"bike": line(7)}, two, (a, b))
    one = (Vehicle("v", start=0, capacity=(4,), assigned=("o",)),)
    with pytest.raises(ValueError, match="which it excludes"):
        Problem({"bike": line(7)}, one, (Shipment("o", pickup=1, delivery=2, demand=(1,), excluded=("v",)),))


def test_a_split_order_with_no_courier_on_shift_is_left_unassigned() -> None:
    # Seen in the live demo: a zone with a split order and no courier yet crashed the cycle.
    problem = Problem({"bike": line(7)}, (), split_order())
    plan = solve(problem, FAST)
    assert {u.shipment_id for u in plan.unassigned} == {"o1@a", "o1@b"}
    assert not plan.routes


def test_every_vehicle_is_checked_for_on_board_load_when_groups_exist() -> None:
    # The overloaded vehicle comes first: a check of only the last vehicle would miss it.
    loaded = Shipment("solo", pickup=2, delivery=4, demand=(3,))
    vehicles = (
        Vehicle("full", start=0, capacity=(2,), on_board=("solo",)),
        Vehicle("free", start=6, capacity=(4,)),
    )
    with pytest.raises(ValueError, match="on-board load"):
        Problem({"bike": line(7)}, vehicles, (*split_order(), loaded))
