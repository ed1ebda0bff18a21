"""All SQL and PostGIS of the network domain.

Distances are great-circle metres on the sphere, the same measure the geography KNN operator
`<->` orders by, so a list that is "nearest first" is also sorted by the distance it reports.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, cast, func, or_, select, text
from sqlalchemy.orm import Session

from core.geo import GeoPoint
from stores.models import Location, LocationKind
from stores.schemas import NearbyLocation, Page

# Deep enough for any real network (the tiers allow three levels); bounds the walk if the data
# were ever corrupted into a loop.
_MAX_DEPTH = 32


def _point(point: GeoPoint) -> ColumnElement[Any]:
    return cast(func.ST_SetSRID(func.ST_MakePoint(point.lon, point.lat), 4326), Geography(srid=4326))


def get(session: Session, location_id: uuid.UUID) -> Location | None:
    return session.get(Location, location_id)


def code_taken(session: Session, code: str, *, exclude_id: uuid.UUID | None = None) -> bool:
    query = select(Location.id).where(Location.code == code)
    if exclude_id is not None:
        query = query.where(Location.id != exclude_id)
    return session.scalar(query.limit(1)) is not None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_page(
    session: Session,
    *,
    kind: LocationKind | None,
    active: bool | None,
    parent_id: uuid.UUID | None,
    search: str | None,
    limit: int,
    offset: int,
) -> Page:
    conditions: list[ColumnElement[bool]] = []
    if kind is not None:
        conditions.append(Location.kind == kind)
    if active is not None:
        conditions.append(Location.active.is_(active))
    if parent_id is not None:
        conditions.append(Location.parent_id == parent_id)
    if search:
        pattern = f"%{_escape_like(search)}%"
        conditions.append(or_(Location.code.ilike(pattern, escape="\\"), Location.name.ilike(pattern, escape="\\")))
    total = session.scalar(select(func.count(Location.id)).where(*conditions)) or 0
    # Codes are unique, so paging by them is stable between requests.
    query = select(Location).where(*conditions).order_by(Location.code).limit(limit).offset(offset)
    return Page(locations=list(session.scalars(query)), total=total)


def ancestor_ids(session: Session, location_id: uuid.UUID) -> list[uuid.UUID]:
    """The location itself and every location above it, nearest first."""
    rows = session.execute(
        text(
            """
            WITH RECURSIVE up(id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM locations WHERE id = :start
                UNION ALL
                SELECT l.id, l.parent_id, up.depth + 1
                  FROM locations l JOIN up ON l.id = up.parent_id
                 WHERE up.depth < :max_depth
            )
            SELECT id FROM up ORDER BY depth
            """
        ),
        {"start": location_id, "max_depth": _MAX_DEPTH},
    ).scalars()
    return list(rows)


def child_kinds(session: Session, location_id: uuid.UUID) -> set[LocationKind]:
    return set(session.scalars(select(Location.kind).where(Location.parent_id == location_id).distinct()))


@dataclass(frozen=True, slots=True)
class PointFacts:
    in_network: bool
    swapped_in_network: bool


def point_facts(session: Session, point: GeoPoint, swapped: GeoPoint | None) -> PointFacts:
    """Whether the point, and its lat/lon-swapped twin, fall inside any existing service zone."""
    covered = select(Location.id).where(Location.service_zone.is_not(None))
    given = session.scalar(select(covered.where(func.ST_Covers(Location.service_zone, _point(point))).exists()))
    twin = swapped is not None and session.scalar(
        select(covered.where(func.ST_Covers(Location.service_zone, _point(swapped))).exists())
    )
    return PointFacts(in_network=bool(given), swapped_in_network=bool(twin))


def validity_reason(session: Session, geometry: dict[str, Any]) -> str:
    """PostGIS's own verdict on a geometry ("Valid Geometry" or why not)."""
    reason = session.scalar(
        text("SELECT ST_IsValidReason(ST_SetSRID(ST_GeomFromGeoJSON(CAST(:gj AS text)), 4326))"),
        {"gj": json.dumps(geometry)},
    )
    return str(reason)


@dataclass(frozen=True, slots=True)
class ZoneFacts:
    valid: bool
    reason: str
    area_m2: float | None
    overlaps_network: bool
    swapped_overlaps_network: bool


# Topology functions only ever see a geometry that PostGIS itself called valid (the CASEs),
# because GEOS may raise on invalid input instead of answering.
_ZONE_FACTS = text(
    """
    WITH z AS (
        SELECT ST_SetSRID(ST_GeomFromGeoJSON(CAST(:given AS text)), 4326) AS given,
               ST_SetSRID(ST_GeomFromGeoJSON(CAST(:swapped AS text)), 4326) AS swapped
    ), v AS (
        SELECT given, swapped, ST_IsValid(given) AS valid, ST_IsValidReason(given) AS reason,
               swapped IS NOT NULL AND ST_IsValid(swapped) AS swapped_valid
          FROM z
    )
    SELECT valid, reason,
           CASE WHEN valid THEN ST_Area(given::geography) END AS area_m2,
           CASE WHEN valid THEN EXISTS (
               SELECT 1 FROM locations l
                WHERE l.service_zone IS NOT NULL AND ST_Intersects(l.service_zone, given::geography)
           ) ELSE false END AS overlaps_network,
           CASE WHEN valid AND swapped_valid THEN EXISTS (
               SELECT 1 FROM locations l
                WHERE l.service_zone IS NOT NULL AND ST_Intersects(l.service_zone, swapped::geography)
           ) ELSE false END AS swapped_overlaps_network
      FROM v
    """
)


def zone_facts(session: Session, geometry: dict[str, Any], swapped: dict[str, Any] | None) -> ZoneFacts:
    """Validity, geodesic area, and whether the zone (or its swapped twin) touches any zone of
    the network as it stands, the zone about to be replaced included: a replacement that only
    lands on the old zone once swapped is as telling as any other."""
    row = session.execute(
        _ZONE_FACTS,
        {"given": json.dumps(geometry), "swapped": json.dumps(swapped) if swapped is not None else None},
    ).one()
    return ZoneFacts(
        valid=bool(row.valid),
        reason=str(row.reason),
        area_m2=float(row.area_m2) if row.area_m2 is not None else None,
        overlaps_network=bool(row.overlaps_network),
        swapped_overlaps_network=bool(row.swapped_overlaps_network),
    )


def store_zone(session: Session, location_id: uuid.UUID, geometry: dict[str, Any] | None, *, at: datetime) -> None:
    """Write (or clear) a zone exactly as given: no `ST_MakeValid`, no simplification."""
    session.execute(
        text(
            """
            UPDATE locations
               SET service_zone = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(CAST(:gj AS text)), 4326))::geography,
                   updated_at = :at
             WHERE id = :id
            """
        ),
        {"gj": json.dumps(geometry) if geometry is not None else None, "id": location_id, "at": at},
    )


def zone_shapes(session: Session, location_ids: Collection[uuid.UUID] | None = None) -> dict[uuid.UUID, Any]:
    """Zones as shapely geometries keyed by location, read from WKB so coordinates are exact."""
    query = select(Location.id, func.ST_AsBinary(Location.service_zone)).where(Location.service_zone.is_not(None))
    if location_ids is not None:
        query = query.where(Location.id.in_(list(location_ids)))
    return {row[0]: shapely.from_wkb(bytes(row[1])) for row in session.execute(query)}


def all_locations(session: Session) -> list[Location]:
    return list(session.scalars(select(Location).order_by(Location.code)))


def covering(session: Session, point: GeoPoint, *, kinds: Collection[LocationKind], limit: int) -> list[NearbyLocation]:
    """Active locations of `kinds` whose zone covers the point, nearest first (KNN on `geom`)."""
    target = _point(point)
    distance = func.ST_Distance(Location.geom, target, False)
    rows = session.execute(
        select(Location, distance)
        .where(
            Location.active.is_(True),
            Location.kind.in_(list(kinds)),
            Location.service_zone.is_not(None),
            func.ST_Covers(Location.service_zone, target),
        )
        .order_by(Location.geom.op("<->")(target), Location.code)
        .limit(limit)
    ).all()
    return [NearbyLocation(location=row[0], distance_m=float(row[1])) for row in rows]


def near(
    session: Session,
    point: GeoPoint,
    *,
    radius_m: float,
    kinds: Collection[LocationKind] | None,
    active_only: bool,
    limit: int,
) -> list[NearbyLocation]:
    """Locations within `radius_m` of the point, nearest first."""
    target = _point(point)
    distance = func.ST_Distance(Location.geom, target, False)
    query = select(Location, distance).where(func.ST_DWithin(Location.geom, target, radius_m, False))
    if kinds is not None:
        query = query.where(Location.kind.in_(list(kinds)))
    if active_only:
        query = query.where(Location.active.is_(True))
    rows = session.execute(query.order_by(Location.geom.op("<->")(target), Location.code).limit(limit)).all()
    return [NearbyLocation(location=row[0], distance_m=float(row[1])) for row in rows]
