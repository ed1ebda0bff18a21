"""Customers: orders arrive as a Poisson process whose rate follows the hour of the day and the
neighbourhood (denser around some stores than others), with baskets drawn from a popularity curve
over the catalogue; each goes through the real checkout. A few customers cancel soon after."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import simpy

from core.errors import DomainError
from dispatch import checkout, orders
from dispatch.errors import NotDeliverable, OutsideServiceArea
from dispatch.schemas import CheckoutIn
from simulations.records import OrderRecord
from simulations.runtime import Sim
from simulations.scenarios import demand_weight
from simulations.world import World

Process = Generator[simpy.Event, Any, None]
SPREAD_DEG = 0.008  # ~900 m: how far from a neighbourhood's centre its customers live
MAX_LINES = 8
CANCEL_WITHIN_S = (30, 180)


@dataclass(frozen=True, slots=True)
class Placed:
    order_id: uuid.UUID
    customer_id: uuid.UUID
    body: dict[str, Any]


class Customers:
    def __init__(self, sim: Sim, world: World, on_placed: Callable[[Placed], None]) -> None:
        self.sim, self.world, self.on_placed = sim, world, on_placed
        self.rng = sim.stream("customers")
        # Neighbourhoods are the stores' surroundings, some much busier than others.
        self.density = [world.shares[store.id] for store in world.stores]
        self.per_weight = sim.scenario.orders / self._weight_integral()
        self.count = 0

    def _weight_integral(self) -> float:
        scenario = self.sim.scenario
        steps = max(1, scenario.duration_s // 60)
        return sum(demand_weight(self._hour(i * 60.0 + 30.0)) * 60.0 for i in range(steps))

    def _hour(self, at_s: float) -> float:
        return self.sim.scenario.start_hour_utc + at_s / 3600.0

    def rate(self, at_s: float) -> float:
        """Expected orders per second at `at_s`."""
        return self.per_weight * demand_weight(self._hour(at_s)) * self.sim.demand

    def run(self) -> Process:
        """Thinning: candidates at the highest possible rate, each kept with rate(t) / that."""
        env, rng, scenario = self.sim.env, self.rng, self.sim.scenario
        ceiling = self.per_weight * 4.0 * max(1.0, scenario.storm_demand)
        while True:
            yield env.timeout(rng.expovariate(ceiling))
            if env.now >= scenario.duration_s:
                return
            if rng.random() < self.rate(env.now) / ceiling:
                self._place()

    def _place(self) -> None:
        sim, rng = self.sim, self.rng
        self.count += 1
        customer = rng.choice(self.world.customers)
        data = CheckoutIn.model_validate(
            {
                "dropoff": self._door(),
                "address": f"{rng.randint(1, 200)} Simulation Street",
                "lines": self._basket(),
                "substitution": "refund",
            }
        )
        try:
            with sim.step("customers") as session:
                result = checkout.checkout(
                    session, customer_id=customer, idempotency_key=f"sim-{self.count}", data=data
                )
        except NotDeliverable:
            sim.records.lost_sales += 1
            return
        except OutsideServiceArea:
            sim.records.out_of_area += 1
            return
        body = result.body
        order_id = uuid.UUID(body["id"])
        window = body["promised_window"]
        end = datetime.fromisoformat(window["end"]).timestamp() - sim.start.timestamp()
        door = body["dropoff"]
        sim.records.orders[order_id] = OrderRecord(
            order_id=order_id,
            placed_s=sim.env.now,
            promised_end_s=end,
            lat=float(door["lat"]),
            lon=float(door["lon"]),
            locations=len(body["fulfilments"]),
        )
        if rng.random() < sim.scenario.cancel_share:
            sim.env.process(self._cancel_later(order_id, customer))
        self.on_placed(Placed(order_id, customer, body))

    def _door(self) -> dict[str, float]:
        rng = self.rng
        home = rng.choices(self.world.stores, weights=self.density)[0]
        lat = home.lat + rng.gauss(0, SPREAD_DEG)
        lon = home.lon + rng.gauss(0, SPREAD_DEG / math.cos(math.radians(home.lat)))
        return {"lat": lat, "lon": lon}

    def _basket(self) -> list[dict[str, object]]:
        """1–8 lines; SKU popularity falls steeply along the catalogue's (shuffled) order."""
        rng, skus = self.rng, self.world.skus
        lines = min(MAX_LINES, 1 + int(rng.expovariate(0.45)))
        chosen: dict[uuid.UUID, int] = {}
        while len(chosen) < min(lines, len(skus)):
            sku = skus[int(len(skus) * rng.random() ** 3)]
            chosen[sku] = 1 + (rng.randint(1, 2) if rng.random() < 0.25 else 0)
        return [{"sku": str(sku), "qty": qty} for sku, qty in chosen.items()]

    def _cancel_later(self, order_id: uuid.UUID, customer: uuid.UUID) -> Process:
        yield self.sim.env.timeout(self.rng.uniform(*CANCEL_WITHIN_S))
        try:
            with self.sim.step("customers") as session:
                orders.cancel(session, order_id=order_id, customer_id=customer, reason="changed my mind")
        except DomainError:
            return  # already being picked: too late to cancel
        self.sim.records.orders[order_id].cancelled = True
