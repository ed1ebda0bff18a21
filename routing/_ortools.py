"""OR-Tools backend: search configuration, warm start, and reading the solution back.

The only module that imports `ortools` (DESIGN.md §2): `_ortools_model` receives the `pywrapcp`
module from here. It returns plain picklable data (`Outcome`) so that searches can run in worker
processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2

from routing._ortools_model import OrToolsModel
from routing._parts import DEEP_SOLUTIONS, PART_SOLUTIONS, PartSolver, Routes, Starts, improve_by_parts
from routing._strategy import Outcome, Strategy
from routing.greedy import extend
from routing.params import Metaheuristic, SolveParams
from routing.plan import SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment

_STATUS = {v: k.removeprefix("ROUTING_").lower() for k, v in routing_enums_pb2.RoutingSearchStatus.Value.items()}
_BOOL_FALSE = 2  # ortools.util.OptionalBoolean.BOOL_FALSE
#: Share of the remaining time, and metaheuristic, of the on-time-only first phase (see `run`).
ON_TIME_SHARE = 0.5
ON_TIME_METAHEURISTIC: Metaheuristic = "guided_local_search"
#: How long past its own time limit a search may run before the watchdog cancels it.
WATCHDOG_GRACE_S = 0.05

#: Operators that cost more than they bring on 100-stop VRPTW within seconds (measured on Solomon):
#: the LNS ones rebuild whole routes with insertion heuristics on every move.
_SLOW_OPERATORS = (
    "use_lin_kernighan",
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
    "use_relocate_expensive_chain",
)


def _search_parameters(params: SolveParams, strategy: Strategy, time_limit_s: float) -> object:
    p = pywrapcp.DefaultRoutingSearchParameters()
    p.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy.first_solution.upper())
    if math.isfinite(time_limit_s):  # else unset: OR-Tools then stops on its solution limit alone
        p.time_limit.FromMilliseconds(max(10, int(time_limit_s * 1000)))
    p.log_search = params.log_search
    if params.max_iterations is not None:
        p.solution_limit = params.max_iterations
    if strategy.lean_operators:
        for name in _SLOW_OPERATORS:
            setattr(p.local_search_operators, name, _BOOL_FALSE)
    if strategy.metaheuristic == "iterated_local_search":
        _iterated_local_search(p)
    else:
        p.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, strategy.metaheuristic.upper()
        )
        p.guided_local_search_lambda_coefficient = params.gls_lambda
    return p


def _iterated_local_search(p: object) -> None:
    """Ruin-and-recreate ILS with SISR ruins (Christiaens & Vanden Berghe's string removals), the
    configuration that beat guided local search on tight-window Solomon instances here."""
    p.use_iterated_local_search = True  # type: ignore[attr-defined]
    p.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT  # type: ignore[attr-defined]
    ils = p.iterated_local_search_parameters  # type: ignore[attr-defined]
    ils.perturbation_strategy = routing_ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    rr = ils.ruin_recreate_parameters
    del rr.ruin_strategies[:]
    sisr = rr.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = 10
    sisr.avg_num_removed_visits = 10
    sisr.bypass_factor = 0.01
    rr.recreate_strategy.heuristic = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    ils.improve_perturbed_solution = True


def _warm_start(model: OrToolsModel, initial: Mapping[str, Sequence[Stop]]) -> object | None:
    routes = [
        [model.index(stop) for stop in initial.get(v.id, ()) if stop in model.node_of] for v in model.problem.vehicles
    ]
    assignment: object | None = model.routing.ReadAssignmentFromRoutes(routes, True)
    return assignment


def _extract(model: OrToolsModel, solution: object) -> tuple[dict[str, list[Stop]], dict[str, list[int]]]:
    routing, manager = model.routing, model.manager
    sequences: dict[str, list[Stop]] = {}
    starts: dict[str, list[int]] = {}
    for v, vehicle in enumerate(model.problem.vehicles):
        stops: list[Stop] = []
        times: list[int] = []
        index = solution.Value(routing.NextVar(routing.Start(v)))  # type: ignore[attr-defined]
        while not routing.IsEnd(index):
            stop = model.layout.stops[manager.IndexToNode(index)]
            stops.append(stop)
            # Only a pickup held back for a max ride time needs the solver's time; every other stop
            # is scheduled as early as possible by `build_plan` (0 = no lower bound).
            held = stop.kind == "pickup" and model.problem.shipment(stop.shipment_id).max_ride_s is not None
            times.append(int(solution.Value(model.time.CumulVar(index))) if held else 0)  # type: ignore[attr-defined]
            index = solution.Value(routing.NextVar(index))  # type: ignore[attr-defined]
        sequences[vehicle.id] = stops
        starts[vehicle.id] = times
    return sequences, starts


def _solve(
    model: OrToolsModel,
    params: SolveParams,
    strategy: Strategy,
    deadline: float,
    initial: Mapping[str, Sequence[Stop]] | None,
    *,
    guarded: bool = True,
) -> tuple[object | None, bool]:
    """Search on a built model; returns the solution (or None) and whether the warm start held.

    `guarded=False` skips the watchdog thread: searches by parts run thousands of tiny searches,
    for which starting a thread each costs ~3 ms and buys nothing.
    """
    routing = model.routing
    routing.solver().ReSeed(params.seed)
    warm = _warm_start(model, initial) if initial else None
    search = _search_parameters(params, strategy, deadline - time.monotonic())
    # OR-Tools checks its time limit between moves, but some neighbourhood scans run for minutes
    # without checking it (measured: 125 s past a 5 s limit on 1,000 orders). A timer thread can
    # cancel the search and keep the best solution so far, when the solver lets it run; that works
    # in most phases, not all: `routing.solve` kills the worker process as a last resort.
    watchdog = None
    if guarded and math.isfinite(deadline):
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()) + WATCHDOG_GRACE_S, routing.CancelSearch)
        watchdog.start()
    try:
        if warm is not None:
            solution = routing.SolveFromAssignmentWithParameters(warm, search)
        elif strategy.metaheuristic == "iterated_local_search":
            solution = routing.SolveWithIteratedLocalSearch(search)
        else:
            solution = routing.SolveWithParameters(search)
    finally:
        if watchdog is not None:
            watchdog.cancel()
    return solution, warm is not None


def run(
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    strategy: Strategy,
    deadline: float,
    initial: Mapping[str, Sequence[Stop]] | None = None,
    previous: Mapping[str, str] | None = None,
) -> Outcome:
    """Build the model and search until `deadline` (a `time.monotonic()` instant).

    A warm start that OR-Tools rejects (`ReadAssignmentFromRoutes` returns None, e.g. because times
    moved on and a route became infeasible) falls back to a cold start with the first-solution
    strategy rather than failing.

    With `strategy.on_time_first` and soft deadlines, a first phase treats every deadline as hard:
    soft upper bounds make each local-search move ~100× more expensive to evaluate in OR-Tools
    (measured: 16k vs 2.6M neighbours in 4 s on 200 orders), so on-time plans are found much faster
    that way. What could not be served on time is dropped there, then inserted by the second phase,
    which prices lateness properly and starts from the first phase's routes.
    """
    if initial is None and strategy.on_time_first and _has_soft_deadlines(shipments):
        on_time = OrToolsModel(pywrapcp, problem, shipments, previous, on_time_only=True)
        halfway = time.monotonic() + ON_TIME_SHARE * (deadline - time.monotonic())
        first, _ = _solve(on_time, params, replace(strategy, metaheuristic=ON_TIME_METAHEURISTIC), halfway, None)
        if first is not None:
            initial = _extract(on_time, first)[0]
    model = OrToolsModel(pywrapcp, problem, shipments, previous)
    routing = model.routing
    solution, warm = _solve(model, params, strategy, deadline, initial)
    status = _STATUS.get(routing.status(), str(routing.status()))
    if solution is None:
        return Outcome({}, {}, status, None, 0, routing.solver().Branches(), strategy.name, warm)
    sequences, starts = _extract(model, solution)
    if status == "not_solved":  # SolveWithIteratedLocalSearch leaves the status untouched
        status = "success"
    return Outcome(
        sequences,
        starts,
        status,
        int(solution.ObjectiveValue()),  # type: ignore[attr-defined]
        int(routing.solver().Solutions()),
        int(routing.solver().Branches()),
        strategy.name,
        warm,
    )


def _has_soft_deadlines(shipments: Sequence[Shipment]) -> bool:
    return any(not s.hard_deadline and s.lateness_cost > 0 for s in shipments)


#: Search of one part in `run_by_parts`: a descent from the part's current routes. Guided local
#: search would spend the part's whole time limit; a descent stops at the local optimum.
PART_STRATEGY = Strategy("parallel_cheapest_insertion", "greedy_descent", lean_operators=True)
#: A part that the descent left unchanged gets guided local search when it comes up again.
DEEP_STRATEGY = Strategy("parallel_cheapest_insertion", "guided_local_search", lean_operators=True)
#: Largest problem for which `run_by_parts` first builds an OR-Tools insertion solution (deadlines
#: hard, so that the local search is fast): 200 pairs take ~0.6 s, 1,000 pairs over a minute.
CONSTRUCT_MAX_SHIPMENTS = 300
#: Share of the time budget the insertion heuristic may use before the greedy start is taken.
CONSTRUCT_SHARE = 0.4


def _construct(
    problem: Problem, shipments: Sequence[Shipment], params: SolveParams, deadline: float
) -> tuple[Routes, Starts] | None:
    """Parallel cheapest insertion with every deadline hard, no local search; None if too slow."""
    model = OrToolsModel(pywrapcp, problem, shipments, None, on_time_only=True)
    # Solution 1 is "all unperformed"; solution 2 is the insertion heuristic's.
    construct = replace(params, max_iterations=2)
    solution, _ = _solve(model, construct, Strategy("parallel_cheapest_insertion", "greedy_descent"), deadline, None)
    return None if solution is None else _extract(model, solution)


def _part_solver(params: SolveParams, routable: set[str], previous: Mapping[str, str] | None) -> PartSolver:
    # A part's search ends on its time limit; without a clock, on about as many solutions as that
    # time limit holds (`routing._parts`).
    if params.time_limit_s is None:
        descent, deeper = replace(params, max_iterations=PART_SOLUTIONS), replace(params, max_iterations=DEEP_SOLUTIONS)
    else:
        descent = deeper = replace(params, max_iterations=None)

    def solve_part(part: Problem, routes: Routes, deadline: float, deep: bool) -> tuple[Routes, Starts] | None:
        model = OrToolsModel(pywrapcp, part, [s for s in part.shipments if s.id in routable], previous)
        strategy = DEEP_STRATEGY if deep else PART_STRATEGY
        solution, _ = _solve(model, deeper if deep else descent, strategy, deadline, routes, guarded=False)
        return None if solution is None else _extract(model, solution)

    return solve_part


def construct_start(
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    deadline: float,
    start: tuple[Routes, Starts],
    previous: Mapping[str, str] | None = None,
) -> tuple[Routes, Starts]:
    """The insertion solution (`_construct`), when it is built by `deadline` and is a better start
    for a search by parts than `start`; `start` otherwise.

    The insertion treats deadlines as hard, so it leaves out the few orders that cannot be on
    time; they are appended the greedy way before the two starts are compared, else the drop
    penalties would always favour `start`.
    """
    built = _construct(problem, shipments, params, deadline)
    if built is None:
        return start
    routes, starts = built
    served = {stop.shipment_id for stops in routes.values() for stop in stops}
    routes = extend(problem, routes, starts, [s for s in shipments if s.id not in served])
    # Appended stops get no start lower bound (0): they are scheduled as early as possible.
    starts = {
        vid: [*starts.get(vid, []), *[0] * (len(stops) - len(starts.get(vid, [])))] for vid, stops in routes.items()
    }
    stats = SolverStats("ortools", "", 0.0)
    new = build_plan(problem, routes, stats, starts=starts, previous=previous).cost.total
    old = build_plan(problem, start[0], stats, starts=start[1], previous=previous).cost.total
    return (routes, starts) if new < old else start


def run_by_parts(
    problem: Problem,
    shipments: Sequence[Shipment],
    params: SolveParams,
    strategy: Strategy,
    deadline: float,
    start: tuple[Routes, Starts],
    previous: Mapping[str, str] | None = None,
    *,
    warm: bool = False,
) -> Outcome:
    """Improve `start` (`warm`: a previous plan) part by part (`routing._parts`) until `deadline`."""
    stats = SolverStats("ortools", "", 0.0)
    solve_part = _part_solver(params, {s.id for s in shipments}, previous)
    result = improve_by_parts(
        problem,
        shipments,
        start[0],
        start[1],
        deadline,
        solve_part,
        seed=params.seed,
        previous=previous,
        max_parts=params.max_iterations,
    )
    objective = build_plan(problem, result.routes, stats, starts=result.starts, previous=previous).cost.total
    return Outcome(
        result.routes, result.starts, "success", objective, result.improved, result.parts, strategy.name, warm
    )
