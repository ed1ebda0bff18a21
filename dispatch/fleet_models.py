"""The fleet: dispatch zones, vehicles, couriers, their shifts and their position history.

A *dispatch zone* groups the stores whose orders one solver run plans together with the couriers
who work there; it is the unit a Celery worker locks (one zone, one worker at a time). The zone's
fleet settings say whether assignments are pushed or offered (`require_accept`).

Courier positions are append-only (`courier_positions`); the courier row keeps the last accepted
one so the dispatch cycle reads one row per courier instead of scanning the history.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, Timestamps, UUIDPrimaryKey, str_enum


class VehicleKind(enum.StrEnum):
    # The names match routing's profiles, so a vehicle's kind is its travel-time profile.
    bike = "bike"
    scooter = "scooter"
    car = "car"


class CourierStatus(enum.StrEnum):
    offline = "offline"
    available = "available"
    on_route = "on_route"
    on_break = "break"


class ShiftStatus(enum.StrEnum):
    planned = "planned"
    active = "active"
    ended = "ended"


ON_SHIFT = (CourierStatus.available, CourierStatus.on_route)


class DispatchZone(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "dispatch_zones"
    __table_args__ = (
        CheckConstraint("offer_timeout_s BETWEEN 10 AND 600", name="offer_timeout_range"),
        CheckConstraint("adhoc_shift_minutes BETWEEN 0 AND 720", name="adhoc_shift_range"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # With require_accept a courier must accept each new assignment within offer_timeout_s;
    # otherwise assignments are pushed and simply appear on the route.
    require_accept: Mapped[bool] = mapped_column(default=False)
    offer_timeout_s: Mapped[int] = mapped_column(default=45)
    # Ad-hoc shifts: a courier with no planned shift may start one lasting this long (0: not
    # allowed, every shift must be planned by an operator). See `dispatch.shifts.start_shift`.
    adhoc_shift_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True)


class DispatchZoneLocation(Base):
    """Which stores' orders a zone dispatches. A store belongs to at most one zone, so an order is
    planned by exactly one solver run."""

    __tablename__ = "dispatch_zone_locations"

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True)
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dispatch_zones.id", ondelete="CASCADE"), index=True)


class FleetVehicle(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "fleet_vehicles"
    __table_args__ = (
        CheckConstraint("capacity_units BETWEEN 1 AND 200", name="capacity_units_range"),
        CheckConstraint("capacity_kg BETWEEN 1 AND 2000", name="capacity_kg_range"),
    )

    label: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[VehicleKind] = mapped_column(str_enum(VehicleKind, "vehicle_kind", 16))
    capacity_units: Mapped[int]  # bags
    capacity_kg: Mapped[int]
    cold_box: Mapped[bool] = mapped_column(default=False)
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dispatch_zones.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(default=True)


class Courier(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "couriers"
    __table_args__ = (
        CheckConstraint(
            "(last_lat IS NULL) = (last_lon IS NULL) AND (last_lat IS NULL) = (last_seen_at IS NULL)",
            name="last_position_complete",
        ),
        CheckConstraint(
            "last_lat IS NULL OR (last_lat BETWEEN -90 AND 90 AND last_lon BETWEEN -180 AND 180)",
            name="last_position_in_range",
        ),
        # On shift means on a vehicle: the solver needs its profile and capacity.
        CheckConstraint("status = 'offline' OR vehicle_id IS NOT NULL", name="on_shift_has_vehicle"),
        Index("ix_couriers_zone_status", "zone_id", "status"),
        # Flagged couriers (went offline with goods on board) are what operators look for.
        Index("ix_couriers_flagged", "flagged_at", postgresql_where=text("flagged_at IS NOT NULL")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dispatch_zones.id", ondelete="RESTRICT"))
    status: Mapped[CourierStatus] = mapped_column(
        str_enum(CourierStatus, "courier_status", 16), default=CourierStatus.offline
    )
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("fleet_vehicles.id", ondelete="RESTRICT"))
    last_lat: Mapped[float | None]
    last_lon: Mapped[float | None]
    last_seen_at: Mapped[datetime | None]
    flagged_at: Mapped[datetime | None]
    flag_reason: Mapped[str | None] = mapped_column(String(200))


class Shift(UUIDPrimaryKey, Base):
    __tablename__ = "courier_shifts"
    __table_args__ = (
        CheckConstraint("planned_start < planned_end", name="planned_ordered"),
        CheckConstraint("status <> 'active' OR started_at IS NOT NULL", name="active_has_start"),
        CheckConstraint("status <> 'ended' OR ended_at IS NOT NULL", name="ended_has_end"),
        CheckConstraint("break_s >= 0", name="break_not_negative"),
        # At most one running shift per courier.
        Index("uq_courier_shifts_active", "courier_id", unique=True, postgresql_where=text("status = 'active'")),
        Index("ix_courier_shifts_courier_start", "courier_id", "planned_start"),
    )

    courier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"))
    planned_start: Mapped[datetime]
    planned_end: Mapped[datetime]
    status: Mapped[ShiftStatus] = mapped_column(str_enum(ShiftStatus, "shift_status", 16), default=ShiftStatus.planned)
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("fleet_vehicles.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    break_started_at: Mapped[datetime | None]
    break_s: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CourierPosition(Base):
    """One accepted GPS fix. Append-only and keyed for a time-partitioned future (by `ts`)."""

    __tablename__ = "courier_positions"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="in_range"),
        CheckConstraint("accuracy_m >= 0", name="accuracy_not_negative"),
        UniqueConstraint("courier_id", "ts"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    courier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"))
    ts: Mapped[datetime]
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float]
    speed_mps: Mapped[float | None]
    heading: Mapped[float | None]
    # False for fixes that arrived too late to be live (a batch after a dead zone).
    broadcast: Mapped[bool] = mapped_column(default=True)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
