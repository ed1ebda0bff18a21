"""What the simulation writes down as it goes, in virtual seconds since the start; the KPIs are
computed from these (simulations.kpis) after the run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import Order, OrderStatus

# What a unit of work in the run was, for its own account of where the wall time went.
Work = Literal[
    "set-up",
    "customers",  # checkouts and cancellations (and re-placing a closed store's orders)
    "store staff",  # accepting, picking, packing (and closing a store)
    "courier route reads",  # the app reading the route
    "courier stop events",  # arrivals, pick-ups, hand-overs, shifts and breaks
    "courier pings",  # handing batches to the ping relay, and waiting for it before cycles
    "dispatch cycles",  # the whole cycle: read, solve, write
    "replenishment",  # sweeps, replenishment planning, trucks, reservation expiry
]


# Where an order still open when the clock stops is waiting.
BACKLOG_STAGES = {
    OrderStatus.placed: "at_store",
    OrderStatus.accepted: "at_store",
    OrderStatus.picking: "at_store",
    OrderStatus.packed: "packed_no_courier",
    OrderStatus.assigned: "with_courier",
    OrderStatus.picked_up: "with_courier",
}


@dataclass(slots=True)
class OrderRecord:
    order_id: uuid.UUID
    placed_s: float
    promised_end_s: float
    lat: float
    lon: float
    locations: int  # how many stores fill it (2 = split order)
    # Stages of the order's way to the door (see simulations.kpis.STAGES).
    picking_started_s: float | None = None  # a picker took its first part
    packed_s: float | None = None  # its last part was packed
    picked_up_s: float | None = None  # its last part went on board
    delivered_s: float | None = None
    cancelled: bool = False
    failed: bool = False

    @property
    def click_to_door_s(self) -> float | None:
        return None if self.delivered_s is None else self.delivered_s - self.placed_s

    @property
    def late_s(self) -> float | None:
        return None if self.delivered_s is None else self.delivered_s - self.promised_end_s


@dataclass(slots=True)
class CourierRecord:
    courier_id: uuid.UUID
    on_shift_s: float = 0.0
    busy_s: float = 0.0  # with at least one stop to serve (travelling, waiting at a store, at a door)
    metres: float = 0.0
    metres_to_store: float = 0.0  # riding to pickups (the rest of `metres`: to doors, and returns)
    metres_to_door: float = 0.0
    store_visits: int = 0  # rides that ended at a store to pick up (one visit may collect several orders)


@dataclass(slots=True)
class CycleRecord:
    zone_id: uuid.UUID
    at_s: float
    cycle_s: float  # wall seconds: read + solve + write
    solve_s: float
    orders: int
    assigned: int


@dataclass
class Records:
    orders: dict[uuid.UUID, OrderRecord] = field(default_factory=dict)
    couriers: dict[uuid.UUID, CourierRecord] = field(default_factory=dict)
    cycles: list[CycleRecord] = field(default_factory=list)
    lost_sales: int = 0  # checkouts refused for lack of stock
    out_of_area: int = 0  # checkouts refused because no store delivers there
    late_pick_waits: int = 0  # courier at the store before the order was packed
    late_pick_wait_s: float = 0.0
    reservation_expiries: int = 0
    transfers_received: int = 0
    pings: int = 0  # fixes the ping service accepted
    pings_dropped: int = 0  # and refused (its sanity rules)
    ping_relay_s: float = 0.0  # wall seconds the ping relay spent recording, on its own core
    rerouted: int = 0  # open orders of a closed store sent elsewhere
    backlog: dict[str, int] = field(default_factory=dict)  # open orders at the end, by stage
    wall_s: dict[str, float] = field(default_factory=dict)  # wall seconds by Work
    steps: dict[str, int] = field(default_factory=dict)  # units of work by Work

    def spent(self, work: Work, seconds: float) -> None:
        self.wall_s[work] = self.wall_s.get(work, 0.0) + seconds
        self.steps[work] = self.steps.get(work, 0) + 1

    def courier(self, courier_id: uuid.UUID) -> CourierRecord:
        record = self.couriers.get(courier_id)
        if record is None:
            record = self.couriers[courier_id] = CourierRecord(courier_id)
        return record


def backlog(session: Session, order_ids: list[uuid.UUID]) -> dict[str, int]:
    """How many of `order_ids` are still open, by where they wait (BACKLOG_STAGES)."""
    counts = dict.fromkeys(sorted(set(BACKLOG_STAGES.values())), 0)
    rows = session.execute(
        select(Order.status, func.count()).where(Order.id.in_(order_ids)).group_by(Order.status)
    ).all()
    for status, count in rows:
        stage = BACKLOG_STAGES.get(status)
        if stage is not None:
            counts[stage] += count
    return counts
