"""The cycle's set-based writes store every value exactly as given, whatever its text looks like."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Boolean, Column, DateTime, Double, Integer, MetaData, Numeric, String, Table, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Session

from dispatch.cycle_bulk import insert_rows, update_rows

_meta = MetaData()
_table = Table(
    "cycle_bulk_probe",
    _meta,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("n", Integer),
    Column("x", Double),
    Column("label", String(64)),
    Column("flag", Boolean),
    Column("at", DateTime(timezone=True)),
    Column("doc", JSONB),
    Column("price", Numeric(10, 2)),  # not sent as a literal: the list path still works
    prefixes=["TEMPORARY"],
)


class Kind(enum.Enum):
    pickup = "pickup"


def _awkward_rows() -> list[dict[str, object]]:
    labels = ['a "quoted" word', "back\\slash", "{braces},commas", "NULL", "", "  spaced  ", "ünïcødé €", None]
    floats = [0.1, 1e-300, -2.5e300, 48.137154, -0.0, 1 / 3, float("inf"), None]
    times = [
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2026, 6, 30, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        None,
    ]
    return [
        {
            "id": uuid.UUID(int=i + 1),
            "n": [0, -7, 2**31 - 1, None][i % 4],
            "x": floats[i % len(floats)],
            "label": labels[i % len(labels)],
            "flag": [True, False, None][i % 3],
            "at": times[i % len(times)],
            "doc": {"reason": labels[i % 7], "n": i, "nested": [1, None, "x"]},
            "price": Decimal("12.34"),
        }
        for i in range(24)
    ]


def _stored(session: Session) -> list[dict[str, object]]:
    return [dict(r._mapping) for r in session.execute(select(_table).order_by(_table.c.id))]


def test_inserted_rows_read_back_exactly(db_session: Session) -> None:
    _table.create(db_session.connection())
    rows = _awkward_rows()

    insert_rows(db_session, _table, rows)

    assert _stored(db_session) == rows


def test_enums_are_stored_as_their_values(db_session: Session) -> None:
    _table.create(db_session.connection())

    insert_rows(db_session, _table, [{"id": uuid.UUID(int=1), "label": Kind.pickup}])

    assert db_session.execute(select(_table.c.label)).scalar_one() == "pickup"


def test_updated_rows_read_back_exactly(db_session: Session) -> None:
    _table.create(db_session.connection())
    rows = _awkward_rows()
    insert_rows(db_session, _table, [{"id": r["id"], "n": 1} for r in rows])

    changes = [{k: v for k, v in r.items() if k != "price"} for r in reversed(rows)]
    update_rows(db_session, _table, changes, keys=["id"], values=["n", "x", "label", "flag", "at", "doc"])

    assert [{k: v for k, v in r.items() if k != "price"} for r in _stored(db_session)] == [
        {k: v for k, v in r.items() if k != "price"} for r in rows
    ]
