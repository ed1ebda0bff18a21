"""Peer solvers run on our `Problem`s in the same process: PyVRP and VROOM (pyvroom).

Each adapter is written the way a user of that library would: its own model of the problem from
the same matrices, its own solver defaults. The answer is turned into our `Plan` through
`build_plan`, so every solver is priced by the same code and validated by the same `check_plan`.

What the peers cannot express is left out and the plan is priced anyway: neither models soft
deadlines (lateness is not optimised, only reported), max ride times, or goods already on board.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

from routing.plan import Plan, SolverStats, Stop, build_plan
from routing.problem import Problem

PEERS = ("pyvrp", "vroom")


def _unsupported(problem: Problem) -> None:
    if any(v.on_board or v.assigned for v in problem.vehicles):
        raise ValueError("peers do not model fixed assignments")


def pyvrp_plan(problem: Problem, time_limit_s: float, seed: int = 0, deadlines_as_windows: bool = False) -> Plan:
    """PyVRP's default ILS within the time limit. Depot deliveries are required clients (as in
    PyVRP's VRPTW benchmarks); pickup-and-delivery pairs are optional shipments worth the drop
    penalty. Open routes end at a dummy depot that every location reaches for free. Like VROOM,
    PyVRP has no soft time windows: soft deadlines are ignored or, with `deadlines_as_windows`,
    made hard."""
    _unsupported(problem)
    started = time.monotonic()
    n = problem.size
    dummy = n  # extra location: the end of open routes
    ends = sorted({v.end for v in problem.vehicles if v.end is not None} | {dummy})
    depot_locations = sorted({v.start for v in problem.vehicles} | set(ends))
    depot_of = {loc: i for i, loc in enumerate(depot_locations)}
    profiles = sorted({v.profile for v in problem.vehicles})
    # PyVRP's stubs want ndarray[int]; these are int64 arrays.
    costs: list[Any] = []
    durations: list[Any] = []
    for p in profiles:
        m = problem.matrices[p]
        for src, out in (
            (m.distances if problem.objective == "distance" else m.durations, costs),
            (m.durations, durations),
        ):
            padded = np.zeros((n + 1, n + 1), dtype=np.int64)
            padded[:n, :n] = src
            padded[dummy, :n] = problem.horizon  # never leave the dummy end
            out.append(padded)
    vehicle_types = [
        pyvrp.VehicleType(
            1,
            capacity=list(v.capacity),
            start_depot=depot_of[v.start],
            end_depot=depot_of[dummy if v.end is None else v.end],
            tw_early=v.shift[0],
            tw_late=v.shift[1],
            profile=profiles.index(v.profile),
            name=v.id,
        )
        for v in problem.vehicles
    ]
    clients, client_ids, shipments, shipment_ids = [], [], [], []
    for s in problem.shipments:
        late = s.delivery_window[1] if s.hard_deadline or deadlines_as_windows else problem.horizon
        if s.pickup is None:
            clients.append(
                pyvrp.Client(
                    s.delivery,
                    delivery=list(s.demand),
                    service_duration=s.delivery_service_s,
                    tw_early=s.delivery_window[0],
                    tw_late=late,
                )
            )
            client_ids.append(s.id)
        else:
            shipments.append(
                pyvrp.Shipment(
                    s.pickup,
                    s.delivery,
                    pickup_tw_early=s.pickup_window[0],
                    pickup_tw_late=s.pickup_window[1],
                    pickup_service_duration=s.pickup_service_s,
                    delivery_tw_early=s.delivery_window[0],
                    delivery_tw_late=late,
                    delivery_service_duration=s.delivery_service_s,
                    amount=list(s.demand),
                    prize=problem.drop_penalty,
                    required=False,
                )
            )
            shipment_ids.append(s.id)
    data = pyvrp.ProblemData(
        [pyvrp.Location(0, 0) for _ in range(n + 1)],
        clients,
        [pyvrp.Depot(loc) for loc in depot_locations],
        vehicle_types,
        costs,
        durations,
        shipments=shipments,
    )
    result = pyvrp.solve(data, MaxRuntime(time_limit_s), seed=seed, collect_stats=False, display=False)
    sequences: dict[str, list[Stop]] = {}
    for route in result.best.routes():
        vid = problem.vehicles[route.vehicle_type()].id
        stops = []
        for a in route.schedule():
            if a.is_client():
                stops.append(Stop("delivery", client_ids[a.idx]))
            elif a.is_pickup() or a.is_delivery():
                stops.append(Stop("pickup" if a.is_pickup() else "delivery", shipment_ids[a.idx]))
        sequences[vid] = stops
    status = "feasible" if result.best.is_feasible() else "infeasible"
    stats = SolverStats(
        "pyvrp", status, time.monotonic() - started, int(result.cost()), iterations=result.num_iterations
    )
    return build_plan(problem, sequences, stats)


def vroom_plan(
    problem: Problem,
    time_limit_s: float,
    exploration_level: int = 5,
    threads: int = 2,
    deadlines_as_windows: bool = False,
) -> Plan:
    """VROOM at its default exploration level (5), capped by the time limit; it usually stops well
    before. Costs come from the objective's matrix, times from the durations.

    VROOM has no soft time windows: soft deadlines are ignored, or with `deadlines_as_windows`
    made hard, in which case orders it cannot deliver on time come back unassigned."""
    import vroom  # pyvroom is a dev-only dependency: importing it here keeps `o2o` usable without it

    _unsupported(problem)
    started = time.monotonic()
    problem_input = vroom.Input()
    for p in sorted({v.profile for v in problem.vehicles}):
        m = problem.matrices[p]
        problem_input.set_durations_matrix(p, m.durations)
        problem_input.set_costs_matrix(p, m.distances if problem.objective == "distance" else m.durations)
    for i, v in enumerate(problem.vehicles):
        problem_input.add_vehicle(
            vroom.Vehicle(
                i,
                start=v.start,
                end=v.end,
                profile=v.profile,
                capacity=vroom.Amount(list(v.capacity)),
                time_window=vroom.TimeWindow(*v.shift),
            )
        )
    steps: dict[int, Stop] = {}
    for i, s in enumerate(problem.shipments):
        late = s.delivery_window[1] if s.hard_deadline or deadlines_as_windows else problem.horizon
        deliver = [vroom.TimeWindow(s.delivery_window[0], late)]
        if s.pickup is None:
            problem_input.add_job(
                vroom.Job(
                    2 * i,
                    location=s.delivery,
                    delivery=vroom.Amount(list(s.demand)),
                    default_service=s.delivery_service_s,
                    time_windows=deliver,
                )
            )
        else:
            problem_input.add_shipment(
                vroom.ShipmentStep(
                    2 * i + 1,
                    location=s.pickup,
                    default_service=s.pickup_service_s,
                    time_windows=[vroom.TimeWindow(*s.pickup_window)],
                ),
                vroom.ShipmentStep(
                    2 * i, location=s.delivery, default_service=s.delivery_service_s, time_windows=deliver
                ),
                amount=vroom.Amount(list(s.demand)),
            )
            steps[2 * i + 1] = Stop("pickup", s.id)
        steps[2 * i] = Stop("delivery", s.id)
    solution = problem_input.solve(
        exploration_level=exploration_level, nb_threads=threads, timeout=timedelta(seconds=time_limit_s)
    )
    raw: dict[str, Any] = solution.to_dict()
    sequences = {
        problem.vehicles[route["vehicle"]].id: [
            steps[int(step["id"])] for step in route["steps"] if step["type"] in ("job", "pickup", "delivery")
        ]
        for route in raw["routes"]
    }
    stats = SolverStats("vroom", "feasible", time.monotonic() - started, int(raw["summary"]["cost"]))
    return build_plan(problem, sequences, stats)
