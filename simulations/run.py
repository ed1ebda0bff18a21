"""One simulation run: set up the cast, start every process, let SimPy's clock run, compute KPIs.

`core.clock` follows the SimPy clock for the whole run, so every service stamps virtual time.
Nothing here touches the database except through the services, in steps (simulations.runtime).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import simpy
import simpy.rt
from sqlalchemy import text

from core import clock
from core.db import make_engine
from dispatch.config import SIMULATED_SOLVER_WORK, DispatchSettings, Policy, get_dispatch_settings
from routing import Haversine, TravelTimes
from routing.street_graph import StreetGraph
from simulations import kpis as kpi
from simulations.courier import Rider
from simulations.demand import Customers
from simulations.floor import Floor
from simulations.ids import seeded_uuids
from simulations.movement import Streets
from simulations.operations import Dispatchers, outage, replenisher, storm
from simulations.ping_relay import SEND_EVERY, ping_relay
from simulations.records import Records, backlog
from simulations.runtime import Sim
from simulations.scenarios import Scenario
from simulations.world import World, build

PROGRESS_EVERY_S = 60
SIMULATION_ITSELF = "simulation itself"


@dataclass(frozen=True, slots=True)
class Options:
    scenario: Scenario
    seed: int
    policy: Policy
    # A cycle's VRP search is bounded by `solver_work` (dispatch.config): the same seed gives the
    # same KPIs whatever the machine's speed or load. A time limit replaces it; a live run, whose
    # cycles must keep up with the clock, uses the platform's when none is given (`dispatch_settings`).
    solver_work: int = SIMULATED_SOLVER_WORK
    time_limit_s: float | None = None
    cycle_period_s: float = 30.0
    cycle_min_gap_s: float = 30.0  # a cycle asked for (order packed, delivery done) waits at least this
    tail_s: float = 1800.0  # after the last order: time for the couriers to deliver what is open
    ping_every_s: float = 15.0
    ping_chunk_s: float = 120.0  # pings are sent in batches covering this much riding
    live_speed: float | None = None  # None: as fast as possible; else virtual seconds per real second
    tag: str = "sim"
    password: str | None = None  # of the simulated accounts (live demo: the demo password)


@dataclass
class Progress:
    """What the progress display shows; updated every virtual minute."""

    virtual_s: float
    total_s: float
    placed: int
    delivered: int
    late: int
    couriers_busy: int
    couriers_on_shift: int
    cycles: int


@dataclass
class RunResult:
    options: Options
    wall_s: float
    virtual_s: float
    kpis: dict[str, Any]
    records: Records
    world: World
    extra: dict[str, Any] = field(default_factory=dict)

    def contract(self) -> dict[str, Any]:
        """The `--json` document of one run (its keys are a published contract)."""
        return {
            "scenario": self.options.scenario.name,
            "seed": self.options.seed,
            "policy": self.options.policy,
            "wall_s": round(self.wall_s, 2),
            "virtual_s": round(self.virtual_s, 1),
            "orders": sum(1 for o in self.records.orders.values() if o.placed_s < self.options.scenario.duration_s),
            "kpis": {key: self.kpis[key] for key in kpi.CONTRACT_KEYS},
            "more_kpis": {k: v for k, v in self.kpis.items() if k not in kpi.CONTRACT_KEYS},
            "wall_s_by_work": {work: round(seconds, 1) for work, seconds in self.wall_by_work().items()},
            # Not in the wall time: the ping relay records on the second core (simulations.ping_relay).
            "ping_relay_busy_s": round(self.records.ping_relay_s, 2),
            "conditions": self.conditions(),
        }

    def conditions(self) -> dict[str, Any]:
        """What the figures depend on besides scenario and seed: the fleet, the cycle period, and
        how each VRP search was bounded (by work: reproducible; by time: machine-dependent)."""
        settings = dispatch_settings(self.options)
        return {
            "couriers": self.options.scenario.couriers,
            "cycle_period_s": self.options.cycle_period_s,
            "solver_work": settings.solver_work,
            "time_limit_s": settings.time_limit_s if settings.solver_work is None else None,
        }

    def wall_by_work(self) -> dict[str, float]:
        """Where the run's wall time went, by kind of work (records.Work), largest first; the rest
        is the simulation's own (SimPy, courier movement, bookkeeping)."""
        spent = sorted(self.records.wall_s.items(), key=lambda item: -item[1])
        rest = self.wall_s - sum(seconds for _, seconds in spent)
        return {**dict(spent), SIMULATION_ITSELF: max(0.0, rest)}


def run(
    database_url: str,
    options: Options,
    *,
    graph: StreetGraph | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    started = time.perf_counter()
    engine = make_engine(database_url, pool_size=4, max_overflow=4)
    scenario = options.scenario
    if options.live_speed is None:
        env: simpy.Environment = simpy.Environment()
    else:
        env = simpy.rt.RealtimeEnvironment(factor=1 / options.live_speed, strict=False)
    live = options.live_speed is not None
    ids = seeded_uuids(options.seed) if not live else nullcontext()
    try:
        # Live, each batch goes at once: the maps show a courier where the run has them.
        seed, send_every = (None, 1) if live else (options.seed, SEND_EVERY)
        with ping_relay(database_url, start=scenario.start, seed=seed, send_every=send_every) as relay:
            sim = Sim(env, engine, scenario, options.seed, Records(), relay)
            with clock.use_clock(sim.now), ids:
                world = _simulate(sim, options, graph, on_progress)
    finally:
        engine.dispose()
    return RunResult(
        options=options,
        wall_s=time.perf_counter() - started,
        virtual_s=float(env.now),
        kpis=kpi.compute(sim.records, placed_before_s=scenario.duration_s),
        records=sim.records,
        world=world,
    )


def _simulate(
    sim: Sim, options: Options, graph: StreetGraph | None, on_progress: Callable[[Progress], None] | None
) -> World:
    """Build the world, start every process and run the clock to the end; the records fill up."""
    env, scenario = sim.env, sim.scenario
    with sim.step("set-up") as session:
        world = build(
            session,
            scenario,
            sim.stream("world"),
            tag=options.tag,
            password=options.password,
            live=options.live_speed is not None,
        )
    with sim.step("set-up") as session:
        # Fresh planner statistics now that the zones exist: autovacuum never analyses a
        # table as small as dispatch_zone_locations, and without its statistics the
        # cycle's read probed every order the zone ever had (42 ms a cycle after 12,000
        # orders of a simulated day, 13 ms with them).
        session.execute(text("ANALYZE"))
    travel: TravelTimes = graph if graph is not None else Haversine()
    riders = _start(sim, world, options, travel, graph)
    end_s = scenario.duration_s + options.tail_s
    if on_progress is not None:
        env.process(_report(sim, riders, end_s, on_progress))
    env.run(until=end_s)
    for rider in riders:
        rider.close(env.now)
    sim.settle_pings()
    with sim.step("set-up") as session:
        sim.records.backlog = backlog(session, list(sim.records.orders))
    return world


def dispatch_settings(options: Options) -> DispatchSettings:
    """The platform's dispatch settings with the run's policy and bound on the solver's search:
    `solver_work`, unless a time limit was given or the run is live (its cycles must keep up with
    the clock: the given limit, else the platform's own)."""
    settings = get_dispatch_settings()
    if options.time_limit_s is None and options.live_speed is None:
        return settings.model_copy(update={"policy": options.policy, "solver_work": options.solver_work})
    limit = options.time_limit_s or settings.time_limit_s
    return settings.model_copy(update={"policy": options.policy, "time_limit_s": limit, "solver_work": None})


def _start(sim: Sim, world: World, options: Options, travel: TravelTimes, graph: StreetGraph | None) -> list[Rider]:
    env, scenario = sim.env, sim.scenario
    floor = Floor(sim, world)
    customers = Customers(sim, world, floor.on_placed)
    env.process(customers.run())
    dispatchers = Dispatchers(
        sim,
        world.zones,
        settings=dispatch_settings(options),
        travel=travel,
        period_s=options.cycle_period_s,
        min_gap_s=options.cycle_min_gap_s,
    )
    for zone_id in world.zones:
        env.process(dispatchers.run(zone_id))
    env.process(replenisher(sim))
    if scenario.storm_at_s is not None:
        env.process(storm(sim, scenario.storm_at_s))
    if scenario.outage_at_s is not None:
        env.process(outage(sim, floor, scenario.outage_at_s))
    streets = Streets(graph)
    riders = [
        Rider(sim, plan, streets, ping_every_s=options.ping_every_s, chunk_s=options.ping_chunk_s)
        for plan in world.couriers
    ]
    by_courier = {rider.plan.courier_id: rider for rider in riders}

    def wake(courier_ids: set[uuid.UUID]) -> None:
        # In the couriers' own order, not the ids': the same seed must wake them the same way.
        for courier_id in sorted(courier_ids & by_courier.keys(), key=lambda c: by_courier[c].plan.number):
            by_courier[courier_id].wake()

    sim.on_courier_messages = wake
    for rider in riders:
        env.process(rider.run())
    return riders


def _report(sim: Sim, riders: list[Rider], end_s: float, on_progress: Callable[[Progress], None]) -> Any:
    while True:
        records = sim.records
        delivered = [o for o in records.orders.values() if o.delivered_s is not None]
        on_progress(
            Progress(
                virtual_s=float(sim.env.now),
                total_s=end_s,
                placed=len(records.orders),
                delivered=len(delivered),
                late=sum(1 for o in delivered if (o.late_s or 0) > 0),
                couriers_busy=sum(1 for r in riders if r.busy),
                couriers_on_shift=sum(1 for r in riders if r.on_shift),
                cycles=len(records.cycles),
            )
        )
        yield sim.env.timeout(PROGRESS_EVERY_S)
