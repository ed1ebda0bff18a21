"""The nearest-available-courier baseline, the policy that a VRP solver has to beat.

Shipments are taken in order of ready time; each goes to the courier who can be at its pickup
soonest after finishing what they already have, and is appended to that courier's route (pickup
then straight to the delivery). No look-ahead, no batching, no reordering. Couriers first deliver
what is already on board, earliest deadline first.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from routing._greedy_table import CourierTable
from routing.batching import batches
from routing.plan import Plan, SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment, Vehicle, unservable_reasons

NO_COURIER = "no courier free in time (greedy)"


@dataclass
class _Courier:
    vehicle: Vehicle
    time: int
    location: int
    carried: list[int]  # goods loaded at the start (on board or depot deliveries)
    peak: list[int]  # largest pickup appended so far: depot goods ride along with it
    stops: list[Stop] = field(default_factory=list)
    # Goods on board at the end of the route as planned so far: those loaded before the shift
    # (`on_board`) and not yet delivered. Pickups are delivered straight away, so a new pickup
    # rides with exactly these.
    left: list[int] | None = None


def _preload(problem: Problem, vehicle: Vehicle) -> list[int]:
    load = [0] * problem.dimensions
    for sid in vehicle.on_board:
        load = [a + d for a, d in zip(load, problem.shipment(sid).demand, strict=True)]
    return load


def greedy(problem: Problem, reasons: Mapping[str, str] | None = None, *, batching: bool = False) -> Plan:
    """Baseline plan; same `Plan` type and pricing as `routing.solve`.

    `reasons` are the unservable shipments (`routing.problem.unservable_reason`) when the caller
    already knows them; they are computed otherwise. With `batching`, orders of one store that
    belong together (`routing.batching`) go to one courier as a batch: not the baseline any
    more, but the start of a large search.
    """
    started = time.monotonic()
    couriers = {
        v.id: _Courier(
            v, v.shift[0], v.start, _preload(problem, v), [0] * problem.dimensions, left=_preload(problem, v)
        )
        for v in problem.vehicles
    }
    table = CourierTable(problem)
    for c in couriers.values():
        _sync(table, c)
    reasons = dict(unservable_reasons(problem) if reasons is None else reasons)
    for unit in _units(problem, batches(problem, reasons) if batching else ()):
        if not any(s.id in reasons for s in unit) and not _assign(problem, couriers, table, unit):
            reasons.update((s.id, NO_COURIER) for s in unit)
    sequences = {vid: c.stops for vid, c in couriers.items()}
    stats = SolverStats("greedy", "feasible", time.monotonic() - started)
    return build_plan(problem, sequences, stats, reasons=reasons)


def _units(problem: Problem, batched: Sequence[tuple[Shipment, ...]] = ()) -> list[tuple[Shipment, ...]]:
    """What greedy assigns, in order: on-board shipments and groups with a part on board (earliest
    deadline first), then the rest
    by ready time, each group of parts as one unit (one courier takes all of its pickups, then
    its deliveries), and so each batch of `batched`."""
    grouped = {sid for members in problem.groups.values() for sid in members}
    grouped |= {s.id for batch in batched for s in batch}
    groups = [tuple(problem.shipment(sid) for sid in members) for members in problem.groups.values()]
    # A group with a part on board is as bound to its courier as a single shipment on board: it
    # goes first too, or the courier's shift may be spent before its turn comes (a plan that
    # leaves goods on a bike is invalid, and the whole cycle then assigned nothing).
    carried = [u for u in groups if any(s.id in problem.carrier for s in u)]
    on_board: list[tuple[Shipment, ...]] = [
        (problem.shipment(sid),) for v in problem.vehicles for sid in v.on_board if sid not in grouped
    ]
    on_board += carried
    on_board.sort(key=lambda u: (min(s.delivery_window[1] for s in u), u[0].id))
    rest: list[tuple[Shipment, ...]] = [
        (s,) for s in problem.shipments if s.id not in problem.carrier and s.id not in grouped
    ]
    rest += [u for u in groups if u not in carried]
    rest += batched
    rest.sort(key=lambda u: (min(_ready(s) for s in u), u[0].id))
    return [*on_board, *rest]


def _ready(s: Shipment) -> int:
    return s.pickup_window[0] if s.pickup is not None else s.delivery_window[0]


def _sync(table: CourierTable, c: _Courier) -> None:
    left = c.left if c.left is not None else [0] * len(c.carried)
    loaded = [a + b for a, b in zip(c.carried, c.peak, strict=True)]
    table.set(c.vehicle.id, time=c.time, location=c.location, left=left, loaded=loaded)


def _try_group(problem: Problem, c: _Courier, unit: Sequence[Shipment]) -> tuple[int, int, list[Stop]] | None:
    """Greedy's rule for the parts of a group: their pickups (best order), then their
    deliveries. Returns (reach, free, stops) or None."""
    v, m = c.vehicle, problem.matrices[c.vehicle.profile].durations
    pending = [s for s in unit if problem.has_pickup(s) and s.pickup is not None]
    best: tuple[int, int, list[Stop]] | None = None
    for order in itertools.permutations(pending):
        t, loc = c.time, c.location
        load = list(c.left) if c.left is not None else [0] * problem.dimensions
        picked: dict[str, int] = {}
        for s in order:
            assert s.pickup is not None  # filtered above
            load = [a + d for a, d in zip(load, s.demand, strict=True)]
            start = max(t + int(m[loc, s.pickup]), s.pickup_window[0])
            if any(ld > cap for ld, cap in zip(load, v.capacity, strict=True)) or start > s.pickup_window[1]:
                break
            picked[s.id] = start
            t, loc = start + s.pickup_service_s, s.pickup
        else:
            free = _deliver_all(unit, picked, t, loc, m)
            back = None if free is None else free[0] + (int(m[free[1], v.end]) if v.end is not None else 0)
            if free is not None and back is not None and back <= v.shift[1] and (best is None or free[0] < best[1]):
                reach = c.time + int(m[c.location, order[0].pickup if order else unit[0].delivery])
                stops = [Stop("pickup", s.id) for s in order] + [Stop("delivery", s.id) for s in unit]
                best = (reach, free[0], stops)
    return best


def _deliver_all(
    unit: Sequence[Shipment], picked: Mapping[str, int], t: int, loc: int, m: npt.NDArray[np.int64]
) -> tuple[int, int] | None:
    """(time free, where) after delivering every part of `unit` in turn, or None if a hard
    deadline or a max ride time breaks."""
    for s in unit:
        start = max(t + int(m[loc, s.delivery]), s.delivery_window[0])
        if s.hard_deadline and start > s.delivery_window[1]:
            return None
        if s.max_ride_s is not None and s.id in picked and start - picked[s.id] > s.max_ride_s:
            return None
        t, loc = start + s.delivery_service_s, s.delivery
    return t, loc


def _assign_group(
    problem: Problem, couriers: Mapping[str, _Courier], table: CourierTable, unit: Sequence[Shipment]
) -> bool:
    options = []
    for v in problem.allowed_vehicles(unit[0]):
        found = _try_group(problem, couriers[v.id], unit)
        if found is not None:
            options.append((found[0], v.id, found[1], found[2]))
    if not options:
        return False
    _, vid, free, stops = min(options, key=lambda o: o[:3])
    c = couriers[vid]
    for s in unit:
        if problem.has_pickup(s):
            c.peak = [max(p, d) for p, d in zip(c.peak, s.demand, strict=True)]
        elif c.left is not None:
            c.left = [a - d for a, d in zip(c.left, s.demand, strict=True)]
    c.stops += stops
    c.time, c.location = free, unit[-1].delivery
    _sync(table, c)
    return True


def _assign_batch(
    problem: Problem, couriers: Mapping[str, _Courier], table: CourierTable, batch: Sequence[Shipment]
) -> bool:
    excluded = {vid for s in batch for vid in s.excluded}
    allowed = None if not excluded else [v.id for v in problem.vehicles if v.id not in excluded]
    found = table.best_batch(batch, allowed)
    if found is None:
        return False
    vid, free = found
    c = couriers[vid]
    total = [sum(d) for d in zip(*(s.demand for s in batch), strict=True)]
    c.peak = [max(p, d) for p, d in zip(c.peak, total, strict=True)]
    c.stops += [Stop("pickup", s.id) for s in batch] + [Stop("delivery", s.id) for s in batch]
    c.time, c.location = free, batch[-1].delivery
    _sync(table, c)
    return True


def _assign(problem: Problem, couriers: Mapping[str, _Courier], table: CourierTable, unit: Sequence[Shipment]) -> bool:
    """Append `unit` (one shipment, or the parts of a group) to the courier who reaches its first
    stop soonest; False if nobody can."""
    if len(unit) > 1 and unit[0].group is not None:
        return _assign_group(problem, couriers, table, unit)
    if len(unit) > 1:
        return _assign_batch(problem, couriers, table, unit)
    (s,) = unit
    allowed = problem.allowed_vehicles(s)
    found = table.best(s, None if allowed is problem.vehicles else [v.id for v in allowed])
    if found is None:
        return False
    vid, free = found
    c = couriers[vid]
    if problem.has_pickup(s):
        c.peak = [max(p, d) for p, d in zip(c.peak, s.demand, strict=True)]
        c.stops.append(Stop("pickup", s.id))
    elif s.id not in problem.carrier:
        c.carried = [a + d for a, d in zip(c.carried, s.demand, strict=True)]
    elif c.left is not None:
        c.left = [a - d for a, d in zip(c.left, s.demand, strict=True)]
    c.stops.append(Stop("delivery", s.id))
    c.time, c.location = free, s.delivery
    _sync(table, c)
    return True


def extend(
    problem: Problem,
    routes: Mapping[str, Sequence[Stop]],
    starts: Mapping[str, Sequence[int]],
    shipments: Sequence[Shipment],
) -> dict[str, list[Stop]]:
    """`routes` with each of `shipments` (pickup-and-delivery ones) appended the greedy way: to the
    courier who reaches its pickup soonest after finishing their route. Those nobody can take on
    time are left out. Used to complete a partial plan (e.g. one that treated deadlines as hard).
    """
    plan = build_plan(problem, routes, SolverStats("greedy", "", 0.0), starts=starts)
    dims = [0] * problem.dimensions
    couriers = {}
    table = CourierTable(problem)
    for route in plan.routes:
        vehicle = problem.vehicle(route.vehicle_id)
        last = [v for v in route.visits if v.kind != "end"][-1]
        stops = list(routes.get(route.vehicle_id, ()))
        couriers[route.vehicle_id] = _Courier(vehicle, last.departure_s, last.location, dims, dims, stops, left=dims)
        _sync(table, couriers[route.vehicle_id])
    wanted = {s.id for s in shipments if problem.has_pickup(s)}
    for unit in _units(problem):
        if all(s.id in wanted for s in unit):
            _assign(problem, couriers, table, unit)
    return {vid: c.stops for vid, c in couriers.items()}
