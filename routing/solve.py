"""`solve(problem, params, initial) -> Plan`: the one entry point of the solver.

Steps: shipments that no vehicle could serve even alone are set aside with a precise reason; a
warm start is sanitised against the new problem; then `params.workers` searches run, each in its
own process (a portfolio of strategies), and the cheapest resulting plan wins. Every backend's
output is re-scheduled and priced by `build_plan`, so plans are comparable whatever produced them.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial

from routing import _ortools
from routing._by_parts import search_by_parts
from routing._parts import PART_VEHICLES
from routing._strategy import Outcome, Strategy
from routing._workers import in_workers
from routing.check import check_plan
from routing.greedy import greedy
from routing.insertion import complete, repair, sanitize_routes
from routing.params import Backend, SolveParams
from routing.plan import Plan, SolverStats, Stop, build_plan
from routing.problem import TIME_MAX, Problem, Shipment, unservable_reasons

#: Share of the time limit kept back from the searches, for handing their plans back and pricing
#: them, so that `solve` returns within its limit; at most RESERVE_MAX_S.
RESERVE_SHARE = 0.1
RESERVE_MAX_S = 0.25
#: A worker still busy this long after the limit has overrun and is killed (`routing._workers`).
#: Not zero: on an overloaded machine a forked worker may wait that long for a core, and killing
#: it would throw its plan away (measured: 8 runnable processes on 2 cores).
OVERRUN_GRACE_S = 0.2

# Plain VRPTW on the OR-Tools backend (PyVRP is the default there, see `choose_backend`):
# iterated local search with SISR ruins. Measured at 1 s on 12 Solomon instances (2 per class,
# one process each, shared machine): parallel-cheapest-insertion start 5.5% mean gap, savings
# start 8.3% (PyVRP: 1.3%); a savings start finds different optima, hence the second worker.
_VRPTW_PORTFOLIO = (
    Strategy("parallel_cheapest_insertion", "iterated_local_search", lean_operators=True),
    Strategy("savings", "iterated_local_search", lean_operators=True),
)
# Pickup-and-delivery with few couriers: insertion heuristics are the ones that find first
# solutions at all (path_cheapest_arc drops every pair, see PLATFORM-NOTES), guided local search
# improves them; the second worker improves the greedy plan instead.
_PDP_PORTFOLIO = (
    Strategy("parallel_cheapest_insertion", "guided_local_search", on_time_first=True),
    Strategy("parallel_cheapest_insertion", "guided_local_search", from_greedy=True),
)
# More couriers than one part holds: search by parts (routing._parts), which improves from the
# first second on at any size; the workers differ by seed (see `_search_by_parts`).
_PARTS_PORTFOLIO = (Strategy("parallel_cheapest_insertion", "greedy_descent", by_parts=True),)


def solve(problem: Problem, params: SolveParams | None = None, initial: Plan | None = None) -> Plan:
    """Plan routes for `problem` within `params.time_limit_s` (or `params.max_iterations` of work
    when that is None); never raises for infeasibility.

    `initial` (a previous plan, possibly for a slightly different problem) warm-starts the search;
    with `problem.reassignment_cost` shipments tend to stay on the vehicle they had in it.
    """
    params = params or SolveParams()
    started = time.monotonic()
    # Without a time limit the deadline is infinitely far: every search ends on its work bound.
    deadline = math.inf if params.time_limit_s is None else started + params.time_limit_s - _reserve(params)
    reasons = unservable_reasons(problem)
    routable = [s for s in problem.shipments if s.id not in reasons]
    previous = initial.assignment() if initial is not None else None
    warm = sanitize_routes(problem, initial, {s.id for s in routable}) if initial is not None else None
    backend = choose_backend(problem, params, warm)
    if not routable or not problem.vehicles:
        stats = SolverStats(backend, "trivial", time.monotonic() - started)
        return build_plan(problem, {}, stats, reasons=reasons, previous=previous)
    # The fallbacks are cheap (greedy with and without batches, ~0.4 s together on 1,000 orders ×
    # 300 couriers; the repair of a previous plan, tens of ms): the start of a search and the
    # answer when no search finishes in time, so a plan always comes back.
    fallbacks = _fallbacks(problem, reasons, previous, initial) if backend == "ortools" else []
    repaired = next((p for p in fallbacks if p.stats.backend == "repair"), None)
    if repaired is not None:
        # The previous routes with the new shipments already in: a search starts from a complete
        # plan as stable as the previous one, instead of inserting the new shipments itself.
        warm = {r.vehicle_id: list(r.stops) for r in repaired.routes}
    greedy_start = min((p for p in fallbacks if p.stats.backend == "greedy"), key=_total, default=None)
    outcomes = _search(problem, routable, params, backend, deadline, warm, previous, greedy_start)
    plans: list[Plan] = []
    for outcome in outcomes:
        if outcome.objective is None:
            continue
        stats = SolverStats(
            backend=backend,
            status=outcome.status,
            wall_time_s=time.monotonic() - started,
            objective=outcome.objective,
            solutions=outcome.solutions,
            iterations=outcome.branches,
            strategy=outcome.strategy,
            warm_start=outcome.warm_start,
        )
        plans.append(
            build_plan(problem, outcome.sequences, stats, reasons=reasons, starts=outcome.starts, previous=previous)
        )
    # Search results are checked too: measured on captured re-plans, a search warm-started from
    # the previous routes sometimes returned routes ending after their shift or an on-board
    # delivery dropped (the model is looser than `check_plan` there), and won on price.
    valid = [_completed(problem, plan, reasons, previous) for plan in plans if not check_plan(problem, plan)]
    best = min(valid, key=_total, default=None)
    if best is None and not fallbacks:
        fallbacks = [greedy(problem, reasons)]
    # No search found anything better in time (first-solution heuristics can take longer than the
    # limit on thousands of stops): the cheapest fallback is far better than serving nobody. Each
    # is independently checked first: a heuristic bug there (once, capacity ignored in greedy)
    # must not win on price over a valid search result.
    errors: list[str] = []
    for candidate in sorted(fallbacks, key=_total):
        if best is not None and candidate.cost.total >= best.cost.total:
            break
        errors = check_plan(problem, candidate)
        if not errors:
            status = f"fallback_{candidate.stats.backend} ({outcomes[0].status if outcomes else 'not_solved'})"
            best = replace(candidate, stats=replace(candidate.stats, status=status))
            break
    if best is None:
        stats = SolverStats(backend, f"not_solved (fallback invalid: {errors[0]})", time.monotonic() - started)
        why = dict.fromkeys((s.id for s in routable), "no valid plan found in time") | dict(reasons)
        return build_plan(problem, {}, stats, reasons=why, previous=previous)
    return replace(best, stats=replace(best.stats, wall_time_s=time.monotonic() - started))


def _completed(problem: Problem, plan: Plan, reasons: Mapping[str, str], previous: Mapping[str, str] | None) -> Plan:
    """A valid search plan with what it left out but could serve inserted (`complete`), when the
    result is valid too."""
    filled = complete(problem, plan, reasons, previous)
    return filled if filled is plan or not check_plan(problem, filled) else plan


def _reserve(params: SolveParams) -> float:
    return 0.0 if params.time_limit_s is None else min(RESERVE_MAX_S, RESERVE_SHARE * params.time_limit_s)


def _total(plan: Plan) -> int:
    return plan.cost.total


def _fallbacks(
    problem: Problem, reasons: Mapping[str, str], previous: Mapping[str, str] | None, initial: Plan | None
) -> list[Plan]:
    """The repair of `initial` when there is one and it is valid; else greedy with and without
    batches, priced with the warm start's reassignment costs like every candidate.

    The repair keeps the previous routes: on 18 re-plans captured from the city simulation it
    cost 10–60 % less than the better greedy and moved almost no order (docs/benchmarks.md), so
    greedy from scratch is not worth its time there (0.05–0.15 s of a 0.3–1 s budget on a busy
    machine). Batches are what a search by parts finds slowest: measured on 1,000 orders × 300
    couriers (15 stores), greedy with batches costs 64 % less than plain greedy (travel −49 %,
    lateness −83 %) in 0.3 s: more than 5 s of search by parts from plain greedy."""
    plans = []
    if initial is not None:
        repaired = repair(problem, initial, reasons)
        if not check_plan(problem, repaired):
            return [repaired]
    for batching in (False, True):
        plan = greedy(problem, reasons, batching=batching)
        if previous:
            routes = {r.vehicle_id: r.stops for r in plan.routes}
            why = {u.shipment_id: u.reason for u in plan.unassigned}
            plan = build_plan(problem, routes, plan.stats, reasons=why, previous=previous)
        plans.append(plan)
    return plans


def is_plain_vrp(problem: Problem) -> bool:
    """Depot-based VRPTW/CVRP: every shipment loaded at the start, hard (or no) windows, closed
    routes, nothing fixed. The shape PyVRP is built for."""
    return all(v.end is not None and not v.on_board and not v.assigned for v in problem.vehicles) and all(
        s.pickup is None
        and not s.excluded
        and s.group is None
        and (s.hard_deadline or s.lateness_cost == 0 or s.delivery_window[1] >= TIME_MAX)
        for s in problem.shipments
    )


def choose_backend(problem: Problem, params: SolveParams, warm: Mapping[str, Sequence[Stop]] | None) -> str:
    """PyVRP for plain VRPTW/CVRP (measured at 1 s on 12 Solomon instances: 0.8–1.3% mean gap
    against 5.5% for our best OR-Tools configuration); OR-Tools for everything only it models
    here: pickup and delivery, soft deadlines, max ride times, fixed assignments, warm starts with
    reassignment costs — that is, every dispatch problem of the product."""
    chosen: Backend = params.backend
    if chosen == "auto":
        plain = warm is None and is_plain_vrp(problem) and importlib.util.find_spec("pyvrp") is not None
        chosen = "pyvrp" if plain else "ortools"
    if chosen == "pyvrp" and not is_plain_vrp(problem):
        raise ValueError("the pyvrp backend handles only plain depot VRPTW/CVRP problems")
    return chosen


def _portfolio(problem: Problem, params: SolveParams) -> list[Strategy]:
    defaults: tuple[Strategy, ...]
    if is_plain_vrp(problem):
        defaults = _VRPTW_PORTFOLIO
    elif len(problem.vehicles) > PART_VEHICLES:
        defaults = _PARTS_PORTFOLIO
    else:
        defaults = _PDP_PORTFOLIO
    strategies = []
    for i in range(params.workers):
        base = defaults[i % len(defaults)]
        strategies.append(
            replace(
                base,
                first_solution=base.first_solution if params.first_solution == "auto" else params.first_solution,
                metaheuristic=base.metaheuristic if params.metaheuristic == "auto" else params.metaheuristic,
            )
        )
    return strategies


def _run_one(
    backend: str,
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    strategy: Strategy,
    deadline: float,
    warm: Mapping[str, Sequence[Stop]] | None,
    previous: Mapping[str, str] | None,
    fallback: Plan | None,
) -> Outcome:
    if backend == "pyvrp":
        from routing import _pyvrp  # imported only when chosen

        return _pyvrp.run(problem, shipments, params, deadline)
    if warm is None and strategy.from_greedy:
        warm = {r.vehicle_id: list(r.stops) for r in (fallback or greedy(problem)).routes}
    return _ortools.run(problem, shipments, params, strategy, deadline, warm, previous)


def _search(
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    backend: str,
    deadline: float,
    warm: Mapping[str, Sequence[Stop]] | None,
    previous: Mapping[str, str] | None,
    fallback: Plan | None,
) -> list[Outcome]:
    strategies = _portfolio(problem, params)
    kill_at = deadline + _reserve(params) + OVERRUN_GRACE_S
    if backend == "ortools" and strategies[0].by_parts:
        start = warm if warm is not None else {r.vehicle_id: r.stops for r in (fallback or greedy(problem)).routes}
        return search_by_parts(
            problem, shipments, params, strategies, deadline, kill_at, start, previous, warm=warm is not None
        )
    # Worker i gets seed + i, so a PyVRP portfolio explores differently too; with a warm start
    # only the first worker uses it and the others search from scratch, for diversity.
    calls = [
        partial(
            _run_one,
            backend,
            problem,
            shipments,
            replace(params, seed=params.seed + i),
            s,
            deadline,
            warm if i == 0 else None,
            previous,
            fallback,
        )
        for i, s in enumerate(strategies)
    ]
    if backend == "pyvrp":
        # Imported before forking so that workers inherit it instead of each importing it on the
        # clock; and the first search runs here, as PyVRP keeps to its time limit.
        from routing import _pyvrp  # noqa: F401

        return in_workers(calls, kill_at, inline_first=True)
    return in_workers(calls, kill_at)
