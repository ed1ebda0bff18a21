"""What the network use cases take and give back.

Positions and opening hours are accepted loosely typed on purpose: the schema only checks their
shape, and `stores.zones` / `stores.hours` then reject bad values with a specific code
(`invalid_coordinates`, `invalid_opening_hours`) instead of a generic validation error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from stores.models import TIER, Location, LocationKind

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
MAX_PAGE_SIZE = 100

_NUMBER: JsonDict = {"type": "number"}
_OBJECT: JsonDict = {"type": "object"}


class PositionIn(BaseModel):
    """WGS84 position. Numbers only, finite, lat in [-90, 90], lon in [-180, 180]; anything else is a
    422 `invalid_coordinates` (checked by `stores.zones.parse_position`, not by the schema)."""

    model_config = ConfigDict(extra="forbid")

    lat: Any = Field(json_schema_extra={**_NUMBER, "minimum": -90, "maximum": 90})
    lon: Any = Field(json_schema_extra={**_NUMBER, "minimum": -180, "maximum": 180})


class PickCapacity(BaseModel):
    """How fast the location turns orders into parcels (used to estimate the pick queue)."""

    model_config = ConfigDict(extra="forbid")

    staff: int = Field(default=2, ge=0, le=500)
    seconds_per_line: int = Field(default=30, ge=1, le=3600)
    pack_seconds: int = Field(default=60, ge=0, le=3600)


_HOURS_DOC = (
    'Local times by day, e.g. {"mon": [["08:00", "22:00"]]}. {} = open around the clock; '
    "once any day is given, days left out are closed."
)


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN, description="Unique short code, e.g. ST-01.")
    name: str = Field(min_length=1, max_length=120)
    kind: LocationKind
    position: PositionIn
    parent_id: uuid.UUID | None = Field(default=None, description="The location that replenishes this one.")
    address: str = Field(default="", max_length=300)
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone of the opening hours.")
    opening_hours: Any = Field(default_factory=dict, description=_HOURS_DOC, json_schema_extra=_OBJECT)
    pick_capacity: PickCapacity = Field(default_factory=PickCapacity)
    active: bool = True


# Fields an update may leave out but never set to null.
_NOT_NULLABLE = ("code", "name", "kind", "position", "address", "timezone", "opening_hours", "pick_capacity", "active")


class LocationUpdate(BaseModel):
    """Partial update: only the fields present change; `parent_id: null` detaches the parent."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, pattern=CODE_PATTERN)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: LocationKind | None = None
    position: PositionIn | None = None
    parent_id: uuid.UUID | None = None
    address: str | None = Field(default=None, max_length=300)
    timezone: str | None = Field(default=None, max_length=64)
    opening_hours: Any = Field(default=None, description=_HOURS_DOC, json_schema_extra=_OBJECT)
    pick_capacity: PickCapacity | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _no_nulls_where_a_value_is_required(self) -> LocationUpdate:
        nulled = [name for name in _NOT_NULLABLE if name in self.model_fields_set and getattr(self, name) is None]
        if nulled:
            raise ValueError(f"these fields cannot be null: {', '.join(nulled)}")
        return self


class Position(BaseModel):
    lat: float
    lon: float


class LocationOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: LocationKind
    tier: int = Field(description="0 = central warehouse, 1 = distribution centre, 2 = stores and stations.")
    position: Position
    parent_id: uuid.UUID | None
    address: str
    timezone: str
    opening_hours: dict[str, list[list[str]]]
    pick_capacity: PickCapacity
    active: bool
    has_zone: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_location(cls, location: Location) -> LocationOut:
        return cls(
            id=location.id,
            code=location.code,
            name=location.name,
            kind=location.kind,
            tier=TIER[location.kind],
            position=Position(lat=location.lat, lon=location.lon),
            parent_id=location.parent_id,
            address=location.address,
            timezone=location.timezone,
            opening_hours=location.opening_hours,
            pick_capacity=PickCapacity(
                staff=location.pick_staff,
                seconds_per_line=location.pick_seconds_per_line,
                pack_seconds=location.pack_seconds,
            ),
            active=location.active,
            has_zone=location.service_zone is not None,
            created_at=location.created_at,
            updated_at=location.updated_at,
        )


class LocationPage(BaseModel):
    items: list[LocationOut]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class Page:
    locations: list[Location]
    total: int


@dataclass(frozen=True, slots=True)
class NearbyLocation:
    """A location and how far it is from the point asked about (great-circle metres)."""

    location: Location
    distance_m: float
