"""Large-neighbourhood search by parts: re-solve a few related routes at a time with OR-Tools.

One OR-Tools model of a whole city does not improve fast enough: on 200 pickup-and-delivery pairs
its local search needs ~60,000 neighbours per improving move, and on 1,000 pairs its insertion
heuristics alone outlast any dispatch cycle (DESIGN.md §5). A model of 4 couriers and their ~20
orders, on the other hand, reaches a local optimum in tens of milliseconds. So the search
repeatedly picks a *part* — a random shipment, the couriers serving the shipments most related to
it (nearby pickups and drop-offs, similar ready times), the courier starting closest to it, and a
few unassigned shipments nearby — solves that part warm-started from its current routes, and keeps
the result when it is not worse. Every part is a `Problem` of its own, so all constraints
(windows, max ride, fixed assignments, profiles, reassignment costs) hold exactly as in a full
solve, and every result is priced by `build_plan`, the same code that prices the final plan.

This module imports no solver: the part solver is a callable (`routing._ortools.solve_part`).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from routing.plan import SolverStats, Stop, build_plan
from routing.problem import Problem, Shipment

Routes = dict[str, list[Stop]]
#: Service start lower bounds per vehicle, aligned with its stops (see `build_plan`'s `starts`).
Starts = dict[str, list[int]]
#: Solves one part warm-started from its routes until the deadline (infinite: until its solution
#: limit, PART_SOLUTIONS or DEEP_SOLUTIONS), with a deeper search when the last flag is set; None
#: when it found nothing.
PartSolver = Callable[[Problem, Routes, float, bool], tuple[Routes, Starts] | None]

#: Couriers per part. Measured on 200 orders / 40 couriers (5 s): 4 improved most per second;
#: 3 converges to worse plans, 5–6 spends too long per part.
PART_VEHICLES = 4
#: Longest search on one part. Most of a part's descent happens in the first tens of ms; the rest
#: proves a local optimum, which is not worth waiting for.
PART_TIME_S = 0.05
#: Unassigned shipments offered to each part, nearest to its seed first.
LOOSE_PER_PART = 5
#: Weight of one second of ready-time difference against one second of travel in relatedness.
READY_WEIGHT = 1.0
#: Random noise (s) added to relatedness, so that parts around the same seed differ.
NOISE_S = 600.0
#: Attempts at picking a part not already known to be fruitless before searching one anyway.
REPICKS = 5
#: Time for a deeper search (guided local search in `routing._ortools`) of a part that a descent
#: already left unchanged: measured on 200 orders / 40 couriers, 5 s, 3 seeds, 1.4% lower cost
#: than picking another part (0.08–0.3 s all did about as well).
DEEP_TIME_S = 0.15
#: Without a clock (a search bounded by work, `SolveParams.time_limit_s=None`), a part's search
#: ends after this many solutions instead: about what PART_TIME_S and DEEP_TIME_S hold (measured
#: on parts of 200 orders / 40 couriers from greedy routes: a descent found 50 solutions in a
#: median 129 ms, guided local search 57 in 150 ms).
PART_SOLUTIONS = 20
DEEP_SOLUTIONS = 60
#: Couriers per part chosen by nearness of their start to the seed rather than by their shipments.
NEAREST = 1


@dataclass(frozen=True, slots=True)
class PartsResult:
    routes: Routes
    starts: Starts
    parts: int
    improved: int


class _Relatedness:
    """How related two shipments are: travel between their pickups and between their drop-offs
    (both ways) plus the difference of their ready times. Shaw's relatedness, in seconds."""

    def __init__(self, problem: Problem, shipments: Sequence[Shipment]) -> None:
        profile = max({v.profile for v in problem.vehicles}, key=[v.profile for v in problem.vehicles].count)
        self.durations = problem.matrices[profile].durations
        self.ids = [s.id for s in shipments]
        deliveries = np.asarray([s.delivery for s in shipments], dtype=np.int64)
        # A depot delivery's "pickup" is its drop-off: what matters is where the courier goes.
        self.pickups = np.asarray([s.pickup if s.pickup is not None else s.delivery for s in shipments])
        self.deliveries = deliveries
        self.ready = np.asarray(
            [s.pickup_window[0] if s.pickup is not None else s.delivery_window[0] for s in shipments]
        )

        self._rows: dict[int, npt.NDArray[np.float64]] = {}

    def to(self, i: int, rng: random.Random) -> npt.NDArray[np.float64]:
        score = self._rows.get(i)
        if score is None:  # computed once per seed shipment: seeds recur many times in a search
            d = self.durations
            p, q = self.pickups[i], self.deliveries[i]
            score = (
                d[p, self.pickups]
                + d[self.pickups, p]
                + d[q, self.deliveries]
                + d[self.deliveries, q]
                + READY_WEIGHT * np.abs(self.ready - self.ready[i])
            ).astype(np.float64)
            self._rows[i] = score
        noise = np.random.default_rng(rng.getrandbits(32)).uniform(0.0, NOISE_S, len(score))
        return np.asarray(score + noise, dtype=np.float64)


def _pick_part(
    problem: Problem, related: _Relatedness, routes: Routes, rng: random.Random
) -> tuple[list[str], list[str]]:
    """(vehicle ids, shipment ids) of one part around a random seed shipment."""
    owner = {stop.shipment_id: vid for vid, stops in routes.items() for stop in stops}
    seed = rng.randrange(len(related.ids))
    order = np.argsort(related.to(seed, rng))
    vehicles: list[str] = []
    loose: list[str] = []
    for i in order:
        sid = related.ids[int(i)]
        vid = owner.get(sid)
        if vid is None:
            if len(loose) < LOOSE_PER_PART:
                loose.append(sid)
        elif vid not in vehicles and len(vehicles) < PART_VEHICLES - NEAREST:
            vehicles.append(vid)
        if len(vehicles) >= PART_VEHICLES - NEAREST and len(loose) >= LOOSE_PER_PART:
            break
    # Plus the courier who starts nearest to the seed's first stop: often an idle one, which no
    # shipment relates to, yet the best to take it.
    here = int(related.pickups[seed])
    others = [v for v in problem.vehicles if v.id not in vehicles]
    if others and NEAREST:
        m = problem.matrices[others[0].profile].durations
        vehicles.append(min(others, key=lambda v: (int(m[v.start, here]), rng.random())).id)
    shipments = [stop.shipment_id for vid in vehicles for stop in routes.get(vid, ()) if stop.kind == "delivery"]
    fixed = [sid for vid in vehicles for sid in (*problem.vehicle(vid).on_board, *problem.vehicle(vid).assigned)]
    # A part of a group comes with its siblings, or the part's solve could separate them.
    chosen = [sib for sid in [*shipments, *fixed, *loose] for sib in problem.siblings(problem.shipment(sid))]
    return vehicles, list(dict.fromkeys(chosen))


def _cost(problem: Problem, routes: Routes, starts: Starts, previous: Mapping[str, str] | None) -> int:
    stats = SolverStats("parts", "", 0.0)
    return build_plan(problem, routes, stats, starts=starts, previous=previous).cost.total


def improve_by_parts(
    problem: Problem,
    shipments: Sequence[Shipment],
    routes: Routes,
    starts: Starts,
    deadline: float,
    solve_part: PartSolver,
    *,
    seed: int = 0,
    previous: Mapping[str, str] | None = None,
    max_parts: int | None = None,
) -> PartsResult:
    """Improve `routes` (of the routable `shipments`, with their `starts`) part by part until
    `deadline` or `max_parts`. Returns the best routes found; they are never worse than the input.

    An infinite `deadline` needs `max_parts`; each part's search is then bounded by its solutions
    (the solver's concern), so the same input gives the same routes however busy the machine is.
    """
    if math.isinf(deadline) and max_parts is None:
        raise ValueError("a search by parts without a deadline needs max_parts")
    routes = {v.id: list(routes.get(v.id, ())) for v in problem.vehicles}
    # One lower bound per stop; missing or stale ones (0) mean "as early as possible".
    starts = {
        v: [*starts.get(v, [])[: len(stops)], *[0] * (len(stops) - len(starts.get(v, [])))]
        for v, stops in routes.items()
    }
    if not problem.vehicles or not shipments:
        return PartsResult(routes, starts, 0, 0)
    rng = random.Random(seed)
    related = _Relatedness(problem, shipments)
    by_id = {s.id: s for s in shipments}
    parts = improved = 0
    # Parts already searched without result, with the routes they had then: searching the same
    # again is deterministic and would find nothing again (a quarter of all parts after 10 s).
    fruitless: set[int] = set()
    while time.monotonic() < deadline and (max_parts is None or parts < max_parts):
        for _ in range(REPICKS):
            vehicle_ids, shipment_ids = _pick_part(problem, related, routes, rng)
            key = hash((frozenset(shipment_ids), *((v, *routes[v]) for v in sorted(vehicle_ids))))
            if key not in fruitless:
                break
        deep = key in fruitless  # every pick was fruitless: search this one harder
        part = replace(
            problem,
            vehicles=tuple(problem.vehicle(v) for v in vehicle_ids),
            shipments=tuple(by_id.get(sid) or problem.shipment(sid) for sid in shipment_ids),
        )
        current = {v: routes[v] for v in vehicle_ids}
        current_starts = {v: starts[v] for v in vehicle_ids}
        parts += 1
        limit = DEEP_TIME_S if deep else PART_TIME_S
        part_deadline = deadline if math.isinf(deadline) else min(deadline, time.monotonic() + limit)
        found = solve_part(part, current, part_deadline, deep)
        if found is None:
            continue
        new = {v: list(found[0].get(v, ())) for v in vehicle_ids}
        new_starts = {v: list(found[1].get(v, [0] * len(new[v]))) for v in vehicle_ids}
        if new != current and _cost(part, new, new_starts, previous) <= _cost(part, current, current_starts, previous):
            improved += 1
            routes.update(new)
            starts.update(new_starts)
        else:
            fruitless.add(key)
    return PartsResult(routes, starts, parts, improved)


def split(
    problem: Problem, routes: Routes, shipments: Sequence[Shipment], ways: int, seed: int
) -> list[tuple[list[str], list[str]]]:
    """Couriers in `ways` groups of neighbours (sizes differ by at most one), each with the
    unassigned shipments nearest to it: (vehicle ids, unassigned shipment ids) per group.

    Workers then search by parts inside their own group at the same time, on separate cores, and
    their routes merge without conflict. Groups are cut by repeated bisection of the largest one
    between two far-apart couriers, each courier placed by a stop in the middle of its route.
    """
    rng = random.Random(seed)
    durations = problem.matrices[problem.vehicles[0].profile].durations
    by_id = {s.id: s for s in shipments}

    def anchor(vid: str) -> int:
        stops = routes.get(vid, [])
        if not stops:
            return problem.vehicle(vid).start
        stop = stops[len(stops) // 2]
        s = by_id.get(stop.shipment_id) or problem.shipment(stop.shipment_id)
        return s.pickup if stop.kind == "pickup" and s.pickup is not None else s.delivery

    anchors = {v.id: anchor(v.id) for v in problem.vehicles}
    groups = [[v.id for v in problem.vehicles]]
    while len(groups) < ways and max(len(g) for g in groups) > 1:
        group = max(groups, key=len)
        groups.remove(group)
        a = anchors[rng.choice(group)]
        b = anchors[max(group, key=lambda v: int(durations[a, anchors[v]]))]
        group.sort(key=lambda v: int(durations[anchors[v], a]) - int(durations[anchors[v], b]))
        groups += [group[: len(group) // 2], group[len(group) // 2 :]]
    routed = {stop.shipment_id for stops in routes.values() for stop in stops}
    loose: list[list[str]] = [[] for _ in groups]
    placed: dict[str, int] = {}  # a group's parts all go where its first part went
    for s in shipments:
        if s.id not in routed:
            here = s.pickup if s.pickup is not None else s.delivery
            nearest = placed.get(s.group) if s.group is not None else None
            if nearest is None:
                nearest = min(
                    range(len(groups)), key=lambda g: min(int(durations[anchors[v], here]) for v in groups[g])
                )
            if s.group is not None:
                placed[s.group] = nearest
            loose[nearest].append(s.id)
    return list(zip(groups, loose, strict=True))
