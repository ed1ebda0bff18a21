"""The reservation hot path in SQL: a whole hold in one network round trip.

Each line is one statement that raises `reserved` under the same guard as `ledger.move`
(`WHERE on_hand - reserved >= qty`), writes its ledger line and inserts its reservation row —
all three or, when the guard fails, none. The statements of all lines (SKU order: the lock
order of every stock writer) and the SAVEPOINT before them go to the server together in a
psycopg pipeline, so a hold costs one round trip however many lines it has, instead of one per
statement. If any line comes back empty, one more round trip rolls back to the savepoint: that
undoes the lines that were held and lets go of their row locks, so a checkout that moves on to
another location holds nothing here (and cannot deadlock with one that tries the locations the
other way round).

On success the savepoint is deliberately *not* released: that would be another round trip
while the hottest rows of the system are locked. It ends with the caller's transaction (COMMIT
releases it, any outer rollback discards it).

Each guard is evaluated by its own statement: a concurrent writer that committed first is seen
(READ COMMITTED re-checks the newest row version after waiting), so no two holds can both take
the last unit, and `CHECK (0 <= reserved AND reserved <= on_hand)` stands behind the guard.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_SAVEPOINT = "SAVEPOINT o2o_hold"
_ROLLBACK = "ROLLBACK TO SAVEPOINT o2o_hold"

_HOLD_LINE = """
    WITH held AS (
        UPDATE stock_levels SET reserved = reserved + %(qty)s, updated_at = %(now)s
         WHERE location_id = %(loc)s AND sku_id = %(sku)s AND on_hand - reserved >= %(qty)s
        RETURNING on_hand, reserved, reorder_point, target_level
    ),
    logged AS (
        INSERT INTO stock_movements
            (location_id, sku_id, kind, on_hand_delta, reserved_delta, reason, ref_id, actor_id, created_at)
        SELECT %(loc)s, %(sku)s, 'reserve', 0, %(qty)s, %(reason)s, %(id)s, CAST(%(actor)s AS uuid), %(now)s
          FROM held
    ),
    booked AS (
        INSERT INTO stock_reservations
            (id, location_id, sku_id, qty, holder_id, holder_line, status, expires_at, created_at)
        SELECT %(id)s, %(loc)s, %(sku)s, %(qty)s, %(holder)s, %(line)s, 'active',
               CAST(%(expires)s AS timestamptz), %(now)s
          FROM held
    )
    SELECT on_hand, reserved, reorder_point, target_level FROM held
"""


@dataclass(frozen=True, slots=True)
class HoldLine:
    sku_id: uuid.UUID
    qty: int
    reservation_id: uuid.UUID
    holder_line: int


@dataclass(frozen=True, slots=True)
class HeldLevel:
    """A level just after a line was held on it."""

    on_hand: int
    reserved: int
    reorder_point: int
    target_level: int


def hold_all(
    session: Session,
    *,
    location_id: uuid.UUID,
    lines: Sequence[HoldLine],
    holder_id: uuid.UUID,
    expires_at: datetime | None,
    reason: str,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> dict[uuid.UUID, HeldLevel] | None:
    """Hold every line (distinct SKUs, in SKU order) or none. Returns the levels as held, or
    `None` when some line did not fit (or is not stocked here) and nothing was held."""
    # Pending ORM changes first: the statements below go around the session's unit of work.
    session.flush()
    conn = _driver_connection(session)
    common = {"loc": location_id, "holder": holder_id, "expires": expires_at, "reason": reason, "actor": actor_id}
    try:
        with conn.pipeline():
            conn.execute(_SAVEPOINT)
            cursors = [
                conn.execute(
                    _HOLD_LINE,
                    {
                        **common,
                        "sku": line.sku_id,
                        "qty": line.qty,
                        "id": line.reservation_id,
                        "line": line.holder_line,
                        "now": now,
                    },
                )
                for line in lines
            ]
        rows = [cursor.fetchone() for cursor in cursors]
        if any(row is None for row in rows):
            conn.execute(_ROLLBACK)
            return None
    except psycopg.Error as exc:
        # As SQLAlchemy's own error, so the request boundary answers a deadlock or a timeout
        # here as it does anywhere else (409 / 503), not as a bare 500.
        raise DBAPIError.instance("hold_all", None, exc, psycopg.Error) from exc
    return {
        line.sku_id: HeldLevel(*cast(tuple[int, int, int, int], row)) for line, row in zip(lines, rows, strict=True)
    }


def _driver_connection(session: Session) -> psycopg.Connection[Any]:
    # The psycopg connection under the session's own (so inside its transaction).
    return cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)
