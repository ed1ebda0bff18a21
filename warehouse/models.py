"""Stock that never oversells: levels guarded by CHECKs, reservations, and an append-only ledger.

Invariant: for every (location, sku), replaying `stock_movements` (sum of both deltas) gives
exactly `stock_levels.on_hand` and `stock_levels.reserved`. Every service that changes a level
writes the matching movement in the same transaction.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, Timestamps, UUIDPrimaryKey, str_enum


class TemperatureClass(enum.StrEnum):
    ambient = "ambient"
    chilled = "chilled"
    frozen = "frozen"


class Category(UUIDPrimaryKey, Base):
    __tablename__ = "categories"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    # Position along the store's pick path: pick lists sort by it.
    pick_sequence: Mapped[int] = mapped_column(default=0)


class Sku(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "skus"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("weight_g > 0 AND volume_ml > 0", name="size_positive"),
        CheckConstraint("max_order_qty BETWEEN 1 AND 999", name="max_order_qty_range"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    weight_g: Mapped[int]
    volume_ml: Mapped[int]
    temperature: Mapped[TemperatureClass] = mapped_column(str_enum(TemperatureClass, "temperature_class"))
    perishable: Mapped[bool] = mapped_column(default=False)
    max_order_qty: Mapped[int] = mapped_column(default=20)
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class StockLevel(Base):
    """What one location holds of one SKU, and the policy that replenishes it."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("reorder_point >= 0 AND target_level >= reorder_point", name="policy_consistent"),
        Index("ix_stock_levels_sku_id", "sku_id"),
    )

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"), primary_key=True)
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id", ondelete="RESTRICT"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    reorder_point: Mapped[int] = mapped_column(default=0)
    target_level: Mapped[int] = mapped_column(default=0)
    # Shelf / bin label inside the location, for pick paths.
    bin: Mapped[str] = mapped_column(String(32), default="")
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class ReservationStatus(enum.StrEnum):
    active = "active"
    released = "released"
    committed = "committed"
    expired = "expired"


class StockReservation(UUIDPrimaryKey, Base):
    """Units held for an order line (or a planned transfer) until picked, released or expired."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("(status = 'active') = (closed_at IS NULL)", name="closed_iff_not_active"),
        Index(
            "ix_stock_reservations_active_expiry",
            "expires_at",
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_stock_reservations_holder", "holder_id"),
        Index("ix_stock_reservations_location_sku", "location_id", "sku_id"),
    )

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"))
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id", ondelete="RESTRICT"))
    qty: Mapped[int]
    # What holds the units: an order (dispatch domain) or a transfer. Not a foreign key, because
    # orders live in a package above this one.
    holder_id: Mapped[uuid.UUID]
    holder_line: Mapped[int] = mapped_column(default=0)
    status: Mapped[ReservationStatus] = mapped_column(str_enum(ReservationStatus, "reservation_status"))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    closed_at: Mapped[datetime | None]


class MovementKind(enum.StrEnum):
    receipt = "receipt"
    reserve = "reserve"
    release = "release"
    pick = "pick"
    transfer_out = "transfer_out"
    transfer_in = "transfer_in"
    adjustment = "adjustment"
    return_ = "return"
    write_off = "write_off"


class StockMovement(Base):
    """One line of the append-only stock ledger.

    Both deltas are recorded so that the ledger alone reproduces `on_hand` *and* `reserved`:
    a reservation is (0, +q), a release (0, −q), a pick (−q, −q), a receipt (+q, 0).
    """

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_location_sku_id", "location_id", "sku_id", "id"),
        CheckConstraint("on_hand_delta <> 0 OR reserved_delta <> 0", name="moves_something"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"))
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id", ondelete="RESTRICT"))
    kind: Mapped[MovementKind] = mapped_column(str_enum(MovementKind, "movement_kind"))
    on_hand_delta: Mapped[int] = mapped_column(default=0)
    reserved_delta: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    # The reservation, transfer or order behind the movement, when there is one.
    ref_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class TransferStatus(enum.StrEnum):
    planned = "planned"
    in_transit = "in_transit"
    received = "received"
    cancelled = "cancelled"


class Transfer(UUIDPrimaryKey, Timestamps, Base):
    """Stock moving down the tiers. Planned units are reserved at the source, so a checkout
    there can never sell what is promised to a store."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("from_location_id <> to_location_id", name="different_ends"),
        Index("ix_transfers_to_status", "to_location_id", "status"),
        Index("ix_transfers_from_status", "from_location_id", "status"),
    )

    from_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"))
    to_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"))
    status: Mapped[TransferStatus] = mapped_column(str_enum(TransferStatus, "transfer_status"))
    reason: Mapped[str] = mapped_column(String(40), default="replenishment")
    planned_at: Mapped[datetime] = mapped_column(default=clock.now)
    dispatched_at: Mapped[datetime | None]
    expected_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]


class TransferLine(Base):
    __tablename__ = "transfer_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("qty_received IS NULL OR qty_received >= 0", name="received_not_negative"),
    )

    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"), primary_key=True)
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id", ondelete="RESTRICT"), primary_key=True)
    qty: Mapped[int]
    qty_received: Mapped[int | None]


class AlertKind(enum.StrEnum):
    stock_out = "stock_out"
    low_stock = "low_stock"
    unfillable_transfer = "unfillable_transfer"


class StockAlert(UUIDPrimaryKey, Base):
    """Something an operator must see: a stock-out, or replenishment the parent could not fill.

    At most one open alert per (location, sku, kind); it is resolved when the cause goes away.
    """

    __tablename__ = "stock_alerts"
    __table_args__ = (
        Index(
            "uq_stock_alerts_open",
            "location_id",
            "sku_id",
            "kind",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "alert_kind"))
    detail: Mapped[str] = mapped_column(String(300), default="")
    shortfall: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    resolved_at: Mapped[datetime | None]
