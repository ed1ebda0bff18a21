"""Plan ranking without a database: door-time scoring, and never more locations than needed."""

from __future__ import annotations

import itertools
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.assignment import Candidate, ranked_plans
from dispatch.models import PlanKind

SKUS = [uuid.UUID(int=i + 1) for i in range(6)]


def candidate(
    n: int, *, stock: dict[uuid.UUID, int], travel_s: int = 300, queue_wait_s: int = 0, covering: bool = True
) -> Candidate:
    return Candidate(
        location_id=uuid.UUID(int=1000 + n),
        code=f"L{n}",
        name=f"Location {n}",
        kind="store" if covering else "distribution_centre",
        distance_m=100.0 * n,
        covering=covering,
        opens_in_s=0,
        lead_s=0 if covering else 3600,
        queue_wait_s=queue_wait_s,
        seconds_per_line=30,
        pack_seconds=60,
        travel_s=travel_s,
        available=stock,
    )


def test_door_time_adds_queue_pick_and_ride() -> None:
    c = candidate(1, stock={}, travel_s=400, queue_wait_s=200)
    assert c.pick_s(3) == 60 + 3 * 30
    assert c.door_s(3) == 200 + 150 + 400


def test_the_soonest_door_wins_not_the_nearest() -> None:
    wanted = {SKUS[0]: 1}
    near_but_busy = candidate(1, stock={SKUS[0]: 5}, travel_s=200, queue_wait_s=900)
    farther_idle = candidate(2, stock={SKUS[0]: 5}, travel_s=500)
    (best,) = ranked_plans([near_but_busy, farther_idle], wanted, limit=1)
    assert best.kind is PlanKind.single
    assert best.location_ids == [farther_idle.location_id]


def test_a_single_location_beats_a_faster_split() -> None:
    wanted = {SKUS[0]: 1, SKUS[1]: 1}
    a = candidate(1, stock={SKUS[0]: 1}, travel_s=100)
    b = candidate(2, stock={SKUS[1]: 1}, travel_s=100)
    slow_but_complete = candidate(3, stock={SKUS[0]: 1, SKUS[1]: 1}, travel_s=2000)
    plans = ranked_plans([a, b, slow_but_complete], wanted)
    assert [p.kind for p in plans] == [PlanKind.single]


def test_a_split_puts_shared_lines_where_they_delay_least_and_locations_in_id_order() -> None:
    wanted = {SKUS[0]: 1, SKUS[1]: 1, SKUS[2]: 1}
    fast = candidate(2, stock={SKUS[0]: 1, SKUS[2]: 1}, travel_s=100)
    slow = candidate(1, stock={SKUS[1]: 1, SKUS[2]: 1}, travel_s=900)
    (plan,) = ranked_plans([fast, slow], wanted, limit=1)
    assert plan.kind is PlanKind.split_
    parts = {p.candidate.code: set(p.sku_ids) for p in plan.parts}
    assert parts == {"L2": {SKUS[0], SKUS[2]}, "L1": {SKUS[1]}}
    assert [p.candidate.location_id for p in plan.parts] == sorted(plan.location_ids)
    assert plan.door_s == max(p.door_s for p in plan.parts)


def test_warehouses_only_when_no_store_or_pair_can() -> None:
    wanted = {SKUS[0]: 1, SKUS[1]: 1}
    store = candidate(1, stock={SKUS[0]: 1})
    dc = candidate(2, stock={SKUS[0]: 9, SKUS[1]: 9}, covering=False)
    (plan,) = ranked_plans([store, dc], wanted, limit=1)
    assert plan.kind is PlanKind.later_window
    assert plan.door_s >= 3600
    store_pair = candidate(3, stock={SKUS[1]: 1})
    (plan,) = ranked_plans([store, dc, store_pair], wanted, limit=1)
    assert plan.kind is PlanKind.split_


def test_nothing_feasible_is_an_empty_ranking() -> None:
    assert ranked_plans([candidate(1, stock={SKUS[0]: 1})], {SKUS[0]: 2}) == []


# --- the property --------------------------------------------------------------------------------


@st.composite
def scenarios(draw):
    n_skus = draw(st.integers(1, 5))
    wanted = {SKUS[i]: draw(st.integers(1, 3)) for i in range(n_skus)}
    pool = []
    for n in range(draw(st.integers(1, 6))):
        stock = {sku: draw(st.integers(0, 4)) for sku in wanted}
        pool.append(
            candidate(
                n,
                stock=stock,
                travel_s=draw(st.integers(60, 1800)),
                queue_wait_s=draw(st.integers(0, 1800)),
                covering=draw(st.booleans()) if n else True,
            )
        )
    return pool, wanted


def _fills(group, wanted) -> bool:
    return all(any(c.can_fill(sku, qty) for c in group) for sku, qty in wanted.items())


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_the_chosen_plan_never_uses_more_locations_than_needed(scenario) -> None:
    pool, wanted = scenario
    covering = [c for c in pool if c.covering]
    plans = ranked_plans(pool, wanted)
    need_one = any(c.has_all(wanted) for c in covering)
    need_two = not need_one and any(_fills(pair, wanted) for pair in itertools.combinations(covering, 2))
    if not plans:
        assert not need_one
        assert not need_two
        assert not any(c.has_all(wanted) for c in pool)
        return
    best = plans[0]
    # Every plan is feasible: each line whole at one location of the plan, every line covered.
    for plan in plans:
        assigned = [sku for part in plan.parts for sku in part.sku_ids]
        assert sorted(assigned) == sorted(wanted)
        for part in plan.parts:
            assert all(part.candidate.can_fill(sku, wanted[sku]) for sku in part.sku_ids)
    if need_one:
        assert best.kind is PlanKind.single
        assert len(best.parts) == 1
        assert best.door_s == min(c.door_s(len(wanted)) for c in covering if c.has_all(wanted))
    elif need_two:
        assert best.kind is PlanKind.split_
        assert len(best.parts) == 2
    else:
        assert best.kind is PlanKind.later_window
        assert len(best.parts) == 1
        assert not best.parts[0].candidate.covering
