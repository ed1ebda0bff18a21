"""An independent plan checker: does a plan really respect the problem?

It shares no code with the solvers or with `build_plan` beyond the data types: loads, travel times
and costs are recomputed here from the matrices. Reported service start times are the only thing
taken from the plan (a solver may legitimately wait, e.g. to respect a max ride time), and they are
checked against the recomputed earliest arrival rather than trusted.
"""

from __future__ import annotations

from collections import Counter

from routing.plan import Plan, Route
from routing.problem import Problem, Shipment, Vehicle


def check_plan(problem: Problem, plan: Plan) -> list[str]:
    """Every violation found, as readable sentences; an empty list means the plan is valid."""
    errors: list[str] = []
    errors += _check_coverage(problem, plan)
    seen: set[str] = set()
    recomputed = dict.fromkeys(("travel", "lateness", "waiting", "delay"), 0)
    for route in plan.routes:
        if route.vehicle_id not in problem.vehicle_index:
            errors.append(f"route for unknown vehicle {route.vehicle_id}")
            continue
        if route.vehicle_id in seen:
            errors.append(f"vehicle {route.vehicle_id} has more than one route")
        seen.add(route.vehicle_id)
        route_errors, *costs = _check_route(problem, problem.vehicle(route.vehicle_id), route)
        errors += route_errors
        for name, value in zip(recomputed, costs, strict=True):
            recomputed[name] += value
    if not errors:
        for name, value in recomputed.items():
            if getattr(plan.cost, name) != value:
                errors.append(f"reported {name} cost {getattr(plan.cost, name)} != recomputed {value}")
        penalties = problem.drop_penalty * len(plan.unassigned)
        if plan.cost.penalties != penalties:
            errors.append(f"reported penalties {plan.cost.penalties} != recomputed {penalties}")
    return errors


def _check_coverage(problem: Problem, plan: Plan) -> list[str]:
    errors: list[str] = []
    counts = Counter((s.shipment_id, s.kind) for r in plan.routes for s in r.stops)
    owner: dict[str, set[str]] = {}
    for r in plan.routes:
        for stop in r.stops:
            owner.setdefault(stop.shipment_id, set()).add(r.vehicle_id)
    dropped = Counter(u.shipment_id for u in plan.unassigned)
    known = set(problem.shipment_index)
    for sid in (set(owner) | set(dropped)) - known:
        errors.append(f"unknown shipment {sid} in plan")
    for s in problem.shipments:
        routed = s.id in owner
        if dropped[s.id] > 1 or (dropped[s.id] and routed):
            errors.append(f"shipment {s.id} is unassigned more than once or both routed and unassigned")
        if not routed and not dropped[s.id]:
            errors.append(f"shipment {s.id} is neither routed nor unassigned")
        if not routed:
            if s.id in problem.carrier:
                errors.append(f"on-board shipment {s.id} is not delivered by {problem.carrier[s.id]}")
            continue
        if len(owner[s.id]) > 1:
            errors.append(f"shipment {s.id} is split over vehicles {sorted(owner[s.id])}")
        wants_pickup = 1 if problem.has_pickup(s) else 0
        if counts[(s.id, "pickup")] != wants_pickup or counts[(s.id, "delivery")] != 1:
            errors.append(
                f"shipment {s.id} needs {wants_pickup} pickup(s) and 1 delivery, got "
                f"{counts[(s.id, 'pickup')]} and {counts[(s.id, 'delivery')]}"
            )
        fixed = problem.promised.get(s.id)
        if fixed is not None and owner[s.id] != {fixed}:
            errors.append(f"shipment {s.id} is fixed to {fixed} but served by {sorted(owner[s.id])}")
        if owner[s.id] & set(s.excluded):
            errors.append(f"shipment {s.id} is served by {sorted(owner[s.id] & set(s.excluded))}, which it excludes")
    return errors + _check_groups(problem, plan, owner)


def _check_groups(problem: Problem, plan: Plan, owner: dict[str, set[str]]) -> list[str]:
    """Each group on one vehicle or on none, and no delivery of it before its last pickup."""
    errors: list[str] = []
    for group, members in problem.groups.items():
        carriers = [frozenset(owner.get(sid, ())) for sid in members]
        if len(set(carriers)) > 1:
            split = {sid: sorted(c) for sid, c in zip(members, carriers, strict=True)}
            errors.append(f"group {group} is not carried whole by one vehicle: {split}")
            continue
        for route in plan.routes:
            kinds = [s.kind for s in route.stops if s.shipment_id in members]
            if "delivery" in kinds and "pickup" in kinds[kinds.index("delivery") :]:
                errors.append(f"group {group}: a delivery comes before a pickup of the same group")
    return errors


def _initial_load(problem: Problem, route: Route) -> list[int]:
    load = [0] * problem.dimensions
    picked = {s.shipment_id for s in route.stops if s.kind == "pickup"}
    for s in route.stops:
        if s.kind == "delivery" and s.shipment_id not in picked and s.shipment_id in problem.shipment_index:
            for k, d in enumerate(problem.shipment(s.shipment_id).demand):
                load[k] += d
    return load


def _check_route(problem: Problem, vehicle: Vehicle, route: Route) -> tuple[list[str], int, int, int, int]:
    """Violations of one route, its recomputed travel, lateness, waiting and delay costs."""
    errors: list[str] = []
    name = f"vehicle {vehicle.id}"
    visits = route.visits
    if not visits or visits[0].kind != "start" or visits[0].location != vehicle.start:
        return [f"{name}: route must begin with a start visit at {vehicle.start}"], 0, 0, 0, 0
    closes = visits[-1].kind == "end"
    if vehicle.end is None and closes:
        errors.append(f"{name}: open route must not have an end visit")
    if vehicle.end is not None and (not closes or visits[-1].location != vehicle.end):
        errors.append(f"{name}: route must finish with an end visit at {vehicle.end}")
    if any(v.kind in ("start", "end") for v in visits[1 : len(visits) - int(closes)]):
        errors.append(f"{name}: start/end visits in the middle of the route")
    m = problem.matrices[vehicle.profile]
    load = _initial_load(problem, route)
    if any(ld > c for ld, c in zip(load, vehicle.capacity, strict=True)):
        errors.append(f"{name}: leaves with load {load} over capacity {vehicle.capacity}")
    if visits[0].start_s < vehicle.shift[0]:
        errors.append(f"{name}: starts at {visits[0].start_s}, before its shift")
    ready = visits[0].start_s
    loc = vehicle.start
    travel = lateness = waiting = delay = 0
    clock = vehicle.shift[0]  # route time without waiting: what the delay cost counts
    picked_at: dict[str, int] = {}
    for visit in visits[1:]:
        leg_s, leg_m = int(m.durations[loc, visit.location]), int(m.distances[loc, visit.location])
        travel += leg_m if problem.objective == "distance" else leg_s
        clock += leg_s
        if visit.start_s < ready + leg_s:
            errors.append(
                f"{name}: service at {visit.location} starts at {visit.start_s}, before it can arrive ({ready + leg_s})"
            )
        loc = visit.location
        if visit.kind == "end":
            ready = max(visit.start_s, ready + leg_s)
            break
        if visit.shipment_id not in problem.shipment_index:
            continue  # reported by the coverage check
        shipment = problem.shipment(visit.shipment_id)
        if visit.kind == "pickup":
            errors += _check_pickup(name, shipment, visit.location, visit.start_s)
            picked_at[shipment.id] = visit.start_s
            waiting += max(0, visit.start_s - shipment.pickup_window[0]) * shipment.pickup_wait_cost
            sign, service = 1, shipment.pickup_service_s
            clock += service
        else:
            more, late = _check_delivery(problem, name, shipment, visit.location, visit.start_s, picked_at)
            errors += more
            lateness += late
            delay += clock * shipment.delay_cost
            sign, service = -1, shipment.delivery_service_s
            clock += service
        load = [a + sign * d for a, d in zip(load, shipment.demand, strict=True)]
        if any(ld > c or ld < 0 for ld, c in zip(load, vehicle.capacity, strict=True)):
            errors.append(f"{name}: load {load} after {visit.kind} of {shipment.id} outside 0..{vehicle.capacity}")
        ready = visit.start_s + service
    if ready > vehicle.shift[1]:
        errors.append(f"{name}: finishes at {ready}, after its shift ends at {vehicle.shift[1]}")
    return errors, travel, lateness, waiting, delay


def _check_pickup(name: str, shipment: Shipment, location: int, start: int) -> list[str]:
    errors = []
    if location != shipment.pickup:
        errors.append(f"{name}: pickup of {shipment.id} at {location}, expected {shipment.pickup}")
    if not shipment.pickup_window[0] <= start <= shipment.pickup_window[1]:
        errors.append(f"{name}: pickup of {shipment.id} at {start} outside window {shipment.pickup_window}")
    return errors


def _check_delivery(
    problem: Problem, name: str, shipment: Shipment, location: int, start: int, picked_at: dict[str, int]
) -> tuple[list[str], int]:
    errors = []
    if location != shipment.delivery:
        errors.append(f"{name}: delivery of {shipment.id} at {location}, expected {shipment.delivery}")
    if problem.has_pickup(shipment) and shipment.id not in picked_at:
        errors.append(f"{name}: delivers {shipment.id} before picking it up")
    earliest, due = shipment.delivery_window
    if start < earliest or (shipment.hard_deadline and start > due):
        errors.append(f"{name}: delivery of {shipment.id} at {start} outside window {shipment.delivery_window}")
    if shipment.max_ride_s is not None and shipment.id in picked_at:
        ride = start - picked_at[shipment.id]
        if ride > shipment.max_ride_s:
            errors.append(f"{name}: {shipment.id} rides {ride} s, more than {shipment.max_ride_s} s")
    late = 0 if shipment.hard_deadline else max(0, start - due) * shipment.lateness_cost
    return errors, late
