"""Courier GPS pings: sanity rules, position history, live broadcast.

Rules, applied in arrival order against the last accepted fix (rejected fixes are counted by
reason, never stored):
- timestamp more than 30 s in the future, or not after the last accepted one → `future` /
  `out_of_order`;
- accuracy worse than 100 m → `inaccurate`;
- implied speed from the last fix above 200 km/h → `too_fast` (a GPS jump, not a scooter);
- less than 1 s after the last accepted fix → `rate_limited` (more than 1 ping/s is excess).
Accepted fixes are appended to the history and move the courier's last position. Fixes older
than 5 minutes (a batch sent after a dead zone) are history only: not broadcast live. The newest
live fix is published after commit as a tracking frame (live ETA, stops before you) to each order
the courier carries and to the courier's zone for dispatchers (`dispatch.tracking`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core import clock
from core.geo import GeoPoint, haversine_m
from dispatch import ping_repository as ping_repo
from dispatch import tracking
from dispatch.fleet_errors import NotACourier
from dispatch.fleet_schemas import PingIn, PingResult
from dispatch.metrics import PINGS_ACCEPTED, PINGS_DROPPED
from dispatch.shifts import NO_COURIER

MAX_FUTURE = timedelta(seconds=30)
MAX_ACCURACY_M = 100.0
MAX_SPEED_MPS = 200 / 3.6
MIN_INTERVAL = timedelta(seconds=1)
LIVE_WINDOW = timedelta(minutes=5)


def record(session: Session, *, user_id: uuid.UUID, pings: Sequence[PingIn]) -> PingResult:
    courier = ping_repo.lock_pinger(session, user_id)  # one writer per courier at a time
    if courier is None:
        raise NotACourier(NO_COURIER)
    now = clock.now()
    dropped: Counter[str] = Counter()
    fixes: list[ping_repo.Fix] = []
    last_ts, last_at = courier.last_seen_at, _point(courier.last_lat, courier.last_lon)
    newest_live: tuple[PingIn, datetime] | None = None
    for p in pings:
        ts = p.ts if p.ts.tzinfo is not None else p.ts.replace(tzinfo=now.tzinfo)
        reason = _reject(p, ts, now, last_ts, last_at)
        if reason is not None:
            dropped[reason] += 1
            continue
        live = ts >= now - LIVE_WINDOW
        # Floats throughout: the driver sends each column as one typed array.
        fixes.append(
            ping_repo.Fix(
                ts=ts,
                lat=float(p.lat),
                lon=float(p.lon),
                accuracy_m=float(p.accuracy_m),
                speed_mps=None if p.speed_mps is None else float(p.speed_mps),
                heading=None if p.heading is None else float(p.heading),
                broadcast=live,
            )
        )
        last_ts, last_at = ts, GeoPoint(lat=p.lat, lon=p.lon)
        if live:
            newest_live = (p, ts)
    if fixes:
        # The carried orders are read only when a fix goes out live (in the same statement).
        carried, stops = ping_repo.record_fixes(
            session, courier.id, fixes, now=now, read_carried=newest_live is not None
        )
        if newest_live is not None:
            p, ts = newest_live
            fix = tracking.Fix(lat=p.lat, lon=p.lon, heading=p.heading, ts=ts)
            tracking.publish_position(
                session,
                courier_id=courier.id,
                zone_id=courier.zone_id,
                fix=fix,
                speed=p.speed_mps,
                carried=carried,
                stops=stops,
            )
    live_count = sum(1 for f in fixes if f.broadcast)
    for reason, n in dropped.items():
        PINGS_DROPPED.labels(reason).inc(n)
    PINGS_ACCEPTED.labels("true").inc(live_count)
    PINGS_ACCEPTED.labels("false").inc(len(fixes) - live_count)
    session.flush()
    return PingResult(accepted=len(fixes), history_only=len(fixes) - live_count, dropped=dict(dropped))


def _point(lat: float | None, lon: float | None) -> GeoPoint | None:
    return GeoPoint(lat=lat, lon=lon) if lat is not None and lon is not None else None


def _reject(p: PingIn, ts: datetime, now: datetime, last_ts: datetime | None, last_at: GeoPoint | None) -> str | None:
    if ts > now + MAX_FUTURE:
        return "future"
    if last_ts is not None and ts <= last_ts:
        return "out_of_order"
    if p.accuracy_m > MAX_ACCURACY_M:
        return "inaccurate"
    if last_ts is not None and last_at is not None:
        seconds = (ts - last_ts).total_seconds()
        if haversine_m(last_at, GeoPoint(lat=p.lat, lon=p.lon)) / seconds > MAX_SPEED_MPS:
            return "too_fast"
        if ts - last_ts < MIN_INTERVAL:
            return "rate_limited"
    return None
