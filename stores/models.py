"""Locations of the network: central warehouse → distribution centres → stores / stations.

Coordinates are stored as checked `lat`/`lon` columns and the PostGIS point is *generated* from
them: geography silently wraps lat 100 to 80 and keeps NaN, so a CHECK on the geography itself
could not catch bad input, while a CHECK on plain numbers can (NaN sorts above every number in
PostgreSQL, so a range check rejects it).
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Timestamps, UUIDPrimaryKey, str_enum


class LocationKind(enum.StrEnum):
    central_warehouse = "central_warehouse"
    distribution_centre = "distribution_centre"
    store = "store"
    dark_store = "dark_store"
    delivery_station = "delivery_station"


# Kinds that serve customers directly (have a service zone and a pick line).
CUSTOMER_FACING = frozenset({LocationKind.store, LocationKind.dark_store, LocationKind.distribution_centre})

# Which tier may replenish which: a parent must sit strictly higher in the network.
TIER = {
    LocationKind.central_warehouse: 0,
    LocationKind.distribution_centre: 1,
    LocationKind.store: 2,
    LocationKind.dark_store: 2,
    LocationKind.delivery_station: 2,
}


class Location(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coordinates_in_range"),
        CheckConstraint(
            "service_zone IS NULL OR (ST_IsValid(service_zone::geometry)"
            " AND ST_SRID(service_zone::geometry) = 4326 AND ST_Area(service_zone) > 0)",
            name="service_zone_valid",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("pick_staff >= 0 AND pick_seconds_per_line > 0 AND pack_seconds >= 0", name="pick_capacity"),
        Index("ix_locations_geom", "geom", postgresql_using="gist"),
        Index("ix_locations_service_zone", "service_zone", postgresql_using="gist"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[LocationKind] = mapped_column(str_enum(LocationKind, "location_kind"))
    lat: Mapped[float]
    lon: Mapped[float]
    geom: Mapped[Any] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=False),
        Computed("ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography", persisted=True),
    )
    service_zone: Mapped[Any | None] = mapped_column(Geography("MULTIPOLYGON", srid=4326, spatial_index=False))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # {"mon": [["08:00", "22:00"]], ..., "sun": []}: local times, several intervals a day allowed.
    opening_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSONB, default=dict)
    pick_staff: Mapped[int] = mapped_column(default=2)
    pick_seconds_per_line: Mapped[int] = mapped_column(default=30)
    pack_seconds: Mapped[int] = mapped_column(default=60)
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
