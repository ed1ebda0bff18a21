"""PyVRP backend for plain depot-based VRPTW/CVRP (see `routing.solve.choose_backend`).

Only imported when chosen. Shipments become optional clients whose prize is the drop penalty, so
the objective is the same as OR-Tools' (travel + penalties of dropped shipments) and a plan always
exists. The "distance" matrix handed to PyVRP carries the objective's cost (metres or driving
seconds) because PyVRP's own duration cost would also count waiting and service time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import pyvrp
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from routing._strategy import Outcome
from routing.params import SolveParams
from routing.plan import Stop
from routing.problem import Problem, Shipment, Vehicle


def _vehicle_key(v: Vehicle) -> tuple[object, ...]:
    return (v.start, v.end, v.capacity, v.shift, v.profile)


def run(problem: Problem, shipments: Sequence[Shipment], params: SolveParams, deadline: float) -> Outcome:
    depot_locations = sorted(
        {v.start for v in problem.vehicles} | {v.end for v in problem.vehicles if v.end is not None}
    )
    depot_index = {loc: i for i, loc in enumerate(depot_locations)}
    profiles = sorted({v.profile for v in problem.vehicles})
    groups: dict[tuple[object, ...], list[Vehicle]] = {}
    for v in problem.vehicles:
        groups.setdefault(_vehicle_key(v), []).append(v)
    vehicle_types = []
    for members in groups.values():
        v = members[0]
        assert v.end is not None  # guaranteed by is_plain_vrp
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(members),
                capacity=list(v.capacity),
                start_depot=depot_index[v.start],
                end_depot=depot_index[v.end],
                tw_early=v.shift[0],
                tw_late=v.shift[1],
                unit_distance_cost=1,
                profile=profiles.index(v.profile),
            )
        )
    clients = [
        pyvrp.Client(
            s.delivery,
            delivery=list(s.demand),
            service_duration=s.delivery_service_s,
            tw_early=s.delivery_window[0],
            tw_late=s.delivery_window[1] if s.hard_deadline else problem.horizon,
            required=False,
            prize=problem.drop_penalty,
        )
        for s in shipments
    ]
    matrices = [problem.matrices[p] for p in profiles]
    # PyVRP's stubs want ndarray[int]; these are int64 arrays.
    costs: list[Any] = [m.distances if problem.objective == "distance" else m.durations for m in matrices]
    durations: list[Any] = [m.durations for m in matrices]
    data = pyvrp.ProblemData(
        [pyvrp.Location(0, 0) for _ in range(problem.size)],
        clients,
        [pyvrp.Depot(loc) for loc in depot_locations],
        vehicle_types,
        costs,
        durations,
    )
    criteria: list[StoppingCriterion] = []
    if math.isfinite(deadline):
        criteria.append(MaxRuntime(max(0.01, deadline - time.monotonic())))
    if params.max_iterations is not None:
        criteria.append(MaxIterations(params.max_iterations))
    stop = criteria[0] if len(criteria) == 1 else MultipleCriteria(criteria)
    result = pyvrp.solve(data, stop, seed=params.seed, collect_stats=False, display=False)
    return _outcome(result, list(groups.values()), shipments)


def _outcome(result: pyvrp.Result, groups: list[list[Vehicle]], shipments: Sequence[Shipment]) -> Outcome:
    best = result.best
    if not best.is_feasible():
        return Outcome({}, {}, "infeasible", None, 0, result.num_iterations, "pyvrp", False)
    sequences: dict[str, list[Stop]] = {}
    starts: dict[str, list[int]] = {}
    taken = [0] * len(groups)
    for route in best.routes():
        kind = route.vehicle_type()
        vehicle = groups[kind][taken[kind]]
        taken[kind] += 1
        visits = [a for a in route.schedule() if a.is_client()]
        sequences[vehicle.id] = [Stop("delivery", shipments[a.idx].id) for a in visits]
        starts[vehicle.id] = [int(a.start_time) for a in visits]
    return Outcome(sequences, starts, "feasible", int(result.cost()), 0, result.num_iterations, "pyvrp", False)
