"""Orders: what the customer bought, where it is fulfilled, and where it stands.

An order has one or two *fulfilments* (the locations that pick it: two when no single store
had every line) and its lines, each picked at one fulfilment. The order's status follows the
state machine of `dispatch.states`, with one timestamp column per state.

Money is integer minor units. `authorized_minor` is what the customer's method holds since
checkout; `total_minor` is what they owe now (short picks and refunded lines lower it), and is
what delivery captures — never more than was authorized (a CHECK holds that).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, Timestamps, UUIDPrimaryKey, str_enum


class OrderStatus(enum.StrEnum):
    placed = "placed"
    accepted = "accepted"
    picking = "picking"
    packed = "packed"
    assigned = "assigned"
    picked_up = "picked_up"
    delivered = "delivered"
    cancelled = "cancelled"
    failed_delivery = "failed_delivery"
    returned = "returned"


class SubstitutionPolicy(enum.StrEnum):
    allow = "allow"  # the picker may substitute
    contact = "contact"  # the customer approves or rejects each substitute
    refund = "refund"  # no substitutes: a missing line is refunded


class PaymentStatus(enum.StrEnum):
    authorized = "authorized"
    captured = "captured"
    voided = "voided"
    refunded = "refunded"


class PlanKind(enum.StrEnum):
    single = "single"  # one location has everything
    split_ = "split"  # two locations together (`split` would shadow str.split)
    later_window = "later_window"  # a distribution centre / central warehouse, later


class FulfilmentStatus(enum.StrEnum):
    pending = "pending"
    picking = "picking"
    packed = "packed"
    cancelled = "cancelled"


class LineState(enum.StrEnum):
    open = "open"
    picked = "picked"  # the whole quantity
    short = "short"  # less than ordered (maybe none), maybe with a substitute


class SubstituteState(enum.StrEnum):
    proposed = "proposed"  # waits for the customer (policy `contact`)
    approved = "approved"
    rejected = "rejected"


# Fulfilments whose pick work is still ahead of the store: the pick list and the queue estimate.
OPEN_FULFILMENT = "status IN ('pending', 'picking')"


class Order(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("dropoff_lat BETWEEN -90 AND 90 AND dropoff_lon BETWEEN -180 AND 180", name="dropoff_in_range"),
        CheckConstraint(
            "subtotal_minor >= 0 AND delivery_fee_minor >= 0 AND total_minor >= 0"
            " AND total_minor <= authorized_minor AND captured_minor <= authorized_minor"
            " AND refunded_minor <= captured_minor",
            name="money_consistent",
        ),
        CheckConstraint("promised_from < promised_to", name="window_ordered"),
        # The timestamp of the current state is always set (one column per state).
        CheckConstraint(
            "(status <> 'accepted' OR accepted_at IS NOT NULL)"
            " AND (status <> 'picking' OR picking_at IS NOT NULL)"
            " AND (status <> 'packed' OR packed_at IS NOT NULL)"
            " AND (status <> 'assigned' OR assigned_at IS NOT NULL)"
            " AND (status <> 'picked_up' OR picked_up_at IS NOT NULL)"
            " AND (status <> 'delivered' OR delivered_at IS NOT NULL)"
            " AND (status <> 'cancelled' OR cancelled_at IS NOT NULL)"
            " AND (status <> 'failed_delivery' OR failed_delivery_at IS NOT NULL)"
            " AND (status <> 'returned' OR returned_at IS NOT NULL)",
            name="state_timestamp_set",
        ),
        Index("ix_orders_customer_placed", "customer_id", "placed_at"),
        Index("ix_orders_status", "status"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "order_status"))
    substitution: Mapped[SubstitutionPolicy] = mapped_column(str_enum(SubstitutionPolicy, "substitution_policy"))
    plan: Mapped[PlanKind] = mapped_column(str_enum(PlanKind, "plan_kind"))
    dropoff_lat: Mapped[float]
    dropoff_lon: Mapped[float]
    # Generated from the checked numbers, like `locations.geom` (geography wraps bad input).
    dropoff_geom: Mapped[Any] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False),
        Computed("ST_SetSRID(ST_MakePoint(dropoff_lon, dropoff_lat), 4326)::geography", persisted=True),
    )
    address: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(String(500), default="")

    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int]
    delivery_fee_minor: Mapped[int]
    total_minor: Mapped[int]
    authorized_minor: Mapped[int]
    captured_minor: Mapped[int] = mapped_column(default=0)
    refunded_minor: Mapped[int] = mapped_column(default=0)
    payment_status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"))
    payment_provider: Mapped[str] = mapped_column(String(32))
    payment_ref: Mapped[str] = mapped_column(String(64))

    promised_from: Mapped[datetime]
    promised_to: Mapped[datetime]
    # Why this plan: the candidates considered and their estimates (shown to ops and customer).
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))

    placed_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    picking_at: Mapped[datetime | None]
    packed_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    picked_up_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    failed_delivery_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]


class OrderFulfilment(UUIDPrimaryKey, Base):
    """The part of an order one location picks and packs."""

    __tablename__ = "order_fulfilments"
    __table_args__ = (
        UniqueConstraint("order_id", "location_id"),
        CheckConstraint("bags IS NULL OR bags BETWEEN 1 AND 50", name="bags_range"),
        CheckConstraint("status <> 'packed' OR ready_at IS NOT NULL", name="packed_has_ready_at"),
        CheckConstraint("travel_s >= 0 AND pick_s >= 0 AND queue_wait_s >= 0", name="estimates_not_negative"),
        # The pick list and the queue estimate read only open work, ordered by courier arrival.
        Index(
            "ix_order_fulfilments_open_by_location",
            "location_id",
            "courier_expected_at",
            postgresql_where=text(OPEN_FULFILMENT),
        ),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"))
    status: Mapped[FulfilmentStatus] = mapped_column(str_enum(FulfilmentStatus, "fulfilment_status"))
    # Estimates made at checkout (seconds): wait for the pick line, pick + pack, ride to the door.
    queue_wait_s: Mapped[int]
    pick_s: Mapped[int]
    travel_s: Mapped[int]
    lead_s: Mapped[int] = mapped_column(default=0)  # extra handling before picking (later window)
    line_count: Mapped[int]  # lines to pick here: what this order adds to the location's queue
    # When the courier is expected at the location: the pick list sorts by it. Until dispatch
    # assigns couriers it is the promised window's start minus the ride.
    courier_expected_at: Mapped[datetime]
    picking_started_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]
    bags: Mapped[int | None]
    cold_chain: Mapped[bool | None]
    packed_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class OrderLine(Base):
    """One SKU of an order; `line_no` (1-based) is how customers and staff name it."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("qty BETWEEN 1 AND 999", name="qty_range"),
        CheckConstraint("picked_qty IS NULL OR picked_qty BETWEEN 0 AND qty", name="picked_within_qty"),
        CheckConstraint("unit_price_minor >= 0 AND amount_minor >= 0", name="money_not_negative"),
        CheckConstraint(
            "(substitute_sku_id IS NULL) = (substitute_state IS NULL)"
            " AND (substitute_sku_id IS NULL) = (substitute_qty IS NULL)",
            name="substitute_complete",
        ),
        CheckConstraint("substitute_qty IS NULL OR substitute_qty BETWEEN 1 AND 999", name="substitute_qty_range"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    fulfilment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_fulfilments.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id", ondelete="RESTRICT"))
    # Copied at checkout: the order shows what was bought even if the catalogue changes later.
    sku_code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int]
    unit_price_minor: Mapped[int]
    # What the line costs the customer now (picked units + an accepted substitute).
    amount_minor: Mapped[int]
    reservation_id: Mapped[uuid.UUID | None]
    state: Mapped[LineState] = mapped_column(str_enum(LineState, "order_line_state"), default=LineState.open)
    picked_qty: Mapped[int | None]
    substitute_sku_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("skus.id", ondelete="RESTRICT"))
    substitute_qty: Mapped[int | None]
    substitute_amount_minor: Mapped[int | None]
    substitute_reservation_id: Mapped[uuid.UUID | None]
    substitute_state: Mapped[SubstituteState | None] = mapped_column(str_enum(SubstituteState, "substitute_state"))


class IdempotencyKey(Base):
    """A checkout's `Idempotency-Key`, per customer, with the response it produced.

    Only successful checkouts are stored: a refused one leaves no row, so the same key may be
    retried once the cause (stock, payment) is fixed.
    """

    __tablename__ = "checkout_idempotency_keys"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    response_status: Mapped[int]
    # `json`, not `jsonb`: it keeps the text as written, so a replay is byte for byte the
    # response the first request got (jsonb would reorder the keys).
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
