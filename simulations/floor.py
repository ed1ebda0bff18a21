"""Store staff: each store picks with as many people as its shift has (a SimPy resource), taking
its seconds per line plus packing; staff use the real picking use cases. When a store closes
(the outage scenario), the orders it has not started are cancelled and placed again by
customer service, which sends them to another store."""

from __future__ import annotations

import math
import uuid
from collections.abc import Generator
from typing import Any

import simpy

from core.errors import DomainError
from dispatch import checkout, orders, picking
from dispatch.schemas import CheckoutIn, LinePickIn, PackIn
from simulations.demand import Placed
from simulations.records import OrderRecord
from simulations.runtime import Sim
from simulations.world import Store, World
from stores import service as stores
from stores.schemas import LocationUpdate

Process = Generator[simpy.Event, Any, None]
UNITS_PER_BAG = 8


class Floor:
    def __init__(self, sim: Sim, world: World) -> None:
        self.sim, self.world = sim, world
        self.desks = {s.id: simpy.Resource(sim.env, capacity=max(1, s.staff)) for s in world.stores}
        # Orders each store has not packed yet (queued or being picked).
        self.open: dict[uuid.UUID, dict[uuid.UUID, Placed]] = {s.id: {} for s in world.stores}
        self.handled: dict[uuid.UUID, int] = dict.fromkeys(self.desks, 0)
        self.rngs = {s.id: sim.stream(f"store:{s.code}") for s in world.stores}

    def on_placed(self, placed: Placed) -> None:
        for part in placed.body["fulfilments"]:
            store = self.world.store(uuid.UUID(part["location_id"]))
            if store is None:
                continue  # not a location of the simulated zones (none delivers without a zone)
            self.open[store.id][placed.order_id] = placed
            self.handled[store.id] += 1
            self.sim.env.process(self._fulfil(store, placed, part))

    def _fulfil(self, store: Store, placed: Placed, part: dict[str, Any]) -> Process:
        sim, order_id = self.sim, placed.order_id
        lines = [line for line in placed.body["lines"] if line["line_no"] in part["line_nos"]]
        with self.desks[store.id].request() as turn:
            yield turn
            if order_id not in self.open[store.id]:
                return  # re-routed while it waited
            actor = store.staff_user_id
            try:
                with sim.step("store staff") as session:
                    # A placed order is accepted on the way.
                    picking.start_picking(session, order_id=order_id, location_id=store.id, actor_id=actor)
            except DomainError:
                return  # cancelled by the customer meanwhile
            record = sim.records.orders.get(order_id)
            if record is not None and record.picking_started_s is None:
                record.picking_started_s = sim.env.now
            work = (
                store.seconds_per_line * len(lines) * max(0.5, self.rngs[store.id].gauss(1.0, 0.15))
                + store.pack_seconds
            )
            yield sim.env.timeout(work)
            units = sum(int(line["qty"]) for line in lines)
            bags = max(1, math.ceil(units / UNITS_PER_BAG))
            cold = any(uuid.UUID(line["sku_id"]) in self.world.cold for line in lines)
            try:
                with sim.step("store staff") as session:
                    picking.pick_lines(
                        session,
                        order_id=order_id,
                        location_id=store.id,
                        picks=[LinePickIn(line_no=line["line_no"], picked=line["qty"]) for line in lines],
                        actor_id=actor,
                    )
                    picking.pack(
                        session,
                        order_id=order_id,
                        location_id=store.id,
                        data=PackIn(bags=bags, cold_chain=cold),
                        actor_id=actor,
                    )
            except DomainError:
                return  # re-routed (cancelled) while it was being picked
            self.open[store.id].pop(order_id, None)
            if record is not None:
                record.packed_s = sim.env.now  # parts are packed in time order: the last one stays
        sim.packed(order_id, bags)

    # -- the outage --------------------------------------------------------------------------

    def close_busiest(self) -> Store:
        """Close the store that has had the most orders; re-place the orders it has not packed (the
        ones packed are handed to their couriers as planned)."""
        busiest = max(self.world.stores, key=lambda s: (self.handled[s.id], s.code))
        with self.sim.step("store staff") as session:
            stores.update_location(session, location_id=busiest.id, data=LocationUpdate(active=False))
        unpacked, self.open[busiest.id] = self.open[busiest.id], {}
        for placed in unpacked.values():  # in the order they were placed
            self._reroute(placed)
        return busiest

    def _reroute(self, placed: Placed) -> None:
        sim, body = self.sim, placed.body
        record = sim.records.orders.get(placed.order_id)
        try:
            with sim.step("customers") as session:
                orders.cancel(session, order_id=placed.order_id, reason="store closed: re-placed at another store")
        except DomainError:
            return
        data = CheckoutIn.model_validate(
            {
                "dropoff": body["dropoff"],
                "address": body["address"],
                "lines": [{"sku": line["sku_id"], "qty": line["qty"]} for line in body["lines"]],
                "substitution": body["substitution"],
            }
        )
        try:
            with sim.step("customers") as session:
                result = checkout.checkout(
                    session, customer_id=placed.customer_id, idempotency_key=f"reroute-{placed.order_id}", data=data
                )
        except DomainError:
            sim.records.lost_sales += 1
            return
        sim.records.rerouted += 1
        new_id = uuid.UUID(result.body["id"])
        if record is not None:
            del sim.records.orders[placed.order_id]  # one customer order, now placed elsewhere
            # The customer still waits from their first click; the promise is the new one.
            sim.records.orders[new_id] = OrderRecord(
                order_id=new_id,
                placed_s=record.placed_s,
                promised_end_s=record.promised_end_s,
                lat=record.lat,
                lon=record.lon,
                locations=len(result.body["fulfilments"]),
            )
        self.on_placed(Placed(new_id, placed.customer_id, result.body))
