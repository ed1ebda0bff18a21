"""The checkout's plain-SQL statements fail the way SQLAlchemy's do, so the request boundary
answers them the same (409 for a data rule, 503 for an unreachable database), not as a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from dispatch import checkout_sql


def test_a_failing_plain_statement_is_raised_as_sqlalchemys_error(db_session: Session) -> None:
    conn = checkout_sql.driver_connection(db_session)
    savepoint = db_session.begin_nested()
    with pytest.raises(ProgrammingError), checkout_sql.as_sqlalchemy_errors("probe"):
        conn.execute("SELECT no_such_column FROM orders")
    savepoint.rollback()


def test_a_constraint_broken_in_a_pipeline_is_an_integrity_error(db_session: Session) -> None:
    conn = checkout_sql.driver_connection(db_session)
    savepoint = db_session.begin_nested()
    with pytest.raises(IntegrityError), checkout_sql.as_sqlalchemy_errors("probe"), conn.pipeline():
        conn.execute("CREATE TEMP TABLE probe (id int PRIMARY KEY) ON COMMIT DROP")
        conn.execute("INSERT INTO probe VALUES (1), (1)")
    savepoint.rollback()
