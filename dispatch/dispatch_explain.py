"""Why each order went to its courier in a dispatch run: chosen courier, ETA, the detour the order
adds to that courier's route, and the next-best courier with the reason it lost.

The next-best courier is judged the way a dispatcher would check it by hand: could they have been
at the store sooner, after finishing what they already have? If not, they lost on time; if yes,
the solver still preferred the chosen courier because the plan as a whole is cheaper (batching
with a nearby order, or not moving an order that was already promised). Vectorised with numpy:
one couriers × orders matrix per vehicle profile.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dispatch.problem import Index
from routing import Plan, Problem, Route

_INF = np.iinfo(np.int64).max // 4


@dataclass(frozen=True, slots=True)
class Explanation:
    order_id: uuid.UUID
    courier_id: uuid.UUID | None
    eta_s: int | None
    detour_s: int | None
    decision: str
    details: dict[str, Any]


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def _route_travel(problem: Problem, route: Route, skip: set[str]) -> int:
    m = problem.matrices[problem.vehicle(route.vehicle_id).profile].durations
    locs = [v.location for v in route.visits if v.kind == "start" or (v.shipment_id not in (None, *skip))]
    return int(sum(int(m[a, b]) for a, b in itertools.pairwise(locs)))


def explain(problem: Problem, plan: Plan, index: Index, *, previous: Mapping[str, str]) -> list[Explanation]:
    """One explanation per order; a split order's parts are explained together."""
    routes = {r.vehicle_id: r for r in plan.routes}
    owner = plan.assignment()
    reasons = {u.shipment_id: u.reason for u in plan.unassigned}
    table = _Reach.of(problem, plan)
    out = []
    explained: set[uuid.UUID] = set()
    for s in problem.shipments:
        order_id = index.order_of(s.id).order_id
        if order_id in explained:
            continue
        explained.add(order_id)
        vid = owner.get(s.id)
        if vid is None:
            reason = reasons.get(s.id, "not planned")
            out.append(Explanation(order_id, None, None, None, f"Not assigned: {reason}.", {"reason": reason}))
            continue
        route = routes[vid]
        parts = set(problem.siblings(s))
        pickups = [v for v in route.visits if v.shipment_id in parts and v.kind == "pickup"]
        pickup = pickups[0] if pickups else None
        drop = next(v for v in route.visits if v.shipment_id in parts and v.kind == "delivery")
        detour = route.travel_s - _route_travel(problem, route, parts)
        details: dict[str, Any] = {
            "pickup_eta_s": pickup.arrival_s if pickup else None,
            "dropoff_eta_s": drop.arrival_s,
            "late_s": drop.lateness_s,
            "stops_on_route": len(route.stops),
        }
        if len(parts) > 1:
            details["pickups"] = [
                {"location_id": str(index.parts[v.shipment_id or ""][1].location_id), "eta_s": v.arrival_s}
                for v in pickups
            ]
        if s.id in problem.carrier:
            text = "On board: stays with the courier who picked it up"
        elif s.id in problem.promised:
            text = "Fixed to this courier (pinned by an operator or already at the store)"
        else:
            text, runner = table.versus(s.id, vid, pickup.arrival_s if pickup else 0)
            details["next_best"] = runner
            if previous.get(s.id) not in (None, vid):
                details["moved_from"] = previous[s.id]
        if len(parts) > 1:
            text += f"; split order: collects all {len(parts)} parts before the door"
        decision = f"{text}; delivery in about {_minutes(drop.arrival_s)} min, adds {_minutes(detour)} min of riding"
        if drop.lateness_s:
            decision += f", {_minutes(drop.lateness_s)} min late"
        out.append(Explanation(order_id, uuid.UUID(vid), drop.arrival_s, detour, decision + ".", details))
    return out


_FITS, _NO_ROOM, _SHIFT_ENDS = 0, 1, 2
_WHY = {_NO_ROOM: "no room (bags, weight or cold box)", _SHIFT_ENDS: "shift ends first"}


@dataclass(frozen=True, slots=True)
class _Reach:
    """couriers x shipments: when each courier could be at the shipment's store after finishing
    their current route (`_INF` when they cannot take it, with the reason code in `why`)."""

    vehicles: list[str]
    column: dict[str, int]
    at: np.ndarray
    why: np.ndarray

    @classmethod
    def of(cls, problem: Problem, plan: Plan) -> _Reach:
        pending = [s for s in problem.shipments if problem.has_pickup(s) and s.pickup is not None]
        vehicles = [r.vehicle_id for r in plan.routes]
        at = np.full((len(vehicles), len(pending)), _INF, dtype=np.int64)
        why = np.zeros((len(vehicles), len(pending)), dtype=np.int8)
        if pending and vehicles:
            pickups = np.array([s.pickup for s in pending], dtype=np.int64)
            ready = np.array([s.pickup_window[0] for s in pending], dtype=np.int64)
            demand = np.array([s.demand for s in pending], dtype=np.int64)
            for row, route in enumerate(plan.routes):
                v = problem.vehicle(route.vehicle_id)
                last = [x for x in route.visits if x.kind != "end"][-1]
                m = problem.matrices[v.profile].durations
                when = np.maximum(last.departure_s + m[last.location, pickups], ready)
                fits = np.all(demand <= np.array(v.capacity, dtype=np.int64), axis=1)
                in_shift = when <= v.shift[1]
                why[row] = np.where(~fits, _NO_ROOM, np.where(~in_shift, _SHIFT_ENDS, _FITS))
                at[row] = np.where(why[row] == _FITS, when, _INF)
        return cls(vehicles, {s.id: i for i, s in enumerate(pending)}, at, why)

    def versus(self, sid: str, chosen: str, chosen_pickup_s: int) -> tuple[str, dict[str, Any] | None]:
        col = self.column.get(sid)
        if col is None or len(self.vehicles) < 2:
            return "The only courier on shift", None
        times = self.at[:, col].copy()
        me = self.vehicles.index(chosen)
        times[me] = _INF
        best = int(np.argmin(times))
        if times[best] >= _INF:
            codes = self.why[:, col]
            other = next(i for i in range(len(self.vehicles)) if i != me)
            reason = _WHY.get(int(codes[other]), "cannot take it")
            vid = self.vehicles[other]
            return f"No other courier could take it (e.g. {vid[:8]}: {reason})", {"courier_id": vid, "reason": reason}
        vid, t = self.vehicles[best], int(times[best])
        runner: dict[str, Any] = {"courier_id": vid, "pickup_eta_s": t}
        if t >= chosen_pickup_s:
            runner["reason"] = f"would reach the store {_minutes(t - chosen_pickup_s)} min later"
            return f"Earliest at the store; next best {vid[:8]} {runner['reason']}", runner
        runner["reason"] = "could be at the store sooner, but the plan as a whole costs more with them"
        return f"Cheapest overall; next best {vid[:8]} {runner['reason']}", runner
