"""Repair: keep the previous plan's routes, insert the new shipments where they cost least.

The dispatch cycle re-plans every few seconds under a tight budget. Re-planning from scratch
(greedy) ignores what couriers were told a few seconds ago and reshuffles orders between them;
a search rarely beats it within a second on a busy machine. The standard move of dynamic
dispatch is cheaper and steadier: the previous routes, made valid for the new problem
(`sanitize_routes`), with every unrouted shipment (a group of parts as one unit) inserted at its
cheapest feasible pickup and delivery positions over every vehicle allowed to carry it, in
regret-2 order (the unit that would lose most by waiting goes first). Costs are the real
objective: travel, lateness and pickup waits of every stop the insertion pushes, reassignment.

Single shipments are priced for all positions at once (`routing._insertion_costs`); every
insertion is then re-checked exactly (`walk`, the constraints of `routing.check`) before it is
made. Groups are rare: they are tried position by position with `walk`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from routing._insertion_costs import RouteState, Units
from routing.plan import Plan, SolverStats, Stop, build_plan, starts_loaded
from routing.problem import TIME_MAX, Problem, Shipment, Vehicle, unservable_reasons

NO_ROOM = "no courier can fit it into their route in time (repair)"
TOO_DEAR = "serving it costs more than leaving it (repair)"
#: Most orders tried for the pickups of a group (its parts' pickups are kept together).
GROUP_ORDERS = 6
#: Infeasible places tried for a group on one route before giving that route up.
MAX_MISSES = 3


@dataclass(frozen=True, slots=True)
class Walk:
    """A route walked on its earliest schedule: the first stop breaking a hard constraint (its
    shipment id, or None), and the travel, lateness and waiting costs up to there."""

    violation: str | None
    travel: int
    lateness: int
    waiting: int

    @property
    def cost(self) -> int:
        return self.travel + self.lateness + self.waiting


def walk(problem: Problem, vehicle: Vehicle, stops: Sequence[Stop]) -> Walk:
    """Schedule `stops` as early as the windows allow and check what `routing.check` checks:
    load within capacity from the start on, pickup windows, hard deadlines, max ride times, and
    the shift's end (after the last service, or on arrival at the route's end)."""
    m = problem.matrices[vehicle.profile]
    durations = m.durations
    costs = m.distances if problem.objective == "distance" else m.durations
    load = [0] * problem.dimensions
    loaded = [
        s.shipment_id for s in stops if s.kind == "delivery" and starts_loaded(problem, problem.shipment(s.shipment_id))
    ]
    for sid in loaded:
        load = [a + d for a, d in zip(load, problem.shipment(sid).demand, strict=True)]
    if any(ld > c for ld, c in zip(load, vehicle.capacity, strict=True)):
        # On-board goods always fit (the problem checks it): blame the depot goods.
        depot = [sid for sid in loaded if sid not in problem.carrier]
        return Walk(depot[0] if depot else loaded[0], 0, 0, 0)
    t, loc = vehicle.shift[0], vehicle.start
    travel = lateness = waiting = 0
    picked: dict[str, int] = {}
    for stop in stops:
        s = problem.shipment(stop.shipment_id)
        pickup = stop.kind == "pickup"
        here = s.pickup if pickup and s.pickup is not None else s.delivery
        window = s.pickup_window if pickup else s.delivery_window
        travel += int(costs[loc, here])
        start = max(t + int(durations[loc, here]), window[0])
        late = start > window[1] if (pickup or s.hard_deadline) else False
        ride = not pickup and s.max_ride_s is not None and start - picked.get(s.id, start) > s.max_ride_s
        if pickup:
            waiting += (start - window[0]) * s.pickup_wait_cost
        elif not s.hard_deadline:
            lateness += max(0, start - window[1]) * s.lateness_cost
        load = [a + (d if pickup else -d) for a, d in zip(load, s.demand, strict=True)]
        over = any(ld > c for ld, c in zip(load, vehicle.capacity, strict=True))
        if late or ride or over or start > vehicle.shift[1]:
            return Walk(s.id, travel, lateness, waiting)
        picked[s.id] = start
        t, loc = start + (s.pickup_service_s if pickup else s.delivery_service_s), here
    if vehicle.end is not None:
        travel += int(costs[loc, vehicle.end])
        t += int(durations[loc, vehicle.end])
    if stops and t > vehicle.shift[1]:
        return Walk(stops[-1].shipment_id, travel, lateness, waiting)
    return Walk(None, travel, lateness, waiting)


def repair(problem: Problem, previous: Plan, reasons: Mapping[str, str] | None = None) -> Plan:
    """`previous` made valid for `problem` (`sanitize_routes`), with every shipment it does not
    route inserted at its cheapest feasible place (`insert`); priced by `build_plan` with the
    reassignment costs of moving shipments off their previous vehicle.

    `reasons` are the unservable shipments when the caller knows them (computed otherwise); they
    stay unassigned with their reason, and so do those no route can take.
    """
    started = time.monotonic()
    reasons = dict(unservable_reasons(problem) if reasons is None else reasons)
    owners = previous.assignment()
    routes = sanitize_routes(problem, previous, {s.id for s in problem.shipments if s.id not in reasons})
    routed = {stop.shipment_id for stops in routes.values() for stop in stops}
    loose = [s for s in problem.shipments if s.id not in reasons and s.id not in routed]
    routes, why = insert(problem, routes, loose, owners)
    stats = SolverStats("repair", "feasible", time.monotonic() - started, warm_start=True)
    return build_plan(problem, routes, stats, reasons={**reasons, **why}, previous=owners)


def complete(
    problem: Problem, plan: Plan, reasons: Mapping[str, str], previous: Mapping[str, str] | None = None
) -> Plan:
    """`plan` (valid) with the shipments it leaves out — but could serve (not in `reasons`) —
    inserted where they cost least, when that costs less than leaving them; `plan` itself when
    there are none. Priced with `previous` (the warm start's assignment) like every candidate.

    Why: a search stopped early (a tight limit on a busy machine) can hand back a first solution
    that leaves out orders a courier could easily take, and still win on price over greedy: the
    test suite's 12-order bench case left 2 out at 0.3 s in 2 of 8 loaded runs, where greedy
    serves all 12 and a search given its time serves all 12 at 55 % of greedy's cost."""
    routed = {stop.shipment_id for route in plan.routes for stop in route.stops}
    loose = [s for s in problem.shipments if s.id not in reasons and s.id not in routed]
    if not loose:
        return plan
    routes, why = insert(problem, {r.vehicle_id: r.stops for r in plan.routes}, loose, previous)
    if len(why) == len(loose):
        return plan
    stats = replace(plan.stats, status=f"{plan.stats.status} (+{len(loose) - len(why)} inserted)")
    return build_plan(problem, routes, stats, reasons={**reasons, **why}, previous=previous)


def insert(
    problem: Problem,
    routes: Mapping[str, Sequence[Stop]],
    shipments: Sequence[Shipment],
    previous: Mapping[str, str] | None = None,
) -> tuple[dict[str, list[Stop]], dict[str, str]]:
    """`routes` (valid) with `shipments` (not on them) inserted by regret-2 cheapest insertion;
    also the reason of each shipment left out. `previous` (shipment id → vehicle id) prices
    putting a shipment on another vehicle than before (`Problem.reassignment_cost`)."""
    return _Insertion(problem, routes, shipments, previous or {}).run()


class _Insertion:
    def __init__(
        self,
        problem: Problem,
        routes: Mapping[str, Sequence[Stop]],
        shipments: Sequence[Shipment],
        previous: Mapping[str, str],
    ) -> None:
        self.problem = problem
        self.vehicles = problem.vehicles
        self.routes = {v.id: list(routes.get(v.id, ())) for v in self.vehicles}
        self.states = [RouteState(problem, v, self.routes[v.id]) for v in self.vehicles]
        self.costs: dict[int, int] = {}  # exact cost of route r, for groups; dropped on change
        wanted = {s.id for s in shipments}
        groups = [tuple(problem.shipment(sid) for sid in members) for members in problem.groups.values()]
        groups = [g for g in groups if all(s.id in wanted for s in g)]
        grouped = {s.id for g in groups for s in g}
        singles = [s for s in shipments if s.id not in grouped]
        self.units: list[tuple[Shipment, ...]] = [(s,) for s in singles] + groups
        self.single = Units.of(problem, singles)
        # Each part of a group priced as if alone: where one part alone does not fit, the group
        # does not either, and that is found for a route at once instead of walk by walk.
        parts = [s for g in groups for s in g]
        self.parts = Units.of(problem, parts)
        self.part_rows = {s.id: i for i, s in enumerate(parts)}
        self.n_single = len(singles)
        self.with_pickup = self.single.pickup >= 0
        count, n_vehicles = len(self.units), len(self.vehicles)
        self.allowed = np.ones((count, n_vehicles), dtype=np.bool_)
        self.extra = np.zeros((count, n_vehicles))
        for u, unit in enumerate(self.units):
            if any(s.excluded or s.id in problem.promised for s in unit) or len(unit) > 1:
                self.allowed[u] = [problem.may_carry(v.id, unit[0]) for v in self.vehicles]
            for s in unit:
                owner = previous.get(s.id)
                if owner is not None and owner in problem.vehicle_index:
                    self.extra[u] += problem.reassignment_cost
                    self.extra[u, problem.vehicle_index[owner]] -= problem.reassignment_cost
        self.best = np.full((count, n_vehicles), np.inf)
        self.first = np.zeros((count, n_vehicles), dtype=np.int64)  # pickup position of the best
        self.second = np.zeros((count, n_vehicles), dtype=np.int64)  # delivery position
        self.group_stops: dict[tuple[int, int], list[Stop]] = {}
        self.alive = np.ones(count, dtype=np.bool_)

    def run(self) -> tuple[dict[str, list[Stop]], dict[str, str]]:
        why: dict[str, str] = {}
        for r in range(len(self.vehicles)):
            self._price(r)
        while self.alive.any():
            live = np.flatnonzero(self.alive)
            table = self.best[live]
            if table.shape[1] >= 2:
                two = np.partition(table, 1, axis=1)
                cheapest, runner_up = two[:, 0], two[:, 1]
            else:
                cheapest, runner_up = table[:, 0], np.full(len(live), np.inf)
            hopeless = ~np.isfinite(cheapest)
            for u in live[hopeless]:
                self._drop(u, NO_ROOM, why)
            live, cheapest, runner_up = live[~hopeless], cheapest[~hopeless], runner_up[~hopeless]
            if not live.size:
                break
            # Largest regret first (inf: only one vehicle can still take it), then the cheapest.
            regret = np.where(np.isfinite(runner_up), runner_up - cheapest, np.inf)
            k = np.lexsort((live, cheapest, -regret))[0]
            u, cost = int(live[k]), float(cheapest[k])
            if cost >= self.problem.drop_penalty * len(self.units[u]):
                self._drop(u, TOO_DEAR, why)
                continue
            r = int(np.argmin(self.best[u]))
            stops = self._inserted(u, r)
            if walk(self.problem, self.vehicles[r], stops).violation is not None:
                self.best[u, r] = np.inf  # the estimate was optimistic: try elsewhere
                continue
            vehicle = self.vehicles[r]
            self.routes[vehicle.id] = stops
            self.states[r] = RouteState(self.problem, vehicle, stops)
            self.costs.pop(r, None)
            self.alive[u] = False
            self._price(r)
        return self.routes, why

    def _drop(self, u: int, reason: str, why: dict[str, str]) -> None:
        self.alive[u] = False
        why.update((s.id, reason) for s in self.units[u])

    def _inserted(self, u: int, r: int) -> list[Stop]:
        if u >= self.n_single:
            return self.group_stops[(u, r)]
        (s,) = self.units[u]
        stops = list(self.routes[self.vehicles[r].id])
        a, b = int(self.first[u, r]), int(self.second[u, r])
        if self.with_pickup[u]:
            stops.insert(a, Stop("pickup", s.id))
            b += 1
        stops.insert(b, Stop("delivery", s.id))
        return stops

    def _price(self, r: int) -> None:
        """Best insertion into route r of every unit still to insert."""
        rows = np.flatnonzero(self.alive & self.allowed[:, r])
        state = self.states[r]
        single = rows[rows < self.n_single]
        both = single[self.with_pickup[single]]
        if both.size:
            cost, a, b = state.pickup_delivery(self.single, both, self.extra[both, r])
            self.best[both, r], self.first[both, r], self.second[both, r] = cost, a, b
        alone = single[~self.with_pickup[single]]
        if alone.size:
            cost, b = state.delivery(self.single, alone, self.extra[alone, r])
            self.best[alone, r], self.second[alone, r] = cost, b
        for u in rows[rows >= self.n_single]:
            self._price_group(int(u), r)

    def _price_group(self, u: int, r: int) -> None:
        """Parts of a group: their pickups together (in the best of a few orders) at one place,
        then their deliveries together at the same place or later."""
        problem, vehicle = self.problem, self.vehicles[r]
        route = self.routes[vehicle.id]
        if r not in self.costs:
            self.costs[r] = walk(problem, vehicle, route).cost
        unit = self.units[u]
        state = self.states[r]
        rows = np.asarray([self.part_rows[s.id] for s in unit], dtype=np.int64)
        none = np.zeros(len(rows))
        alone = self.parts.pickup[rows] >= 0
        if (alone.any() and not np.isfinite(state.pickup_delivery(self.parts, rows[alone], none[alone])[0]).all()) or (
            (~alone).any() and not np.isfinite(state.delivery(self.parts, rows[~alone], none[~alone])[0]).all()
        ):
            self.best[u, r] = np.inf
            return
        demand = np.sum([s.demand for s in unit], axis=0)
        fits = np.all(state.peak + demand <= state.capacity, axis=-1)
        # Deliveries with the tightest max ride first: the parts share a door as a rule.
        deliveries = [Stop("delivery", s.id) for s in sorted(unit, key=_ride_limit)]
        door = [problem.shipment(stop.shipment_id).delivery for stop in deliveries]
        best, chosen = np.inf, None
        for order in itertools.islice(itertools.permutations(s for s in unit if problem.has_pickup(s)), GROUP_ORDERS):
            pickups = [Stop("pickup", s.id) for s in order]
            stores = [s.pickup for s in order if s.pickup is not None]
            bound = state.block_travel(stores, door) + self.extra[u, r]
            if order:
                first = order[0]
                reach = np.maximum(state.dep + state.durations[state.locs, stores[0]], first.pickup_window[0])
                bound[reach > first.pickup_window[1]] = np.inf
            else:  # every part on board: only the deliveries' place b matters, so a = 0 only
                bound[1:] = np.inf
            bound[~fits] = np.inf
            # Cheapest travel first; lateness only adds to it, so stop at the first bound that
            # cannot beat the best found. An infeasible group would be walked at every place:
            # after MAX_MISSES failures the route is given up.
            misses = 0
            for flat in np.argsort(bound, axis=None):
                a, b = divmod(int(flat), bound.shape[1])
                if not bound[a, b] < best or misses >= MAX_MISSES:
                    break
                stops = [*route[:a], *pickups, *route[a:b], *deliveries, *route[b:]]
                done = walk(problem, vehicle, stops)
                cost = done.cost - self.costs[r] + self.extra[u, r]
                misses += done.violation is not None
                if done.violation is None and cost < best:
                    best, chosen = cost, stops
        self.best[u, r] = best
        if chosen is not None:
            self.group_stops[(u, r)] = chosen


def _ride_limit(s: Shipment) -> int:
    return s.max_ride_s if s.max_ride_s is not None else TIME_MAX


def sanitize_routes(problem: Problem, initial: Plan, routable: set[str]) -> dict[str, list[Stop]]:
    """The previous plan's stop sequences, made valid for the new problem.

    Drops stops of shipments that are gone or now unservable, pickups that already happened (the
    shipment is on board now), deliveries whose pickup is missing, stops on a vehicle the shipment
    is no longer allowed on, duplicates; then removes shipments whose stops became infeasible in
    time or capacity. New shipments are not inserted here (see `repair`).
    """
    used: set[Stop] = set()
    out: dict[str, list[Stop]] = {}
    for route in initial.routes:
        if route.vehicle_id not in problem.vehicle_index:
            continue
        vehicle = problem.vehicle(route.vehicle_id)
        stops: list[Stop] = []
        picked: set[str] = set()
        for stop in route.stops:
            sid = stop.shipment_id
            if sid not in routable or stop in used or not problem.may_carry(vehicle.id, problem.shipment(sid)):
                continue
            has_pickup = problem.has_pickup(problem.shipment(sid))
            if stop.kind == "pickup":
                if not has_pickup:
                    continue
                picked.add(sid)
            elif has_pickup and sid not in picked:
                continue
            stops.append(stop)
            used.add(stop)
        delivered = {s.shipment_id for s in stops if s.kind == "delivery"}
        stops = _whole_groups(problem, [s for s in stops if s.shipment_id in delivered])
        out[vehicle.id] = _drop_infeasible(problem, vehicle, stops)
    return out


def _whole_groups(problem: Problem, stops: list[Stop]) -> list[Stop]:
    """`stops` without the groups that are not all on this route with every pickup before the
    first delivery (a part moved, or the warm start predates the grouping)."""
    broken: set[str] = set()
    delivered: set[str] = set()
    on_route = {s.shipment_id for s in stops}
    for stop in stops:
        members = problem.siblings(problem.shipment(stop.shipment_id))
        if len(members) < 2:
            continue
        if stop.kind == "delivery":
            delivered.update(members)
        elif stop.shipment_id in delivered:
            broken.update(members)  # a pickup after a delivery of its group
        if not on_route.issuperset(members):
            broken.update(members)
    return [s for s in stops if s.shipment_id not in broken]


def _drop_infeasible(problem: Problem, vehicle: Vehicle, stops: list[Stop]) -> list[Stop]:
    while (bad := walk(problem, vehicle, stops).violation) is not None:
        group = set(problem.siblings(problem.shipment(bad)))
        stops = [s for s in stops if s.shipment_id not in group]
    return stops
