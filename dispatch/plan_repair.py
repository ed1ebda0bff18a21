"""A guard between the solver and the database: no order rides on a vehicle it does not fit.

`routing.greedy` (also `routing.solve`'s fallback) does not check a pickup-and-delivery shipment's
demand against the chosen vehicle's capacity (reported to the routing engineers), so a frozen
order could land on a courier without a cold box. Until that is fixed there, a shipment on a
vehicle it does not fit is moved to the end of the route of the courier who fits it and can reach
its store soonest, or left unassigned with the reason.
"""

from __future__ import annotations

from routing import Plan, Problem, Shipment, Stop
from routing.plan import build_plan

NO_ROOM = "no courier on shift has room for it (bags, weight or cold box)"


def _fits(problem: Problem, shipment: Shipment, vehicle_id: str) -> bool:
    capacity = problem.vehicle(vehicle_id).capacity
    return all(d <= c for d, c in zip(shipment.demand, capacity, strict=True))


def repair(problem: Problem, plan: Plan) -> Plan:
    misplaced = {
        sid
        for route in plan.routes
        for sid in route.shipment_ids
        if sid not in problem.carrier and not _fits(problem, problem.shipment(sid), route.vehicle_id)
    }
    if not misplaced:
        return plan
    sequences = {r.vehicle_id: [s for s in r.stops if s.shipment_id not in misplaced] for r in plan.routes}
    reasons = {u.shipment_id: u.reason for u in plan.unassigned}
    for sid in sorted(misplaced):
        shipment = problem.shipment(sid)
        current = build_plan(problem, sequences, plan.stats)
        best: tuple[int, str] | None = None
        for route in current.routes:
            if shipment.id in problem.promised and problem.promised[shipment.id] != route.vehicle_id:
                continue
            if not _fits(problem, shipment, route.vehicle_id):
                continue
            vehicle = problem.vehicle(route.vehicle_id)
            last = [v for v in route.visits if v.kind != "end"][-1]
            pickup = shipment.pickup if shipment.pickup is not None else shipment.delivery
            at = last.departure_s + int(problem.matrices[vehicle.profile].durations[last.location, pickup])
            if at <= vehicle.shift[1] and (best is None or (at, route.vehicle_id) < best):
                best = (at, route.vehicle_id)
        if best is None:
            reasons[sid] = NO_ROOM
            continue
        sequences[best[1]] += [Stop("pickup", sid), Stop("delivery", sid)]
    return build_plan(problem, sequences, plan.stats, reasons=reasons)
