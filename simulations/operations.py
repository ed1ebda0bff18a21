"""The back office in virtual time: one dispatcher per zone running the very cycle the Celery task
runs (`dispatch.cycle.run_zone`), the replenishment planner with its trucks, the reservation
sweeper, and the scenario's disruptions (storm, store outage)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator
from datetime import datetime
from typing import Any

import simpy

from core.errors import DomainError
from dispatch import cycle
from dispatch.config import DispatchSettings
from routing import TravelTimes
from simulations.floor import Floor
from simulations.records import CycleRecord
from simulations.runtime import Sim
from warehouse import replenishment, reservations, transfer_queries, transfers
from warehouse.transfer_schemas import ReceiptLineIn

Process = Generator[simpy.Event, Any, None]
SWEEP_EVERY_S = 60
REPLENISH_SWEEP_EVERY_S = 600


class Dispatchers:
    """A cycle per zone every `period_s`, and sooner (but at most every `min_gap_s`) when a
    transaction asked for one (an order packed, a delivery done, a shift started)."""

    def __init__(
        self,
        sim: Sim,
        zones: list[uuid.UUID],
        *,
        settings: DispatchSettings,
        travel: TravelTimes,
        period_s: float = 30.0,
        min_gap_s: float = 10.0,
    ) -> None:
        self.sim, self.zones, self.settings, self.travel = sim, zones, settings, travel
        self.period_s, self.min_gap_s = period_s, min_gap_s
        self.wakers: dict[uuid.UUID, simpy.Event] = {}
        sim.on_cycle_request = self.request

    def request(self, zone_id: uuid.UUID) -> None:
        waker = self.wakers.get(zone_id)
        if waker is not None and not waker.triggered:
            waker.succeed()

    def run(self, zone_id: uuid.UUID) -> Process:
        env = self.sim.env
        while True:
            self.wakers[zone_id] = env.event()
            yield self.wakers[zone_id] | env.timeout(self.period_s)
            self.sim.settle_pings()  # the cycle reads where the couriers are
            started = time.perf_counter()
            result = cycle.run_zone(zone_id, scope=self.sim.scope, travel=self.travel, settings=self.settings)
            self.sim.records.spent("dispatch cycles", time.perf_counter() - started)
            if not result.skipped:
                self.sim.records.cycles.append(
                    CycleRecord(
                        zone_id=zone_id,
                        at_s=env.now,
                        cycle_s=time.perf_counter() - started,
                        solve_s=result.solve_s,
                        orders=result.orders,
                        assigned=result.assigned,
                    )
                )
            yield env.timeout(self.min_gap_s)


def replenisher(sim: Sim) -> Process:
    """Runs the replenishment the services asked for; a planned truck leaves at once and is
    received at its destination when the transfer says it arrives."""
    env = sim.env
    last_sweep = 0.0
    while True:
        yield env.timeout(SWEEP_EVERY_S)
        with sim.step("replenishment") as session:
            sim.records.reservation_expiries += reservations.expire_due(session, limit=5000)
        if env.now - last_sweep >= REPLENISH_SWEEP_EVERY_S:
            last_sweep = env.now
            with sim.step("replenishment") as session:
                replenishment.sweep(session)
        queue, sim.replenish_queue = sim.replenish_queue, []
        for location_id in queue:
            with sim.step("replenishment") as session:
                result = replenishment.replenish_location(session, location_id=location_id)
            if result.transfer_id is not None:
                _send_truck(sim, result.transfer_id)


def _send_truck(sim: Sim, transfer_id: uuid.UUID) -> None:
    try:
        with sim.step("replenishment") as session:
            transfers.dispatch_transfer(session, transfer_id=transfer_id)
            expected = transfer_queries.get_transfer(session, transfer_id=transfer_id).expected_at
    except DomainError:
        return  # already on its way (topped up transfers are the same truck)
    sim.env.process(_arrive(sim, transfer_id, expected))


def _arrive(sim: Sim, transfer_id: uuid.UUID, expected: datetime | None) -> Process:
    delay = 0.0 if expected is None else max(0.0, (expected - sim.now()).total_seconds())
    yield sim.env.timeout(delay)
    with sim.step("replenishment") as session:
        sent = transfer_queries.get_transfer(session, transfer_id=transfer_id)
        lines = [ReceiptLineIn(sku_id=line.sku_id, qty_received=line.qty) for line in sent.lines]
        transfers.receive_transfer(session, transfer_id=transfer_id, lines=lines)
    sim.records.transfers_received += 1


def storm(sim: Sim, at_s: float) -> Process:
    yield sim.env.timeout(at_s)
    sim.speed = sim.scenario.storm_speed
    sim.demand = sim.scenario.storm_demand


def outage(sim: Sim, floor: Floor, at_s: float) -> Process:
    yield sim.env.timeout(at_s)
    floor.close_busiest()
