"""What dispatch decided: which courier carries which order, each courier's stops with planned and
actual times, and a record of every cycle with a per-order explanation.

`order_assignments` has the order id as its primary key: an order is on at most one courier, by
construction. Stops keep their ids across re-plans (they are updated in place, keyed by route,
order and kind), so a courier app holding a stop id is never pointed at a stop that vanished and
came back under another id.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, UUIDPrimaryKey, str_enum


class AssignmentState(enum.StrEnum):
    offered = "offered"  # waits for the courier's accept (fleet with require_accept)
    confirmed = "confirmed"  # pushed, or accepted


class PodPolicy(enum.StrEnum):
    pin = "pin"  # the customer reads out a PIN
    any = "any"  # PIN, photo or signature


class StopKind(enum.StrEnum):
    pickup = "pickup"
    dropoff = "dropoff"
    return_ = "return"  # failed delivery: the goods go back to the store


class StopStatus(enum.StrEnum):
    pending = "pending"
    arrived = "arrived"
    done = "done"
    failed = "failed"


OPEN_STOP = "status IN ('pending', 'arrived')"


class OrderAssignment(Base):
    __tablename__ = "order_assignments"
    __table_args__ = (
        CheckConstraint("state <> 'offered' OR offer_expires_at IS NOT NULL", name="offer_has_expiry"),
        CheckConstraint("attempts BETWEEN 0 AND 10", name="attempts_range"),
        Index("ix_order_assignments_courier", "courier_id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    courier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"))
    state: Mapped[AssignmentState] = mapped_column(str_enum(AssignmentState, "assignment_state", 16))
    # Set by an operator: the cycle keeps the order on this courier (a fixed assignment).
    pinned: Mapped[bool] = mapped_column(default=False)
    offer_expires_at: Mapped[datetime | None]
    pod_policy: Mapped[PodPolicy] = mapped_column(str_enum(PodPolicy, "pod_policy", 16), default=PodPolicy.any)
    attempts: Mapped[int] = mapped_column(default=0)  # failed delivery attempts
    # After a failed attempt (customer absent) the next try is not before this.
    retry_after: Mapped[datetime | None]
    since: Mapped[datetime] = mapped_column(default=clock.now)


class DeclinedOffer(Base):
    """A courier declined (or let time out) the offer of an order: later cycles do not offer that
    order to them again. Gone with the order; kept when the courier's shift ends, since a decline
    usually has a reason (too far, too heavy) that outlives the shift."""

    __tablename__ = "declined_offers"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    courier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=clock.now)


class CourierRoute(UUIDPrimaryKey, Base):
    """A courier's route for one shift; each re-plan that changes it bumps `version`."""

    __tablename__ = "courier_routes"
    __table_args__ = (Index("uq_courier_routes_shift", "shift_id", unique=True),)

    courier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"), index=True)
    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courier_shifts.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=0)
    dispatch_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dispatch_runs.id", ondelete="SET NULL"))
    travel_s: Mapped[int] = mapped_column(default=0)
    distance_m: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class RouteStop(UUIDPrimaryKey, Base):
    __tablename__ = "route_stops"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="in_range"),
        CheckConstraint("bags IS NULL OR bags BETWEEN 1 AND 50", name="bags_range"),
        CheckConstraint("status <> 'done' OR completed_at IS NOT NULL", name="done_has_time"),
        # An order's open pickup at a store (or drop-off, or return to a store) is on one route
        # only; a split order has one pickup (and return) per store. Drop-offs have no location:
        # NULLs count as equal here.
        Index(
            "uq_route_stops_open",
            "order_id",
            "kind",
            "location_id",
            unique=True,
            postgresql_where=text(OPEN_STOP),
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_route_stops_route_seq", "route_id", "seq"),
    )

    route_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courier_routes.id", ondelete="CASCADE"))
    courier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[StopKind] = mapped_column(str_enum(StopKind, "stop_kind", 16))
    seq: Mapped[int]
    status: Mapped[StopStatus] = mapped_column(str_enum(StopStatus, "stop_status", 16), default=StopStatus.pending)
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"))
    lat: Mapped[float]
    lon: Mapped[float]
    address: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    items: Mapped[int] = mapped_column(default=0)
    bags: Mapped[int | None]
    planned_arrival_at: Mapped[datetime | None]
    planned_departure_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    pod_kind: Mapped[str | None] = mapped_column(String(16))
    pod_ref: Mapped[str | None] = mapped_column(String(128))  # a hash, never the photo/signature itself
    failure_reason: Mapped[str | None] = mapped_column(String(32))


class DispatchRun(UUIDPrimaryKey, Base):
    __tablename__ = "dispatch_runs"
    __table_args__ = (Index("ix_dispatch_runs_zone_started", "zone_id", "started_at"),)

    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dispatch_zones.id", ondelete="CASCADE"))
    policy: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    orders: Mapped[int]  # open orders in the problem
    couriers: Mapped[int]
    read_s: Mapped[float]
    solve_s: Mapped[float]
    write_s: Mapped[float]
    objective: Mapped[int]
    travel_s: Mapped[int]
    lateness_s: Mapped[int]
    assigned: Mapped[int]  # newly on a courier
    moved: Mapped[int]  # from one courier to another
    unassigned: Mapped[int]
    stats: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class DispatchExplanation(UUIDPrimaryKey, Base):
    """Why one order went to one courier in one run (or why it went to nobody)."""

    __tablename__ = "dispatch_explanations"
    __table_args__ = (Index("ix_dispatch_explanations_order", "order_id", "created_at"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dispatch_runs.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    courier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("couriers.id", ondelete="SET NULL"))
    eta_at: Mapped[datetime | None]
    detour_s: Mapped[int | None]
    decision: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
