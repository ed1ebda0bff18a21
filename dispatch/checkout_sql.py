"""The checkout's reads in plain SQL, sent to the server in two pipelined round trips.

Before this module the checkout read through the ORM one statement at a time: the idempotency
lock, the stored key, the SKUs, the covering locations (with their zone polygons, unused here),
then stock and pick queues — six round trips and six passes through statement building, result
processing and object loading. Measured in-process on the seeded benchmark city this read phase
was ~6 ms of the ~17 ms of Python CPU of one checkout. Here the first four go to the server
together in one psycopg pipeline (`opening`), the last two in another (`facts`), each reading
only the columns the checkout uses into small frozen dataclasses.

The statements still run one after another on the server, each with its own snapshot (READ
COMMITTED), so the stored key is read *after* the advisory lock is held: a request that waited
for the key's owner to commit sees its row, exactly as when they were separate round trips.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg import sql
from psycopg.types.json import Json, Jsonb
from sqlalchemy import JSON, Column, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.db import Base
from core.geo import GeoPoint
from dispatch.models import FulfilmentStatus
from stores.models import CUSTOMER_FACING, LocationKind

# A namespace for the checkout's advisory locks (the two-int form), so they never collide with
# advisory locks other parts of the system may take.
IDEMPOTENCY_LOCK_CLASS = 0x0D15

_LOCK = "SELECT pg_try_advisory_xact_lock(%(cls)s, hashtext(%(who)s))"

_FIND_KEY = """
    SELECT request_hash, order_id, response_status, response_body
      FROM checkout_idempotency_keys WHERE customer_id = %(customer)s AND key = %(key)s
"""

_SKUS = """
    SELECT id, code, name, price_minor, currency, max_order_qty, active
      FROM skus WHERE id = ANY(CAST(%(ids)s AS uuid[])) OR code = ANY(CAST(%(codes)s AS text[]))
"""

# `stores.repository.covering` with only the columns a candidate needs (no zone polygons):
# active customer-facing locations whose zone covers the point, nearest first (KNN on `geom`).
_COVERING = """
    SELECT id, code, name, kind, lat, lon, timezone, opening_hours, pick_staff,
           pick_seconds_per_line, pack_seconds,
           ST_Distance(geom, CAST(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geography), false)
      FROM locations
     WHERE active AND kind = ANY(CAST(%(kinds)s AS text[])) AND service_zone IS NOT NULL
       AND ST_Covers(service_zone, CAST(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geography))
     ORDER BY geom <-> CAST(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geography), code
     LIMIT %(limit)s
"""

# `dispatch.repository.availability`: an active hold past its expiry counts as free.
_AVAILABILITY = """
    SELECT l.location_id, l.sku_id,
           l.on_hand - l.reserved + coalesce((
               SELECT sum(r.qty) FROM stock_reservations r
                WHERE r.location_id = l.location_id AND r.sku_id = l.sku_id
                  AND r.status = 'active' AND r.expires_at <= %(now)s), 0) AS available
      FROM stock_levels l
     WHERE l.location_id = ANY(CAST(%(locs)s AS uuid[])) AND l.sku_id = ANY(CAST(%(skus)s AS uuid[]))
"""

# Pick work not yet packed, per location.
_QUEUE_LOAD = """
    SELECT location_id, count(*), coalesce(sum(line_count), 0)
      FROM order_fulfilments
     WHERE location_id = ANY(CAST(%(locs)s AS uuid[])) AND status = ANY(CAST(%(open)s AS text[]))
     GROUP BY location_id
"""
_QUEUED = [FulfilmentStatus.pending.value, FulfilmentStatus.picking.value]
_CUSTOMER_FACING = sorted(kind.value for kind in CUSTOMER_FACING)

Pair = tuple[uuid.UUID, uuid.UUID]  # (location_id, sku_id)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What an earlier checkout with the same key answered."""

    request_hash: str
    order_id: uuid.UUID
    response_status: int
    response_body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SkuFacts:
    """What the checkout needs of a SKU (prices and names are copied onto the order lines)."""

    id: uuid.UUID
    code: str
    name: str
    price_minor: int
    currency: str
    max_order_qty: int
    active: bool


@dataclass(frozen=True, slots=True)
class Site:
    """What the checkout needs of a location (no geometry)."""

    id: uuid.UUID
    code: str
    name: str
    kind: LocationKind
    lat: float
    lon: float
    timezone: str
    opening_hours: dict[str, list[list[str]]]
    pick_staff: int
    pick_seconds_per_line: int
    pack_seconds: int


@dataclass(frozen=True, slots=True)
class Nearby:
    site: Site
    distance_m: float


@dataclass(frozen=True, slots=True)
class Opening:
    locked: bool
    stored: StoredResponse | None
    skus: list[SkuFacts]
    covering: list[Nearby] | None  # None when no point was asked about


@dataclass(frozen=True, slots=True)
class QueueLoad:
    orders: int
    lines: int


@contextmanager
def as_sqlalchemy_errors(what: str) -> Iterator[None]:
    """Raise a failing plain-psycopg statement as SQLAlchemy's `DBAPIError` subclass, so the
    request boundary answers it as it does any other (a unique violation or a deadlock: 409,
    the database unreachable: 503) instead of a bare 500."""
    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(what, None, exc, psycopg.Error) from exc


def driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under the session's own, inside its transaction; pending ORM
    changes are flushed first, since the statements sent on it go around the unit of work."""
    session.flush()
    return cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)


def opening(
    session: Session,
    *,
    customer_id: uuid.UUID,
    key: str,
    sku_refs: Collection[str],
    point: GeoPoint | None,
    limit: int,
) -> Opening:
    """Lock (customer, key) without waiting, read its stored response, the SKUs named by id or
    code, and the locations covering `point`: one round trip."""
    ids = []
    for ref in sku_refs:
        try:
            ids.append(uuid.UUID(ref))
        except ValueError:
            continue
    conn = driver_connection(session)
    with as_sqlalchemy_errors("checkout opening"), conn.pipeline():
        lock = conn.execute(_LOCK, {"cls": IDEMPOTENCY_LOCK_CLASS, "who": f"{customer_id}:{key}"})
        found = conn.execute(_FIND_KEY, {"customer": customer_id, "key": key})
        skus = conn.execute(_SKUS, {"ids": ids, "codes": list(sku_refs)})
        near = None
        if point is not None:
            where = {"lat": point.lat, "lon": point.lon, "kinds": _CUSTOMER_FACING, "limit": limit}
            near = conn.execute(_COVERING, where)
    locked = bool(cast(tuple[bool], lock.fetchone())[0])
    row = found.fetchone()
    stored = None
    if row is not None:
        body = row[3]
        # Read as text when the connection leaves JSON undecoded (SQLAlchemy decodes it itself).
        stored = StoredResponse(row[0], row[1], int(row[2]), json.loads(body) if isinstance(body, str) else body)
    return Opening(
        locked=locked,
        stored=stored,
        skus=[SkuFacts(*r) for r in skus.fetchall()],
        covering=None if near is None else [_nearby(r) for r in near.fetchall()],
    )


def _nearby(row: Sequence[Any]) -> Nearby:
    hours = row[7]
    site = Site(
        id=row[0],
        code=row[1],
        name=row[2],
        kind=LocationKind(row[3]),
        lat=float(row[4]),
        lon=float(row[5]),
        timezone=row[6],
        opening_hours=json.loads(hours) if isinstance(hours, str) else hours,
        pick_staff=int(row[8]),
        pick_seconds_per_line=int(row[9]),
        pack_seconds=int(row[10]),
    )
    return Nearby(site=site, distance_m=float(row[11]))


def facts(
    session: Session, *, location_ids: Sequence[uuid.UUID], sku_ids: Collection[uuid.UUID], now: datetime
) -> tuple[dict[Pair, int], dict[uuid.UUID, QueueLoad]]:
    """Available units per (location, SKU) and the pick queue per location: one round trip."""
    if not location_ids:
        return {}, {}
    locs = list(location_ids)
    conn = driver_connection(session)
    with as_sqlalchemy_errors("checkout facts"), conn.pipeline():
        stock = conn.execute(_AVAILABILITY, {"locs": locs, "skus": list(sku_ids), "now": now}) if sku_ids else None
        load = conn.execute(_QUEUE_LOAD, {"locs": locs, "open": _QUEUED})
    available = {} if stock is None else {(r[0], r[1]): max(int(r[2]), 0) for r in stock.fetchall()}
    return available, {r[0]: QueueLoad(orders=int(r[1]), lines=int(r[2])) for r in load.fetchall()}


# --- writing the order ----------------------------------------------------------------------------


def write_rows(session: Session, groups: Sequence[Sequence[Base]]) -> None:
    """Insert each group (new rows of one model, parents before children) with one multi-row
    INSERT, all groups in one pipelined round trip.

    `dispatch.repository.insert_rows` does the same one group and one round trip at a time
    through SQLAlchemy; the checkout's order, fulfilments, lines, stored response and event took
    five round trips that way. Same contract: every column comes from the objects (Python-side
    defaults do not apply; identity columns are left to the server), the objects stay outside
    the session.
    """
    conn = driver_connection(session)
    with as_sqlalchemy_errors("checkout order rows"), conn.pipeline():
        for rows in groups:
            if rows:
                table = cast(Table, type(rows[0]).__table__)
                columns = _insertable(table)
                values = [_value(c, getattr(row, c.key)) for row in rows for c in columns]
                conn.execute(_insert_sql(table, len(rows)), values)


@lru_cache(maxsize=64)
def _insertable(table: Table) -> list[Column[Any]]:
    # Identity columns (the outbox's id) are the server's to number, in insert order.
    return [c for c in table.columns if c.computed is None and c.identity is None]


@lru_cache(maxsize=256)
def _insert_sql(table: Table, count: int) -> str:
    # Rendered once per (table, rows) as text: composing it per call cost ~2 ms per checkout
    # (profiled), and the same text lets psycopg reuse its parsed and prepared statement.
    columns = _insertable(table)
    row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    return (
        sql.SQL("INSERT INTO {} ({}) VALUES {}")
        .format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
            sql.SQL(", ").join([row] * count),
        )
        .as_string(None)
    )


def _value(column: Column[Any], value: Any) -> Any:
    """What SQLAlchemy's bind processing would send for the column types of these tables."""
    if isinstance(column.type, JSON):
        if value is None and column.type.none_as_null:
            return None
        return Jsonb(value) if isinstance(column.type, JSONB) else Json(value)
    if isinstance(value, enum.Enum):
        return value.value  # `core.db.str_enum` stores the values, not the member names
    return value
