"""Translation of a `Problem` into an OR-Tools routing model (construction only, no search).

It does not import OR-Tools itself: `routing._ortools` passes the `pywrapcp` module in.

Node layout: one node per stop still to do (pickup and delivery of each routable shipment; only
the delivery of shipments already on board or loaded at the start), then one start node and one
end node per vehicle. Every node has its own location, service time and demand, so several
stops may share a location (a store with many orders) without confusing the solver.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from routing.plan import Stop, starts_loaded
from routing.problem import Problem, Shipment
from routing.types import Profile

#: Dropping a shipment that is already on board costs this many ordinary drop penalties: it is
#: allowed only so that an impossible promise still yields a plan (reported as unassigned).
ON_BOARD_PENALTY_FACTOR = 100


@dataclass(frozen=True)
class Layout:
    """Stops, locations and service times per node; pure data so tests can inspect it."""

    stops: tuple[Stop, ...]
    locations: npt.NDArray[np.int64]  # -1 for the end node of an open route
    service: npt.NDArray[np.int64]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.locations)


def make_layout(problem: Problem, shipments: Sequence[Shipment]) -> Layout:
    stops: list[Stop] = []
    locations: list[int] = []
    service: list[int] = []
    for s in shipments:
        if problem.has_pickup(s) and s.pickup is not None:
            stops.append(Stop("pickup", s.id))
            locations.append(s.pickup)
            service.append(s.pickup_service_s)
        stops.append(Stop("delivery", s.id))
        locations.append(s.delivery)
        service.append(s.delivery_service_s)
    starts, ends = [], []
    for v in problem.vehicles:
        starts.append(len(locations))
        locations.append(v.start)
        ends.append(len(locations))
        locations.append(-1 if v.end is None else v.end)
        service += [0, 0]
    return Layout(
        tuple(stops),
        np.asarray(locations, dtype=np.int64),
        np.asarray(service, dtype=np.int64),
        tuple(starts),
        tuple(ends),
    )


def _node_matrix(layout: Layout, matrix: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Location matrix re-indexed by node; arcs touching an open end are free."""
    open_end = layout.locations < 0
    loc = np.where(open_end, 0, layout.locations)
    out: npt.NDArray[np.int64] = matrix[np.ix_(loc, loc)].copy()
    out[open_end, :] = 0
    out[:, open_end] = 0
    return out


class OrToolsModel:
    """The routing model of one problem; build once, search once.

    `pywrapcp` is OR-Tools' routing module, handed in by `routing._ortools` so that it stays the
    only module importing OR-Tools (DESIGN.md §2).
    """

    def __init__(
        self,
        pywrapcp: ModuleType,
        problem: Problem,
        shipments: Sequence[Shipment],
        previous: Mapping[str, str] | None = None,
        *,
        on_time_only: bool = False,
    ) -> None:
        """`on_time_only` turns every soft deadline into a hard one (see `routing._ortools.run`)."""
        self.problem = problem
        self.on_time_only = on_time_only
        self.layout = make_layout(problem, shipments)
        self.node_of = {stop: i for i, stop in enumerate(self.layout.stops)}
        vehicles = problem.vehicles
        self.manager = pywrapcp.RoutingIndexManager(
            self.layout.size, len(vehicles), list(self.layout.starts), list(self.layout.ends)
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.horizon = problem.horizon
        self._delay_clock: Any = None
        self._add_time()
        self._add_loads(shipments)
        self._add_shipments(shipments)
        if previous and problem.reassignment_cost:
            self._add_reassignment_costs(shipments, previous)

    def index(self, stop: Stop) -> int:
        return int(self.manager.NodeToIndex(self.node_of[stop]))

    def _add_time(self) -> None:
        problem, routing, layout = self.problem, self.routing, self.layout
        time_evaluators: dict[Profile, int] = {}
        cost_evaluators: dict[Profile, int] = {}
        for profile in {v.profile for v in problem.vehicles}:
            m = problem.matrices[profile]
            durations = _node_matrix(layout, m.durations)
            cost = durations if problem.objective == "duration" else _node_matrix(layout, m.distances)
            # Service happens at the node an arc leaves, so it is part of that arc's transit.
            time_evaluators[profile] = routing.RegisterTransitMatrix((durations + layout.service[:, None]).tolist())
            cost_evaluators[profile] = routing.RegisterTransitMatrix(cost.tolist())
        self._time_evaluators = time_evaluators
        for v, vehicle in enumerate(problem.vehicles):
            routing.SetArcCostEvaluatorOfVehicle(cost_evaluators[vehicle.profile], v)
        routing.AddDimensionWithVehicleTransits(
            [time_evaluators[v.profile] for v in problem.vehicles], self.horizon, self.horizon, False, "time"
        )
        self.time = routing.GetDimensionOrDie("time")
        for v, vehicle in enumerate(problem.vehicles):
            # Couriers leave at the start of their shift; waiting happens at the stops.
            self.time.CumulVar(routing.Start(v)).SetRange(vehicle.shift[0], vehicle.shift[0])
            self.time.CumulVar(routing.End(v)).SetRange(vehicle.shift[0], vehicle.shift[1])

    def _add_loads(self, shipments: Sequence[Shipment]) -> None:
        """One dimension per capacity dimension, tracking the load on board.

        Goods loaded at the start (depot deliveries, shipments on board) make the start load
        unknown until the route is known: the start cumul is left free and the end cumul pinned to
        zero, so start load = everything delivered. Without pickups at all this is the classic CVRP
        "delivered so far" count, which the solver handles better, so that form is used then.
        """
        problem, routing = self.problem, self.routing
        with_pickups = any(stop.kind == "pickup" for stop in self.layout.stops)
        preloaded = any(starts_loaded(problem, s) for s in shipments)
        for k in range(problem.dimensions):
            transit = [0] * self.layout.size
            for node, stop in enumerate(self.layout.stops):
                demand = problem.shipment(stop.shipment_id).demand[k]
                transit[node] = demand if stop.kind == "pickup" or not with_pickups else -demand
            evaluator = routing.RegisterUnaryTransitVector(transit)
            capacities = [v.capacity[k] for v in problem.vehicles]
            routing.AddDimensionWithVehicleCapacity(evaluator, 0, capacities, False, f"load{k}")
            load = routing.GetDimensionOrDie(f"load{k}")
            for v in range(len(problem.vehicles)):
                if with_pickups and preloaded:
                    load.CumulVar(routing.End(v)).SetValue(0)
                else:
                    load.CumulVar(routing.Start(v)).SetValue(0)

    def _add_shipments(self, shipments: Sequence[Shipment]) -> None:
        problem, routing, solver, time = self.problem, self.routing, self.routing.solver(), self.time
        for s in shipments:
            delivery = self.index(Stop("delivery", s.id))
            early, due = s.delivery_window
            hard_due = due if s.hard_deadline or self.on_time_only else self.horizon
            time.CumulVar(delivery).SetRange(min(early, self.horizon), min(hard_due, self.horizon))
            if not (s.hard_deadline or self.on_time_only) and s.lateness_cost and due < self.horizon:
                time.SetCumulVarSoftUpperBound(delivery, due, s.lateness_cost)
            if s.delay_cost and not self.on_time_only:
                self._clock().SetCumulVarSoftUpperBound(delivery, 0, s.delay_cost)
            owner = problem.promised.get(s.id)
            factor = ON_BOARD_PENALTY_FACTOR if s.id in problem.carrier else 1
            if owner is not None:
                # -1 keeps the drop possible; SetAllowedVehiclesForIndex's Span binding rejects lists.
                routing.VehicleVar(delivery).SetValues([-1, problem.vehicle_index[owner]])
            banned = [problem.vehicle_index[v] for v in s.excluded if v in problem.vehicle_index]
            if banned:
                routing.VehicleVar(delivery).RemoveValues(banned)
            if not problem.has_pickup(s):
                routing.AddDisjunction([delivery], problem.drop_penalty * factor)
                continue
            pickup = self.index(Stop("pickup", s.id))
            time.CumulVar(pickup).SetRange(min(s.pickup_window[0], self.horizon), min(s.pickup_window[1], self.horizon))
            # The on-time-only phase looks for deadlines met, fast: soft bounds slow each move.
            if s.pickup_wait_cost and s.pickup_window[0] < self.horizon and not self.on_time_only:
                time.SetCumulVarSoftUpperBound(pickup, s.pickup_window[0], s.pickup_wait_cost)
            if owner is not None:
                routing.VehicleVar(pickup).SetValues([-1, problem.vehicle_index[owner]])
            # The pair is dropped or served together; its penalty is carried by the pickup alone.
            # The pair constraint already keeps both on one vehicle, pickup first: the extra
            # VehicleVar/CumulVar constraints of OR-Tools' examples only slowed every move down
            # (measured: 1.7x more parts per second in routing._parts without them).
            routing.AddPickupAndDeliverySets(
                routing.AddDisjunction([pickup], problem.drop_penalty), routing.AddDisjunction([delivery], 0)
            )
            solver.Add(routing.ActiveVar(pickup) == routing.ActiveVar(delivery))
            if banned:
                routing.VehicleVar(pickup).RemoveValues(banned)
            if s.max_ride_s is not None:
                # cumul(pickup) >= cumul(delivery) - max_ride, enforced only when both are served.
                time.AddNodePrecedence(delivery, pickup, -s.max_ride_s)
                # The pickup then may have to wait; the plan takes its time from the solver, as late
                # as needed and no later. (Other stops are scheduled as early as possible by
                # `build_plan`; a finalizer on every cumul costs minutes on 1,000 orders.)
                routing.AddVariableMinimizedByFinalizer(time.CumulVar(pickup))
        self._add_groups(shipments)

    def _clock(self) -> Any:
        """The delay's dimension: route time without waiting (riding and service), made once.

        Not the time dimension, which holds lateness: OR-Tools keeps one soft upper bound per
        variable, and writing both on it (an upper bound at 0, a lower bound at the due time)
        left even 60 orders unsolved in 1 s, as soft lower bounds make every move re-solve the
        route's schedule."""
        if self._delay_clock is None:
            routing = self.routing
            self.routing.AddDimensionWithVehicleTransits(
                [self._time_evaluators[v.profile] for v in self.problem.vehicles], 0, self.horizon, False, "clock"
            )
            self._delay_clock = routing.GetDimensionOrDie("clock")
            for v, vehicle in enumerate(self.problem.vehicles):
                self._delay_clock.CumulVar(routing.Start(v)).SetValue(vehicle.shift[0])
        return self._delay_clock

    def _add_groups(self, shipments: Sequence[Shipment]) -> None:
        """Parts of one group: one vehicle or none, every pickup before any delivery.

        Equal vehicle variables also make the group all-or-nothing (a dropped part's is -1). The
        order is a time precedence (enforced when both nodes are served): a delivery starts no
        earlier than the end of service at each other part's pickup, which on one vehicle means
        after it whenever the two stops are not at one place with no service time.
        """
        problem, routing, solver, time = self.problem, self.routing, self.routing.solver(), self.time
        present = {s.id for s in shipments}
        done: set[str] = set()
        for s in shipments:
            members = [problem.shipment(sid) for sid in problem.siblings(s) if sid in present]
            if len(members) < 2 or s.id in done:
                continue
            done.update(m.id for m in members)
            first = [self.index(Stop("pickup" if problem.has_pickup(m) else "delivery", m.id)) for m in members]
            for a, b in itertools.pairwise(first):
                solver.Add(routing.VehicleVar(a) == routing.VehicleVar(b))
            for m in members:
                if not problem.has_pickup(m):
                    continue
                pickup = self.index(Stop("pickup", m.id))
                for other in members:
                    if other.id != m.id:
                        time.AddNodePrecedence(pickup, self.index(Stop("delivery", other.id)), m.pickup_service_s)

    def _add_reassignment_costs(self, shipments: Sequence[Shipment], previous: Mapping[str, str]) -> None:
        """Charge `reassignment_cost` when a shipment leaves the vehicle it had in the warm start.

        Anchoring the shipment's delivery to the previous vehicle's start node turns "same vehicle
        as before" into OR-Tools' soft same-vehicle constraint, which its local search prices.
        """
        problem = self.problem
        for s in shipments:
            before = previous.get(s.id)
            if before is None or before not in problem.vehicle_index:
                continue
            anchor = self.routing.Start(problem.vehicle_index[before])
            self.routing.AddSoftSameVehicleConstraint(
                [anchor, self.index(Stop("delivery", s.id))], problem.reassignment_cost
            )
