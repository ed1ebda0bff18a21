"""The facts behind each candidate location: zone, opening hours, pick queue, stock, ride time.

`dispatch.assignment` ranks plans from these facts without touching the database; this module
gathers them in a fixed, small number of queries whatever the number of candidates.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.orm import Session

from core.geo import GeoPoint
from dispatch import checkout_sql
from dispatch.assignment import Candidate
from dispatch.checkout_sql import Nearby, Site
from dispatch.errors import OutsideServiceArea
from dispatch.travel import TravelEstimator
from stores import service as stores
from stores.errors import CoordinatesPossiblySwapped
from stores.hours import is_open_at
from stores.models import Location, LocationKind
from stores.schemas import NearbyLocation
from stores.zones import swapped_point

# Zone-covering locations considered per checkout: the nearest few are the only realistic ones.
MAX_CANDIDATES = 8
# Warehouses deliver in a later window: goods are staged and loaded before the pick line starts.
WAREHOUSE_LEAD_S = {LocationKind.distribution_centre: 3600, LocationKind.central_warehouse: 3 * 3600}
WAREHOUSE_RADIUS_M = 100_000.0
MAX_WAREHOUSES = 3
_OPENING_STEP = timedelta(minutes=15)
_OPENING_HORIZON = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A location the checkout could not use at all, and why (for the explanation)."""

    location: Site
    distance_m: float
    reason: str


def site_of(location: Location) -> Site:
    return Site(
        id=location.id,
        code=location.code,
        name=location.name,
        kind=location.kind,
        lat=location.lat,
        lon=location.lon,
        timezone=location.timezone,
        opening_hours=location.opening_hours,
        pick_staff=location.pick_staff,
        pick_seconds_per_line=location.pick_seconds_per_line,
        pack_seconds=location.pack_seconds,
    )


def _nearby(found: Sequence[NearbyLocation]) -> list[Nearby]:
    return [Nearby(site=site_of(n.location), distance_m=n.distance_m) for n in found]


def seconds_until_open(location: Site | Location, now: datetime) -> int | None:
    """0 when open now; otherwise seconds until it next opens (minute precision); None if it
    does not open within a week (no hours on any day)."""
    hours, zone = location.opening_hours, location.timezone
    if is_open_at(hours, zone, now):
        return 0
    at = now
    while at - now <= _OPENING_HORIZON:
        nxt = at + _OPENING_STEP
        if is_open_at(hours, zone, nxt):
            # Hours are given to the minute: find the first open minute of the last step.
            for minute in range(1, 16):
                probe = at + timedelta(minutes=minute)
                if is_open_at(hours, zone, probe):
                    return math.ceil((probe.replace(second=0, microsecond=0) - now).total_seconds())
        at = nxt
    return None


def covering(session: Session, point: GeoPoint) -> list[Nearby]:
    """The zone-covering locations, nearest first (the checkout reads the same list in its
    pipelined opening round trip, `checkout_sql.opening`)."""
    return _nearby(stores.candidates_covering(session, point, limit=MAX_CANDIDATES))


def outside(session: Session, point: GeoPoint) -> NoReturn:
    """Nobody delivers to `point`: 422 `outside_service_area`, or `coordinates_possibly_swapped`
    when the point with lat and lon exchanged would be served (the classic mix-up)."""
    twin = swapped_point(point)
    if twin is not None and twin != point and covering(session, twin):
        raise CoordinatesPossiblySwapped(
            f"({point.lat}, {point.lon}) is outside every delivery area, but ({twin.lat}, {twin.lon}) is inside one:"
            " lat and lon look swapped.",
            suggested={"lat": twin.lat, "lon": twin.lon},
        )
    raise OutsideServiceArea("We do not deliver to this point yet.", lat=point.lat, lon=point.lon)


def warehouses(session: Session, point: GeoPoint, *, exclude: set[uuid.UUID]) -> list[Nearby]:
    """Distribution centres and central warehouses near the point that do not already serve it."""
    near = stores.locations_near(
        session,
        point,
        radius_m=WAREHOUSE_RADIUS_M,
        kinds=list(WAREHOUSE_LEAD_S),
        limit=MAX_WAREHOUSES + len(exclude),
    )
    return _nearby([n for n in near if n.location.id not in exclude][:MAX_WAREHOUSES])


def build(
    session: Session,
    *,
    nearby: Sequence[Nearby],
    covering_zone: bool,
    point: GeoPoint,
    sku_ids: Sequence[uuid.UUID],
    now: datetime,
    travel: TravelEstimator,
) -> tuple[list[Candidate], list[Skipped]]:
    """Candidates with every estimate filled in, nearest first; and those ruled out, with why."""
    usable: list[tuple[Nearby, int]] = []
    skipped: list[Skipped] = []
    for near in nearby:
        location = near.site
        if location.pick_staff <= 0:
            skipped.append(Skipped(location, near.distance_m, "nobody picks there"))
            continue
        opens_in = seconds_until_open(location, now)
        if opens_in is None:
            skipped.append(Skipped(location, near.distance_m, "closed for the coming week"))
            continue
        usable.append((near, opens_in))
    if not usable:
        return [], skipped
    ids = [near.site.id for near, _ in usable]
    # Stock and pick queues of every candidate in one pipelined round trip.
    stock, load = checkout_sql.facts(session, location_ids=ids, sku_ids=sku_ids, now=now)
    rides = travel.seconds_to([GeoPoint(lat=n.site.lat, lon=n.site.lon) for n, _ in usable], point)
    candidates = []
    idle = checkout_sql.QueueLoad(0, 0)
    for (near, opens_in), ride in zip(usable, rides, strict=True):
        location = near.site
        queued = load.get(location.id, idle)
        work = queued.lines * location.pick_seconds_per_line + queued.orders * location.pack_seconds
        candidates.append(
            Candidate(
                location_id=location.id,
                code=location.code,
                name=location.name,
                kind=location.kind.value,
                distance_m=round(near.distance_m, 1),
                covering=covering_zone,
                opens_in_s=opens_in,
                lead_s=0 if covering_zone else WAREHOUSE_LEAD_S.get(location.kind, 0),
                queue_wait_s=math.ceil(work / location.pick_staff),
                seconds_per_line=location.pick_seconds_per_line,
                pack_seconds=location.pack_seconds,
                travel_s=ride,
                available={sku: stock.get((location.id, sku), 0) for sku in sku_ids},
            )
        )
    return candidates, skipped
