"""Batches: orders of one store that one courier carries together, the start of a large search."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from routing.batching import WINDOW_S, batches
from routing.check import check_plan
from routing.greedy import greedy
from routing.problem import Problem, Shipment, Vehicle
from routing.types import Matrices, Profile


def plane(points: Sequence[tuple[float, float]], speed: float = 5.0) -> dict[Profile, Matrices]:
    xy = np.asarray(points, dtype=np.float64)
    metres = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    return {"bike": Matrices(np.rint(metres / speed).astype(np.int64), metres)}


# 0: store; 1-3: doors in a row 2 km east of it; 4: a door 2 km west; 5, 6: couriers by the store.
POINTS = [(0, 0), (2000, 0), (2200, 0), (2400, 0), (-2000, 0), (0, 50), (0, -50)]


def order(sid: str, door: int, ready: int = 0, bags: int = 1, due: int = 3600) -> Shipment:
    return Shipment(
        sid,
        pickup=0,
        delivery=door,
        demand=(bags,),
        pickup_window=(ready, 10**6),
        delivery_window=(0, due),
        pickup_service_s=60,
    )


def fleet(capacity: int = 4) -> tuple[Vehicle, ...]:
    return (Vehicle("a", start=5, capacity=(capacity,)), Vehicle("b", start=6, capacity=(capacity,)))


def ids(found: Sequence[tuple[Shipment, ...]]) -> list[list[str]]:
    return sorted([s.id for s in batch] for batch in found)


def test_neighbouring_doors_of_one_store_form_a_batch_in_riding_order() -> None:
    shipments = (order("far", 3), order("near", 1), order("mid", 2), order("west", 4))
    problem = Problem(plane(POINTS), fleet(), shipments)
    found = {tuple(s.id for s in batch) for batch in batches(problem, ())}
    # Nearest door first from the store; the door the other way rides alone (from a door it is
    # farther than from the store).
    assert found == {("near", "mid", "far"), ("west",)}


def test_batches_respect_ready_times_capacity_and_exclusions() -> None:
    late = order("late", 2, ready=WINDOW_S + 60)
    problem = Problem(plane(POINTS), fleet(capacity=2), (order("a", 1), late, order("big", 3, bags=2)))
    assert ids(batches(problem, ())) == [["a"], ["big"], ["late"]]
    problem = Problem(plane(POINTS), fleet(), (order("a", 1), order("b", 2)))
    assert ids(batches(problem, {"b"})) == [["a"]]


def test_a_batch_never_makes_an_order_late_that_was_on_time_alone() -> None:
    # "mid" alone is on time (60 s at the store, 440 s riding); picking "near" up too (60 s more)
    # would make it late.
    tight = order("mid", 2, due=60 + 440 + 20)
    problem = Problem(plane(POINTS), fleet(), (order("near", 1), tight))
    assert ids(batches(problem, ())) == [["mid"], ["near"]]


def test_greedy_with_batches_is_valid_and_rides_less() -> None:
    rng = np.random.default_rng(5)
    stores = [(rng.uniform(0, 8000), rng.uniform(0, 8000)) for _ in range(3)]
    doors = [(x + rng.uniform(-2000, 2000), y + rng.uniform(-2000, 2000)) for x, y in stores for _ in range(12)]
    starts = [(rng.uniform(0, 8000), rng.uniform(0, 8000)) for _ in range(6)]
    matrices = plane([*stores, *doors, *starts])
    shipments = tuple(
        Shipment(
            f"o{i}",
            pickup=i // 12,
            delivery=3 + i,
            demand=(1,),
            pickup_window=(int(rng.integers(0, 600)), 10**6),
            delivery_window=(0, 3000),
            pickup_service_s=60,
            delivery_service_s=60,
        )
        for i in range(36)
    )
    vehicles = tuple(Vehicle(f"v{k}", start=39 + k, capacity=(3,)) for k in range(6))
    problem = Problem(matrices, vehicles, shipments)
    plain, batched = greedy(problem), greedy(problem, batching=True)
    assert check_plan(problem, batched) == []
    assert not batched.unassigned
    assert batched.cost.travel < plain.cost.travel
    assert any(len([s for s in r.stops if s.kind == "pickup"]) > 1 for r in batched.routes)
