"""The answer of a solve: routes with times and loads, what was left out and why, and the cost.

`build_plan` turns bare stop sequences into a `Plan`. Every backend (OR-Tools, PyVRP, the greedy
baseline) goes through it, so costs are always computed the same way and are comparable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from routing.problem import Problem, Shipment, Vehicle

VisitKind = Literal["start", "pickup", "delivery", "end"]
StopKind = Literal["pickup", "delivery"]

DROPPED = "dropped by solver (penalty cheaper than serving it)"


class Stop(NamedTuple):
    """One thing to do on a route, before times are known."""

    kind: StopKind
    shipment_id: str


@dataclass(frozen=True, slots=True)
class Visit:
    """A scheduled stop. `arrival_s` is the ETA, `start_s` when service begins (after any wait for
    the window to open), `load` what is on board when leaving, per capacity dimension."""

    kind: VisitKind
    location: int
    arrival_s: int
    start_s: int
    departure_s: int
    load: tuple[int, ...]
    shipment_id: str | None = None
    lateness_s: int = 0


@dataclass(frozen=True, slots=True)
class Route:
    vehicle_id: str
    visits: tuple[Visit, ...]
    travel_s: int
    distance_m: int
    lateness_s: int

    @property
    def stops(self) -> tuple[Stop, ...]:
        return tuple(
            Stop(v.kind, v.shipment_id)
            for v in self.visits
            if v.shipment_id is not None and v.kind in ("pickup", "delivery")
        )

    @property
    def shipment_ids(self) -> tuple[str, ...]:
        """Shipments on this route, once each, in order of their first stop."""
        return tuple(dict.fromkeys(s.shipment_id for s in self.stops))

    @property
    def is_empty(self) -> bool:
        return not self.stops


@dataclass(frozen=True, slots=True)
class Unassigned:
    shipment_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Cost:
    """Cost in the problem's objective unit (seconds or metres). `waiting` prices goods ready at a
    store and waiting for their courier (`Shipment.pickup_wait_cost`), `delay` the route time before
    each delivery (`Shipment.delay_cost`)."""

    travel: int
    lateness: int
    penalties: int
    reassignment: int
    waiting: int
    delay: int = 0

    @property
    def total(self) -> int:
        return self.travel + self.lateness + self.penalties + self.reassignment + self.waiting + self.delay


@dataclass(frozen=True, slots=True)
class SolverStats:
    backend: str
    status: str
    wall_time_s: float
    objective: int | None = None
    solutions: int | None = None
    iterations: int | None = None
    strategy: str | None = None
    warm_start: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    cost: Cost
    stats: SolverStats

    def assignment(self) -> dict[str, str]:
        """Shipment id → vehicle id, for every routed shipment."""
        return {sid: r.vehicle_id for r in self.routes for sid in r.shipment_ids}

    def route(self, vehicle_id: str) -> Route:
        return next(r for r in self.routes if r.vehicle_id == vehicle_id)

    @property
    def vehicles_used(self) -> int:
        return sum(not r.is_empty for r in self.routes)


def starts_loaded(problem: Problem, shipment: Shipment) -> bool:
    """Goods that are on the vehicle when it sets off: already on board, or loaded at the start."""
    return not problem.has_pickup(shipment)


def _schedule(problem: Problem, vehicle: Vehicle, stops: Sequence[Stop], starts: Sequence[int] | None) -> Route:
    m = problem.matrices[vehicle.profile]
    dims = problem.dimensions
    load = [0] * dims
    for sid in {s.shipment_id for s in stops if s.kind == "delivery"}:
        shipment = problem.shipment(sid)
        if starts_loaded(problem, shipment):
            load = [a + b for a, b in zip(load, shipment.demand, strict=True)]
    t = vehicle.shift[0]
    loc = vehicle.start
    visits = [Visit("start", loc, t, t, t, tuple(load))]
    travel = distance = lateness = 0
    for i, stop in enumerate(stops):
        shipment = problem.shipment(stop.shipment_id)
        pickup = stop.kind == "pickup"
        nxt = shipment.pickup if pickup and shipment.pickup is not None else shipment.delivery
        leg = int(m.durations[loc, nxt])
        travel += leg
        distance += int(m.distances[loc, nxt])
        arrival = t + leg
        window = shipment.pickup_window if pickup else shipment.delivery_window
        begin = max(arrival, window[0], starts[i] if starts is not None else 0)
        sign = 1 if pickup else -1
        load = [a + sign * d for a, d in zip(load, shipment.demand, strict=True)]
        late = 0 if pickup or shipment.hard_deadline else max(0, begin - shipment.delivery_window[1])
        lateness += late
        t = begin + (shipment.pickup_service_s if pickup else shipment.delivery_service_s)
        visits.append(Visit(stop.kind, nxt, arrival, begin, t, tuple(load), stop.shipment_id, late))
        loc = nxt
    if vehicle.end is not None:
        leg = int(m.durations[loc, vehicle.end])
        travel += leg
        distance += int(m.distances[loc, vehicle.end])
        t += leg
        visits.append(Visit("end", vehicle.end, t, t, t, tuple(load)))
    return Route(vehicle.id, tuple(visits), travel, distance, lateness)


def lateness_cost(problem: Problem, route: Route) -> int:
    return sum(
        v.lateness_s * problem.shipment(v.shipment_id).lateness_cost
        for v in route.visits
        if v.lateness_s and v.shipment_id is not None
    )


def waiting_cost(problem: Problem, route: Route) -> int:
    """What the pickups of `route` cost by starting after their goods were ready."""
    total = 0
    for v in route.visits:
        if v.kind == "pickup" and v.shipment_id is not None:
            s = problem.shipment(v.shipment_id)
            total += (v.start_s - s.pickup_window[0]) * s.pickup_wait_cost
    return total


def delay_cost(problem: Problem, route: Route) -> int:
    """What the deliveries of `route` cost by the route time (riding and service from the shift's
    start, waiting not counted) before each of them."""
    vehicle = problem.vehicle(route.vehicle_id)
    durations = problem.matrices[vehicle.profile].durations
    clock, loc, total = vehicle.shift[0], vehicle.start, 0
    for v in route.visits[1:]:
        if v.kind == "end" or v.shipment_id is None:
            break
        clock += int(durations[loc, v.location])
        loc = v.location
        shipment = problem.shipment(v.shipment_id)
        if v.kind == "delivery":
            total += clock * shipment.delay_cost
            clock += shipment.delivery_service_s
        else:
            clock += shipment.pickup_service_s
    return total


def build_plan(
    problem: Problem,
    sequences: Mapping[str, Sequence[Stop]],
    stats: SolverStats,
    *,
    reasons: Mapping[str, str] | None = None,
    starts: Mapping[str, Sequence[int]] | None = None,
    previous: Mapping[str, str] | None = None,
) -> Plan:
    """Schedule each vehicle's stops as early as the windows allow and price the result.

    `starts` optionally gives the backend's own service start times (e.g. OR-Tools delaying a
    pickup to respect a max ride time); they are used as lower bounds. `previous` is the assignment
    of a warm start, to charge `reassignment_cost` for moved shipments. Shipments not on any route
    are unassigned with `reasons[id]`, or "dropped by solver" when there is no specific reason.
    """
    routes = tuple(
        _schedule(problem, v, sequences.get(v.id, ()), starts.get(v.id) if starts else None) for v in problem.vehicles
    )
    routed = {sid for r in routes for sid in r.shipment_ids}
    unassigned = tuple(
        Unassigned(s.id, (reasons or {}).get(s.id, DROPPED)) for s in problem.shipments if s.id not in routed
    )
    moved = 0
    if previous:
        moved = sum(
            1
            for r in routes
            for sid in r.shipment_ids
            if previous.get(sid, r.vehicle_id) != r.vehicle_id and previous[sid] in problem.vehicle_index
        )
    travel = sum(r.distance_m if problem.objective == "distance" else r.travel_s for r in routes)
    cost = Cost(
        travel=travel,
        lateness=sum(lateness_cost(problem, r) for r in routes),
        penalties=problem.drop_penalty * len(unassigned),
        reassignment=problem.reassignment_cost * moved,
        waiting=sum(waiting_cost(problem, r) for r in routes),
        delay=sum(delay_cost(problem, r) for r in routes),
    )
    return Plan(routes, unassigned, cost, stats)
