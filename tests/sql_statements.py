"""Counting the SQL a block of code sends: the statement budgets of the hot paths are tested, not
just measured (a regression to a statement per row fails a test)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The statements (whitespace collapsed) sent on the session's connection while the block
    runs; an executemany counts once."""
    seen: list[str] = []
    connection = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)
