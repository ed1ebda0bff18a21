"""Use cases of the store network: locations of every tier, their zones, and geo look-ups.

Every function takes the session first, flushes, and never commits: the caller's unit of work
(request, task, seed run) decides when the change becomes visible.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from core import clock
from core.errors import InvalidInput
from core.geo import GeoPoint, feature, feature_collection, geometry_to_geojson
from stores import repository
from stores.errors import (
    CoordinatesPossiblySwapped,
    InvalidParent,
    InvalidZone,
    LocationCodeTaken,
    LocationNotFound,
    ZoneNotAllowed,
    ZoneNotSet,
)
from stores.hours import is_open_at as _open_at
from stores.hours import parse_opening_hours, validate_timezone
from stores.models import CUSTOMER_FACING, TIER, Location, LocationKind
from stores.schemas import MAX_PAGE_SIZE, LocationCreate, LocationUpdate, NearbyLocation, Page
from stores.zones import parse_position, parse_zone, swapped_point

_VALID = "Valid Geometry"  # what ST_IsValidReason says of a valid geometry


def get_location(session: Session, location_id: uuid.UUID) -> Location:
    """The location, or `LocationNotFound` (404). Edges use it to scope staff to their store."""
    location = repository.get(session, location_id)
    if location is None:
        raise LocationNotFound("No such location.", location_id=str(location_id))
    return location


def list_locations(
    session: Session,
    *,
    kind: LocationKind | None = None,
    active: bool | None = None,
    parent_id: uuid.UUID | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    if not 1 <= limit <= MAX_PAGE_SIZE or offset < 0:
        raise InvalidInput(f"limit must be 1–{MAX_PAGE_SIZE} and offset at least 0.", code="invalid_page")
    return repository.list_page(
        session, kind=kind, active=active, parent_id=parent_id, search=search, limit=limit, offset=offset
    )


def _checked_position(session: Session, raw: GeoPoint | Mapping[str, Any]) -> GeoPoint:
    point = parse_position(raw)
    twin = swapped_point(point)
    if twin is None or twin == point:
        return point
    facts = repository.point_facts(session, point, twin)
    # Only a mix-up that the network itself gives away is reported: outside every zone as given,
    # inside one when swapped. A location far from the network is otherwise perfectly legal.
    if not facts.in_network and facts.swapped_in_network:
        raise CoordinatesPossiblySwapped(
            f"({point.lat}, {point.lon}) lies outside every service zone, but ({twin.lat}, {twin.lon}) lies inside"
            " one: lat and lon look swapped.",
            suggested={"lat": twin.lat, "lon": twin.lon},
        )
    return point


def _check_code(session: Session, code: str, *, exclude_id: uuid.UUID | None = None) -> None:
    if repository.code_taken(session, code, exclude_id=exclude_id):
        raise LocationCodeTaken(f"Location code {code!r} is already in use.", location_code=code)


def _check_parent(
    session: Session, *, kind: LocationKind, parent_id: uuid.UUID | None, location_id: uuid.UUID | None
) -> None:
    if parent_id is None:
        return
    parent = repository.get(session, parent_id)
    if parent is None:
        raise InvalidParent("The parent location does not exist.", parent_id=str(parent_id))
    if TIER[parent.kind] >= TIER[kind]:
        allowed = sorted(k.value for k, tier in TIER.items() if tier < TIER[kind])
        raise InvalidParent(
            f"A {kind.value} is replenished from a higher tier ({', '.join(allowed) or 'none'}),"
            f" not from a {parent.kind.value}.",
            parent_id=str(parent_id),
            allowed_parent_kinds=allowed,
        )
    # With strictly decreasing tiers a loop cannot arise; the walk guards the rule itself.
    if location_id is not None and location_id in repository.ancestor_ids(session, parent_id):
        raise InvalidParent("The parent would make the network loop back to this location.", parent_id=str(parent_id))


def create_location(session: Session, *, data: LocationCreate) -> Location:
    _check_code(session, data.code)
    point = _checked_position(session, data.position.model_dump())
    timezone = validate_timezone(data.timezone)
    hours = parse_opening_hours(data.opening_hours)
    _check_parent(session, kind=data.kind, parent_id=data.parent_id, location_id=None)
    location = Location(
        code=data.code,
        name=data.name,
        kind=data.kind,
        lat=point.lat,
        lon=point.lon,
        parent_id=data.parent_id,
        address=data.address,
        timezone=timezone,
        opening_hours=hours,
        pick_staff=data.pick_capacity.staff,
        pick_seconds_per_line=data.pick_capacity.seconds_per_line,
        pack_seconds=data.pick_capacity.pack_seconds,
        active=data.active,
    )
    session.add(location)
    session.flush()
    return location


def update_location(session: Session, *, location_id: uuid.UUID, data: LocationUpdate) -> Location:
    """Change the fields present in `data`; the rules of creation apply to the result."""
    location = get_location(session, location_id)
    given = data.model_fields_set
    kind = data.kind if data.kind is not None else location.kind
    parent_id = data.parent_id if "parent_id" in given else location.parent_id
    if data.code is not None and data.code != location.code:
        _check_code(session, data.code, exclude_id=location.id)
        location.code = data.code
    if data.position is not None:
        point = _checked_position(session, data.position.model_dump())
        location.lat, location.lon = point.lat, point.lon
    if data.timezone is not None:
        location.timezone = validate_timezone(data.timezone)
    if data.opening_hours is not None:
        location.opening_hours = parse_opening_hours(data.opening_hours)
    if kind is not location.kind or parent_id != location.parent_id:
        _check_parent(session, kind=kind, parent_id=parent_id, location_id=location.id)
    if kind is not location.kind:
        below = sorted(k.value for k in repository.child_kinds(session, location.id) if TIER[k] <= TIER[kind])
        if below:
            raise InvalidParent(
                f"A {kind.value} cannot replenish its current children ({', '.join(below)}); move them first.",
                child_kinds=below,
            )
        if kind not in CUSTOMER_FACING and location.service_zone is not None:
            raise ZoneNotAllowed(f"A {kind.value} has no service zone; remove the zone first.")
        location.kind = kind
    location.parent_id = parent_id
    if data.name is not None:
        location.name = data.name
    if data.address is not None:
        location.address = data.address
    if data.pick_capacity is not None:
        location.pick_staff = data.pick_capacity.staff
        location.pick_seconds_per_line = data.pick_capacity.seconds_per_line
        location.pack_seconds = data.pick_capacity.pack_seconds
    if data.active is not None:
        location.active = data.active
    session.flush()
    return location


def _plain(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON with lists rather than shapely's tuples, so it compares equal to parsed JSON."""

    def lists(value: Any) -> Any:
        return [lists(v) for v in value] if isinstance(value, list | tuple) else value

    out = geometry_to_geojson(geometry)
    return {"type": out["type"], "coordinates": lists(out["coordinates"])}


def _zone_feature(location: Location, geometry: BaseGeometry) -> dict[str, Any]:
    properties = {
        "feature": "service_zone",
        "location_id": str(location.id),
        "code": location.code,
        "name": location.name,
        "kind": location.kind.value,
        "active": location.active,
    }
    return feature(_plain(geometry), properties, feature_id=f"zone:{location.id}")


def set_zone(session: Session, *, location_id: uuid.UUID, geojson: Any) -> dict[str, Any]:
    """Replace the location's service zone with a GeoJSON (Multi)Polygon, or a Feature holding
    one; returns the stored zone as a Feature. Nothing is repaired: every defect is a 422."""
    location = get_location(session, location_id)
    if location.kind not in CUSTOMER_FACING:
        raise ZoneNotAllowed(f"A {location.kind.value} does not deliver to customers and has no service zone.")
    zone = parse_zone(geojson)
    if not zone.locally_valid:
        reason = repository.validity_reason(session, zone.geometry)
        if reason != _VALID:
            raise InvalidZone(f"The zone is not a valid polygon: {reason}.", reason=reason)
    facts = repository.zone_facts(session, zone.geometry, zone.swapped_geometry())
    if not facts.valid:
        raise InvalidZone(f"The zone is not a valid polygon: {facts.reason}.", reason=facts.reason)
    if not facts.area_m2:
        raise InvalidZone("The zone encloses no area.", reason="zero area")
    if facts.swapped_overlaps_network and not facts.overlaps_network:
        raise CoordinatesPossiblySwapped(
            "The zone touches none of the network's zones, but would with lat and lon swapped. GeoJSON positions"
            " are [lon, lat]."
        )
    repository.store_zone(session, location.id, zone.geometry, at=clock.now())
    session.expire(location, ["service_zone", "updated_at"])
    return zone_feature(session, location_id=location.id)


def clear_zone(session: Session, *, location_id: uuid.UUID) -> None:
    location = get_location(session, location_id)
    repository.store_zone(session, location.id, None, at=clock.now())
    session.expire(location, ["service_zone", "updated_at"])


def zone_feature(session: Session, *, location_id: uuid.UUID) -> dict[str, Any]:
    """The stored zone as a GeoJSON Feature (MultiPolygon, [lon, lat])."""
    location = get_location(session, location_id)
    shapes = repository.zone_shapes(session, [location.id])
    if location.id not in shapes:
        raise ZoneNotSet("This location has no service zone.", location_id=str(location.id))
    return _zone_feature(location, shapes[location.id])


def network_geojson(session: Session) -> dict[str, Any]:
    """The whole network as one FeatureCollection: zones first (drawn underneath), then one
    Point per location with its kind, tier, parent and active flag."""
    locations = repository.all_locations(session)
    codes = {location.id: location.code for location in locations}
    zones = repository.zone_shapes(session)
    features = [_zone_feature(loc, zones[loc.id]) for loc in locations if loc.id in zones]
    for loc in locations:
        properties = {
            "feature": "location",
            "id": str(loc.id),
            "code": loc.code,
            "name": loc.name,
            "kind": loc.kind.value,
            "tier": TIER[loc.kind],
            "parent": codes.get(loc.parent_id) if loc.parent_id else None,
            "parent_id": str(loc.parent_id) if loc.parent_id else None,
            "active": loc.active,
            "has_zone": loc.id in zones,
        }
        point = GeoPoint(lat=loc.lat, lon=loc.lon).to_geojson()
        features.append(feature(point, properties, feature_id=f"location:{loc.id}"))
    return feature_collection(features)


def candidates_covering(session: Session, point: GeoPoint, *, limit: int = 10) -> list[NearbyLocation]:
    """Active customer-facing locations whose service zone covers `point`, nearest first, each
    with its great-circle distance in metres. The checkout's list of who could deliver here."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be 1–{MAX_PAGE_SIZE}")
    return repository.covering(session, point, kinds=CUSTOMER_FACING, limit=limit)


def locations_near(
    session: Session,
    point: GeoPoint,
    *,
    radius_m: float,
    kinds: Collection[LocationKind] | None = None,
    active_only: bool = True,
    limit: int = 20,
) -> list[NearbyLocation]:
    """Locations within `radius_m` metres of `point` (zones ignored), nearest first."""
    if not 0 < radius_m <= 20_037_509 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError("radius_m must be positive (at most half the Earth's circumference) and limit 1–100")
    return repository.near(session, point, radius_m=radius_m, kinds=kinds, active_only=active_only, limit=limit)


def is_open_at(location: Location, at: datetime | None = None) -> bool:
    """Whether the location works at `at` (default: now), its opening hours read in its own time zone."""
    return _open_at(location.opening_hours, location.timezone, at or clock.now())
