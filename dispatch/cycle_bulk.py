"""Set-based writes of a dispatch cycle as one statement each, whatever the number of rows.

Rows travel as one array per column and are spread back into rows by PostgreSQL's `unnest`:
one statement, a handful of parameters, planned once. psycopg's pipelined executemany still sent
(and PostgreSQL executed) one statement per row — 2,000 stop rows took 1.3 s of a 1,000-order
cycle's write on the loaded 2-core machine — and one multi-VALUES statement makes SQLAlchemy
compile tens of thousands of parameters (measured 2× slower than executemany).

Each column travels as one PostgreSQL array literal (text, cast to the column's array type), built
here: psycopg's list dumper escapes every element in Python with regular expressions, which was
half of these statements' time in the city simulation. Only values whose text form PostgreSQL
reads back exactly are written this way; a column holding anything else goes as a list, as before.
"""

from __future__ import annotations

import enum
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

_JSON = ("JSON", "JSONB")
_DOUBLE = ("DOUBLE PRECISION", "FLOAT")  # a double's repr reads back exactly only as a double
_TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"  # a timestamp without one would drop the offset


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def _quoted(text: str) -> str:
    """An array element in double quotes: inside them only backslash and quote are special."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_NON_FINITE = {math.inf: '"Infinity"', -math.inf: '"-Infinity"'}


def _element(value: object, sql_type: str) -> str | None:
    """`value` as an element of an array literal that PostgreSQL parses back to the same value of
    the column's `sql_type`, or None when not handled here (the caller then sends a list)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | uuid.UUID):
        return str(value)
    if isinstance(value, float) and sql_type in _DOUBLE:
        # repr is the shortest text that reads back as the same double; PostgreSQL reads it so.
        return repr(value) if math.isfinite(value) else _NON_FINITE.get(value, '"NaN"')
    if isinstance(value, enum.Enum):
        return _element(value.value, sql_type)
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, datetime) and value.tzinfo is not None and sql_type == _TIMESTAMPTZ:
        return _quoted(value.isoformat())  # microseconds and offset: the same instant
    return None


def _literal(values: Sequence[object], sql_type: str) -> str | None:
    """The array literal `{a,b,...}` of `values`, or None if one of them is not handled."""
    parts = []
    for value in values:
        part = _element(value, sql_type)
        if part is None:
            return None
        parts.append(part)
    return "{" + ",".join(parts) + "}"


def _columns(session: Session, table: Table, names: Sequence[str]) -> list[str]:
    """The SQL types of `names`, which must be columns of `table` (KeyError otherwise): the only
    identifiers these statements interpolate are the schema's own, quoted; values are bound."""
    dialect = session.get_bind().dialect
    return [str(table.c[name].type.compile(dialect=dialect)) for name in names]


def _identifiers(session: Session, names: Sequence[str]) -> list[str]:
    preparer = session.get_bind().dialect.identifier_preparer
    return [preparer.quote(name) for name in names]


def _arrays(rows: Sequence[Mapping[str, Any]], names: Sequence[str], types: Sequence[str]) -> dict[str, object]:
    arrays: dict[str, object] = {}
    for i, (name, sql_type) in enumerate(zip(names, types, strict=True)):
        if sql_type in _JSON:
            column: list[Any] = [json.dumps(r[name]) for r in rows]
        else:
            column = [r[name] for r in rows]
        literal = _literal(column, "TEXT" if sql_type in _JSON else sql_type)
        arrays[f"p{i}"] = literal if literal is not None else [_plain(v) for v in column]
    return arrays


def _cast(column: str, sql_type: str) -> str:
    return f"{column}::{sql_type}" if sql_type in _JSON else column  # JSON came as text


def _unnest(types: Sequence[str]) -> str:
    # JSON travels as text and is cast back per row (psycopg does not adapt a list of dicts to jsonb[]).
    arrays = ", ".join(f"CAST(:p{i} AS {'text' if t in _JSON else t}[])" for i, t in enumerate(types))
    return f"unnest({arrays}) AS u({', '.join(f'c{i}' for i in range(len(types)))})"


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row of `rows` (dicts with the same keys) in one statement."""
    if not rows:
        return
    names = list(rows[0])
    types = _columns(session, table, names)
    values = ", ".join(_cast(f"u.c{i}", t) for i, t in enumerate(types))
    target = f"{_identifiers(session, [table.name])[0]} ({', '.join(_identifiers(session, names))})"
    sql = f"INSERT INTO {target} SELECT {values} FROM {_unnest(types)}"  # noqa: S608 (see _columns)
    session.execute(text(sql), _arrays(rows, names, types))


def update_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, keys: Sequence[str], values: Sequence[str]
) -> None:
    """UPDATE `table` SET `values` from each row WHERE its `keys` match, in one statement."""
    if not rows:
        return
    names = [*keys, *values]
    types = _columns(session, table, names)
    quoted = _identifiers(session, names)
    assign = ", ".join(
        f"{name} = {_cast(f'u.c{len(keys) + i}', types[len(keys) + i])}" for i, name in enumerate(quoted[len(keys) :])
    )
    match = " AND ".join(f"t.{name} = u.c{i}" for i, name in enumerate(quoted[: len(keys)]))
    target = _identifiers(session, [table.name])[0]
    sql = f"UPDATE {target} AS t SET {assign} FROM {_unnest(types)} WHERE {match}"  # noqa: S608 (see _columns)
    session.execute(text(sql), _arrays(rows, names, types))
