"""How `routing.solve` runs a search by parts (`routing._parts`) on several cores.

First an OR-Tools insertion solution is built once, in one worker, and kept if it beats the start
it was given (the greedy plan). Then the couriers are split into as many groups of neighbours as
there are workers; each worker searches by parts inside its own group, the groups' routes merge
without conflict, and the next round splits differently, so that couriers on a border meet
others. On two cores that is twice the parts per second of one worker, where independent workers
with different seeds would only keep the better of two searches — which is what small fleets get,
too small to split.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial

from routing import _ortools
from routing._parts import Routes, Starts, split
from routing._strategy import Outcome, Strategy
from routing._workers import in_workers
from routing.params import SolveParams
from routing.plan import SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment

#: Length of one round of group searches: long enough for many parts per group (~20 at 50 ms),
#: short enough for a few re-splits within a 5 s dispatch cycle.
ROUND_S = 1.5
#: Parts per group in one round of a search without a clock: about what ROUND_S holds at
#: `routing._parts.PART_TIME_S`.
ROUND_PARTS = 30
#: Less time left than this is not worth forking workers for (a fork of a 1,000-order problem
#: takes ~20 ms).
MIN_SEARCH_S = 0.1
#: Fewest couriers per group. Measured on 50 orders / 10 couriers, 5 s: two groups of 5 ended 6%
#: above one search of all 10 (parts of 4 couriers hardly vary inside a group of 5).
MIN_GROUP_VEHICLES = 12
#: Orders per group when the insertion start is built group by group. Measured on 1,000 orders /
#: 200 couriers, shared machine: groups of 60 got the greedy plan from 802k to 629k in 1.9 s.
CONSTRUCT_GROUP_SHIPMENTS = 60


def search_by_parts(
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    strategies: Sequence[Strategy],
    deadline: float,
    kill_at: float,
    start: Mapping[str, Sequence[Stop]],
    previous: Mapping[str, str] | None,
    *,
    warm: bool,
) -> list[Outcome]:
    """Improve `start` (a warm start when `warm`, else the greedy plan) by parts until `deadline`
    with `len(strategies)` workers; a worker that overruns `deadline` is killed at `kill_at`."""
    grace = 0.0 if math.isinf(deadline) else kill_at - deadline  # (inf - inf is nan)
    if deadline - time.monotonic() < MIN_SEARCH_S:  # the greedy plan took the whole time limit
        return []
    begin: tuple[Routes, Starts] = ({vid: list(stops) for vid, stops in start.items()}, {})
    if not warm:
        begin = _construct(problem, shipments, params, len(strategies), deadline, grace, begin, previous)
    routes, starts = begin
    ways = min(len(strategies), len(problem.vehicles) // MIN_GROUP_VEHICLES)
    if ways <= 1:  # too few couriers to split: independent searches, the best one wins
        calls = [
            partial(
                _ortools.run_by_parts,
                problem,
                shipments,
                replace(params, seed=params.seed + i),
                strategy,
                deadline,
                begin,
                previous,
                warm=warm,
            )
            for i, strategy in enumerate(strategies)
        ]
        return in_workers(calls, kill_at)
    if math.isinf(deadline):  # bounded by work: `max_iterations` parts per group, spread over rounds
        total = params.max_iterations or ROUND_PARTS  # never None without a time limit (SolveParams)
        rounds = -(-total // ROUND_PARTS)
        per_round: int | None = -(-total // rounds)
    else:
        rounds = max(1, round((deadline - time.monotonic()) / ROUND_S))
        per_round = params.max_iterations
    parts = improved = 0
    for r in range(rounds):
        now = time.monotonic()
        end = now + (deadline - now) / (rounds - r)
        groups = split(problem, routes, shipments, ways, params.seed + r)
        calls = [
            partial(
                _improve_group,
                problem,
                shipments,
                replace(params, seed=params.seed + r * ways + i, max_iterations=per_round),
                strategies[i],
                end,
                (routes, starts),
                group,
                previous,
                warm,
            )
            for i, group in enumerate(groups)
        ]
        for outcome in in_workers(calls, end + grace):  # a group whose worker overran keeps its routes
            routes.update(outcome.sequences)
            starts.update(outcome.starts)
            parts += outcome.branches
            improved += outcome.solutions
    stats = SolverStats("ortools", "", 0.0)
    objective = build_plan(problem, routes, stats, starts=starts, previous=previous).cost.total
    name = f"{strategies[0].name}+{ways}-groups"
    return [Outcome(routes, starts, "success", objective, improved, parts, name, warm)]


def _construct(
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    workers: int,
    deadline: float,
    grace: float,
    begin: tuple[Routes, Starts],
    previous: Mapping[str, str] | None,
) -> tuple[Routes, Starts]:
    """The start of the search: OR-Tools insertion solutions where they beat `begin` (the greedy
    plan). Beyond `CONSTRUCT_MAX_SHIPMENTS` the insertion heuristic does not finish in time on the
    whole problem (1,000 orders: over a minute), so it runs per group of neighbouring couriers with
    the orders greedy gave them, groups in parallel; a group whose insertion is late keeps `begin`.
    """
    cap = time.monotonic() + _ortools.CONSTRUCT_SHARE * (deadline - time.monotonic())
    if cap - time.monotonic() < MIN_SEARCH_S:
        return begin
    if len(shipments) <= _ortools.CONSTRUCT_MAX_SHIPMENTS:
        build = partial(_ortools.construct_start, problem, shipments, params, cap, begin, previous)
        return next(iter(in_workers([build], cap + grace)), begin)
    ways = -(-len(shipments) // CONSTRUCT_GROUP_SHIPMENTS)
    routes, starts = {v: list(r) for v, r in begin[0].items()}, dict(begin[1])
    subs = [_group_problem(problem, shipments, begin, g) for g in split(problem, routes, shipments, ways, params.seed)]
    # Groups one after the other in each worker: all at once, time-sliced, they would all still
    # be running at the cap and all be lost.
    calls = [partial(_construct_groups, subs[i::workers], params, cap, previous) for i in range(workers)]
    for group_routes, group_starts in in_workers(calls, cap + grace):
        routes.update(group_routes)
        starts.update(group_starts)
    return routes, starts


def _construct_groups(
    subs: Sequence[tuple[Problem, list[Shipment], tuple[Routes, Starts]]],
    params: SolveParams,
    cap: float,
    previous: Mapping[str, str] | None,
) -> tuple[Routes, Starts]:
    """Insertion starts of the groups done by `cap` (routes and starts of their couriers)."""
    routes: Routes = {}
    starts: Starts = {}
    for sub, routable, sub_start in subs:
        if time.monotonic() >= cap:
            break
        group_routes, group_starts = _ortools.construct_start(sub, routable, params, cap, sub_start, previous)
        routes.update(group_routes)
        starts.update(group_starts)
    return routes, starts


def _group_problem(
    problem: Problem, shipments: Sequence[Shipment], start: tuple[Routes, Starts], group: tuple[list[str], list[str]]
) -> tuple[Problem, list[Shipment], tuple[Routes, Starts]]:
    """The sub-problem of one group: its couriers, the shipments on their routes or fixed to them,
    and the unassigned shipments given to the group; its routable shipments; its start."""
    vehicles, loose = group
    routes, starts = start
    keep = {stop.shipment_id for v in vehicles for stop in routes.get(v, [])} | set(loose)
    keep |= {sid for v in vehicles for sid in (*problem.vehicle(v).on_board, *problem.vehicle(v).assigned)}
    sub = replace(
        problem,
        vehicles=tuple(problem.vehicle(v) for v in vehicles),
        shipments=tuple(s for s in problem.shipments if s.id in keep),
    )
    sub_start = ({v: list(routes.get(v, [])) for v in vehicles}, {v: starts[v] for v in vehicles if v in starts})
    return sub, [s for s in shipments if s.id in keep], sub_start


def _improve_group(
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    strategy: Strategy,
    deadline: float,
    start: tuple[Routes, Starts],
    group: tuple[list[str], list[str]],
    previous: Mapping[str, str] | None,
    warm: bool,
) -> Outcome:
    """Search by parts on the sub-problem of one group (`_group_problem`)."""
    sub, routable, sub_start = _group_problem(problem, shipments, start, group)
    return _ortools.run_by_parts(sub, routable, params, strategy, deadline, sub_start, previous, warm=warm)
