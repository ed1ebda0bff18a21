"""The pool hands out live connections without a pre-ping round trip, and survives a killed backend."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, text

from core.db import make_engine


@pytest.fixture
def pooled(database: str) -> Iterator[Engine]:
    own = make_engine(database, pool_size=1, max_overflow=0)
    try:
        yield own
    finally:
        own.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_pooled_connection_is_reused_without_any_extra_statement(pooled: Engine) -> None:
    first = _backend_pid(pooled)
    sent: list[str] = []
    event.listen(pooled, "before_cursor_execute", lambda *args: sent.append(args[2]))
    assert _backend_pid(pooled) == first
    assert sent == ["SELECT pg_backend_pid()"]  # no `SELECT 1` ping before it


def test_a_connection_the_server_closed_is_replaced_before_anyone_uses_it(pooled: Engine, engine: Engine) -> None:
    stale = _backend_pid(pooled)
    with engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": stale}).scalar_one()
    time.sleep(0.2)  # the server's FATAL message and FIN reach our socket
    assert _backend_pid(pooled) != stale  # no error: the dead connection never left the pool
