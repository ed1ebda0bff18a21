"""What every simulated actor shares: the SimPy environment, the virtual clock, the database, the
random source, and the *step* — one unit of work against the real services.

A step is what an API request or a Celery task is in production: one session, the services called
with it, one commit. What the services ask to happen after commit is honoured the simulation's
way, inside virtual time: a requested dispatch cycle wakes the zone's dispatcher, a replenishment
request queues a run for the replenishment process, and a route update addressed to a courier's
app wakes that courier. Redis publishes (live positions) still go out for real.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import simpy
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.celery_app import take_pending
from core.db import new_session
from dispatch.after_commit import RUN_CYCLE_TASK, couriers_messaged
from simulations.ping_relay import PingRelay
from simulations.records import Records, Work
from simulations.scenarios import Scenario
from warehouse.replenishment import REPLENISH_TASK


@dataclass
class Sim:
    env: simpy.Environment
    engine: Engine
    scenario: Scenario
    seed: int
    records: Records
    relay: PingRelay  # records the couriers' pings in a second process (simulations.ping_relay)
    speed: float = 1.0  # vehicles' speed factor (the storm lowers it)
    demand: float = 1.0  # demand factor (the storm raises it)
    # Who wants to hear about what: set up by the processes at start.
    on_cycle_request: Callable[[uuid.UUID], None] = lambda _zone: None
    on_courier_messages: Callable[[set[uuid.UUID]], object] = lambda _couriers: None
    replenish_queue: list[uuid.UUID] = field(default_factory=list)
    bags: dict[uuid.UUID, int] = field(default_factory=dict)  # packed orders: bags the store handed out
    _handovers: dict[uuid.UUID, simpy.Event] = field(default_factory=dict)

    def stream(self, name: str) -> random.Random:
        """An actor's own random numbers. One shared generator would hand each actor different
        numbers whenever events at the same virtual moment ran in another order."""
        return random.Random(f"{self.seed}:{name}")

    def packed(self, order_id: uuid.UUID, bags: int) -> None:
        """The store has packed the order: a courier waiting at the counter gets the bags now."""
        self.bags[order_id] = bags
        handover = self._handovers.pop(order_id, None)
        if handover is not None:
            handover.succeed()

    def handover(self, order_id: uuid.UUID) -> simpy.Event:
        """Fires when the order is packed (at once if it already is)."""
        if order_id in self.bags:
            return self.env.timeout(0)
        event = self._handovers.get(order_id)
        if event is None:
            event = self._handovers[order_id] = self.env.event()
        return event

    @property
    def start(self) -> datetime:
        return self.scenario.start

    def now(self) -> datetime:
        """The virtual clock (what `core.clock.now()` returns during a run)."""
        return self.start + timedelta(seconds=float(self.env.now))

    def ping(self, user_id: uuid.UUID, fixes: list[tuple[datetime, float, float]]) -> None:
        """A courier app's batch of fixes `(when, lat, lon)`, sent now; recorded by the relay."""
        started = time.perf_counter()
        self.relay.send(self.now(), user_id, fixes)
        self.records.spent("courier pings", time.perf_counter() - started)

    def settle_pings(self) -> None:
        """Wait until every ping sent so far is recorded: before anything reads positions."""
        started = time.perf_counter()
        tally = self.relay.drain()
        self.records.pings += tally.accepted
        self.records.pings_dropped += tally.dropped
        self.records.ping_relay_s += tally.busy_s
        self.records.spent("courier pings", time.perf_counter() - started)

    @contextmanager
    def step(self, work: Work | None) -> Iterator[Session]:
        """One unit of work; commits at the end, rolls back on any exception. Its wall time goes
        to `work` in the records' account (None: the caller accounts for it)."""
        started = time.perf_counter()
        session = new_session(self.engine)
        try:
            yield session
            tasks = take_pending(session)
            couriers = couriers_messaged(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if work is not None:
                self.records.spent(work, time.perf_counter() - started)
        self._after_commit(tasks, couriers)

    def scope(self) -> AbstractContextManager[Session]:
        """A unit-of-work factory for `dispatch.cycle.run_zone`, with the same after-commit rules
        (the dispatcher accounts for the whole cycle, solve included)."""
        return self.step(None)

    def _after_commit(self, tasks: list[Any], couriers: set[uuid.UUID]) -> None:
        for signature in tasks:
            if signature.task == RUN_CYCLE_TASK:
                self.on_cycle_request(uuid.UUID(signature.args[0]))
            elif signature.task == REPLENISH_TASK:
                location = uuid.UUID(signature.kwargs["location_id"])
                if location not in self.replenish_queue:
                    self.replenish_queue.append(location)
        if couriers:
            self.on_courier_messages(couriers)
