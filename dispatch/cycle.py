"""One dispatch cycle for one zone: lock, read, build, solve, write.

The zone is locked in Redis (with an expiry, so a dead worker frees it): one worker plans a zone
at a time, and a cycle that finds the lock taken is *skipped*, never queued behind the running one
(beat will start another in a few seconds anyway). Reading and writing are two short units of
work; the solve runs between them with no database transaction open, so order and courier rows
are never locked while OR-Tools thinks. The write re-checks every order under lock and leaves
alone those that moved on meanwhile (picked up, cancelled): the next cycle sees them as they are.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from core import clock
from core.db import session_scope
from core.redis import get_redis
from dispatch import cycle_read, cycle_write, offers
from dispatch.config import DispatchSettings, Policy, get_dispatch_settings
from dispatch.dispatch_explain import explain
from dispatch.metrics import CYCLE_PHASE_SECONDS, CYCLES
from dispatch.problem import Built, build
from dispatch.street_travel import travel_times
from routing import Plan, SolveParams, TravelTimes, greedy, solve

LOCK_KEY = "o2o:dispatch:zone:{zone_id}"
Scope = Callable[[], AbstractContextManager[Session]]
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CycleResult:
    zone_id: uuid.UUID
    skipped: bool
    run_id: uuid.UUID | None = None
    orders: int = 0
    assigned: int = 0
    moved: int = 0
    unassigned: int = 0
    read_s: float = 0.0  # reading the zone and building the problem (build_s is part of it)
    solve_s: float = 0.0
    write_s: float = 0.0
    build_s: float = 0.0

    @property
    def cycle_s(self) -> float:
        return self.read_s + self.solve_s + self.write_s


def run_zone(
    zone_id: uuid.UUID,
    *,
    scope: Scope = session_scope,
    policy: Policy | None = None,
    time_limit_s: float | None = None,
    travel: TravelTimes | None = None,
    settings: DispatchSettings | None = None,
) -> CycleResult:
    """Plan the zone once, unless another worker is planning it right now (then skipped).

    `policy` and `time_limit_s` override `settings`; a time limit given here also replaces a
    bound on work (`solver_work`) the settings may have."""
    settings = settings or get_dispatch_settings()
    if policy is not None:
        settings = settings.model_copy(update={"policy": policy})
    if time_limit_s is not None:
        settings = settings.model_copy(update={"time_limit_s": time_limit_s, "solver_work": None})
    lock = get_redis().lock(LOCK_KEY.format(zone_id=zone_id), timeout=settings.lock_ttl_s, blocking=False)
    if not lock.acquire(blocking=False):
        log.info("dispatch_cycle_skipped", zone_id=str(zone_id))
        CYCLES.labels("skipped").inc()
        return CycleResult(zone_id, skipped=True)
    try:
        result = _cycle(zone_id, scope, settings, travel or travel_times())
    finally:
        try:
            lock.release()
        except Exception:
            log.warning("dispatch_lock_expired", zone_id=str(zone_id))
    CYCLES.labels("ran").inc()
    for phase, seconds in (("read", result.read_s), ("solve", result.solve_s), ("write", result.write_s)):
        CYCLE_PHASE_SECONDS.labels(str(zone_id), phase).observe(seconds)
    return result


def _cycle(zone_id: uuid.UUID, scope: Scope, settings: DispatchSettings, travel: TravelTimes) -> CycleResult:
    started = time.perf_counter()
    with scope() as session:
        now = clock.now()
        offers.expire(session, zone_id=zone_id, now=now)
        snapshot = cycle_read.read(session, zone_id=zone_id, now=now, soon_ready_s=settings.soon_ready_s)
    building = time.perf_counter()
    built = build(snapshot, settings=settings, travel=travel)
    read_s = time.perf_counter() - started
    build_s = time.perf_counter() - building

    started = time.perf_counter()
    plan = solve_built(built, settings)
    previous = built.previous.assignment() if built.previous is not None else {}
    explanations = explain(built.problem, plan, built.index, previous=previous)
    solve_s = time.perf_counter() - started

    started = time.perf_counter()
    with scope() as session:
        written = cycle_write.apply(
            session,
            zone_id=zone_id,
            built=built,
            plan=plan,
            explanations=explanations,
            policy=settings.policy,
            timings=(read_s, solve_s, started),
        )
    write_s = time.perf_counter() - started
    return CycleResult(
        zone_id,
        skipped=False,
        run_id=written.run_id,
        orders=written.orders,
        assigned=written.assigned,
        moved=written.moved,
        unassigned=written.unassigned,
        read_s=read_s,
        solve_s=solve_s,
        write_s=write_s,
        build_s=build_s,
    )


def solve_built(built: Built, settings: DispatchSettings) -> Plan:
    """The policy's plan: the VRP solver warm-started from the routes as they stand (bounded by
    `settings.solver_work` when set, else by `settings.time_limit_s`), or greedy."""
    problem = built.problem
    if settings.policy == "greedy" or not problem.vehicles or not problem.shipments:
        return greedy(problem)
    limit = settings.time_limit_s if settings.solver_work is None else None
    params = SolveParams(
        time_limit_s=limit, max_iterations=settings.solver_work, workers=settings.solver_workers, seed=0
    )
    return solve(problem, params, initial=built.previous)
