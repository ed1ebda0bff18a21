"""SQL of the ping hot path (every courier, every few seconds): two statements per batch.

1. `lock_pinger`: the courier of a user, locked (one writer per courier at a time), as the
   sanity rules need it — not an ORM load.
2. `record_fixes`: the accepted fixes appended, the courier's last position moved and, when a
   fix goes out live, the orders it carries with its open stops read — in one statement (data-
   modifying CTEs) where the ORM sent three (bulk INSERT, autoflushed UPDATE, the read).

Both are plain SQL built once at import: the ORM's statement building, cache-key generation,
unit of work and row loading cost more than the round trips on this path.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.geo import GeoPoint
from dispatch.fleet_models import Courier
from dispatch.models import OrderStatus
from dispatch.route_models import StopKind, StopStatus
from dispatch.tracking import DELAY_NOTICE, Carried, OpenStop


@dataclass(frozen=True, slots=True)
class Pinger:
    """The courier sending pings, as the rules need it: where and when it was last seen."""

    id: uuid.UUID
    zone_id: uuid.UUID
    last_lat: float | None
    last_lon: float | None
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class Fix:
    """One accepted fix to append to the history."""

    ts: datetime
    lat: float
    lon: float
    accuracy_m: float
    speed_mps: float | None
    heading: float | None
    broadcast: bool


_LOCK_PINGER = text(
    "SELECT id, zone_id, last_lat, last_lon, last_seen_at FROM couriers WHERE user_id = :user FOR UPDATE"
)

# The fixes in arrival order (ids follow it, as the multi-row INSERT gave them); the carried
# orders (in id order) with, on each row, the courier's open stops in route order as JSON (an
# uncorrelated subquery, evaluated once). JSON prints float8 exactly, so lat/lon come back bit
# for bit. The read sees the same snapshot as the writes, which touch none of its tables.
_RECORD_FIXES = text(
    """
    WITH fixes AS (
        INSERT INTO courier_positions
            (courier_id, ts, lat, lon, accuracy_m, speed_mps, heading, broadcast, received_at)
        SELECT :courier, f.ts, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.heading, f.broadcast, :now
          FROM unnest(CAST(:ts AS timestamptz[]), CAST(:lat AS float8[]), CAST(:lon AS float8[]),
                      CAST(:accuracy AS float8[]), CAST(:speed AS float8[]), CAST(:heading AS float8[]),
                      CAST(:broadcast AS boolean[]))
               WITH ORDINALITY AS f(ts, lat, lon, accuracy_m, speed_mps, heading, broadcast, n)
         ORDER BY f.n
    ),
    moved AS (
        UPDATE couriers SET last_lat = :last_lat, last_lon = :last_lon, last_seen_at = :last_ts, updated_at = :now
         WHERE id = :courier
    )
    SELECT o.id, o.customer_id, o.dropoff_lat, o.dropoff_lon, o.promised_to,
           EXISTS (SELECT FROM notifications n WHERE n.order_id = o.id AND n.kind = :delay_notice) AS noticed,
           (SELECT json_agg(json_build_array(s.order_id, s.kind, s.lat, s.lon) ORDER BY s.seq)
              FROM route_stops s
             WHERE s.courier_id = :courier AND s.status IN (:pending, :arrived)) AS stops
      FROM orders o
      JOIN order_assignments a ON a.order_id = o.id
     WHERE CAST(:read_carried AS boolean) AND a.courier_id = :courier AND o.status = :picked_up
     ORDER BY o.id
    """
)


def lock_pinger(session: Session, user_id: uuid.UUID) -> Pinger | None:
    row = session.execute(_LOCK_PINGER, {"user": user_id}).first()
    return None if row is None else Pinger(row[0], row[1], row[2], row[3], row[4])


def record_fixes(
    session: Session, courier_id: uuid.UUID, fixes: Sequence[Fix], *, now: datetime, read_carried: bool
) -> tuple[list[Carried], list[OpenStop]]:
    """Append `fixes` (non-empty, in time order) and move the courier to the last of them;
    with `read_carried`, also the orders it carries (each flagged when its delay notice was
    already queued) and its open stops in route order. Empty lists without `read_carried`."""
    last = fixes[-1]
    rows = session.execute(
        _RECORD_FIXES,
        {
            "courier": courier_id,
            "now": now,
            "ts": [f.ts for f in fixes],
            "lat": [f.lat for f in fixes],
            "lon": [f.lon for f in fixes],
            "accuracy": [f.accuracy_m for f in fixes],
            "speed": [f.speed_mps for f in fixes],
            "heading": [f.heading for f in fixes],
            "broadcast": [f.broadcast for f in fixes],
            "last_lat": last.lat,
            "last_lon": last.lon,
            "last_ts": last.ts,
            "read_carried": read_carried,
            "delay_notice": DELAY_NOTICE,
            "pending": StopStatus.pending.value,
            "arrived": StopStatus.arrived.value,
            "picked_up": OrderStatus.picked_up.value,
        },
    ).all()
    _sync_loaded(session, courier_id, last, now)
    carried = [Carried(r[0], r[1], GeoPoint(lat=r[2], lon=r[3]), r[4], bool(r[5])) for r in rows]
    raw = rows[0][6] if rows and rows[0][6] else []
    return carried, [OpenStop(uuid.UUID(o), StopKind(k), float(lat), float(lon)) for o, k, lat, lon in raw]


def _sync_loaded(session: Session, courier_id: uuid.UUID, last: Fix, now: datetime) -> None:
    """A `Courier` this session already holds (a shift started in the same transaction) is told
    the new position as the database has it, so it neither reads stale nor writes it back."""
    courier = session.identity_map.get(identity_key(Courier, courier_id))
    if courier is None:
        return
    for key, value in (("last_lat", last.lat), ("last_lon", last.lon), ("last_seen_at", last.ts), ("updated_at", now)):
        set_committed_value(courier, key, value)
