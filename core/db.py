"""Database kernel: the declarative base, one engine per URL, and the unit-of-work scope.

Services receive a `Session`, call `flush()` and never `commit()`; the entrypoint (request,
task, WebSocket message, simulation step) owns the scope and commits once at the end.
"""

from __future__ import annotations

import enum
import select
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import DateTime, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from core import clock
from core.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


def str_enum(cls: type[enum.Enum], name: str, length: int = 24) -> Enum:
    """An enum stored as a short string guarded by a CHECK constraint.

    Not a native PostgreSQL enum: adding a value later is then an ordinary migration rather than
    an `ALTER TYPE` that cannot run inside a transaction.
    """
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=length,
        create_constraint=True,
        # Store the values ("return"), not the Python member names ("return_").
        values_callable=lambda members: [m.value for m in members],
    )


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


# A pooled connection is replaced once it is this old, so one the network dropped silently
# (no FIN ever arrived, which the socket check below cannot see) does not live for ever.
POOL_RECYCLE_S = 1800


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20, lock_timeout_ms: int | None = None) -> Engine:
    """`lock_timeout_ms`: a lock wait longer than this fails (SQLSTATE 55P03) instead of waiting,
    for a client that would rather try again than hold others up; None waits (up to the
    statement timeout)."""
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No `pool_pre_ping`: its `SELECT 1` was one extra round trip per unit of work (one in
        # ~16 per checkout, one in 3 per bare reservation; measured in docs/benchmarks.md).
        # `_install_dead_socket_check` catches what it caught — a server restart or a killed
        # backend — with a local, zero-timeout poll of the socket instead.
        pool_pre_ping=False,
        pool_recycle=POOL_RECYCLE_S,
        # Timestamps are stored and compared in UTC whatever the server's default zone is.
        connect_args={"options": "-c timezone=UTC"},
    )
    _install_timeouts(engine, lock_timeout_ms)
    _install_dead_socket_check(engine)
    return engine


def connection_looks_dead(dbapi_connection: Any) -> bool:
    """Whether an idle pooled psycopg connection can no longer be used, without a round trip.

    An idle connection has nothing to read. When the server restarts or its backend is
    terminated, PostgreSQL sends a FATAL message and closes the socket, so the socket becomes
    readable (or reports a hang-up): that is the case `pool_pre_ping` existed for. A readable
    socket for any other reason (an asynchronous notice) only costs a fresh connection.
    """
    if dbapi_connection.closed:
        return True
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception:  # the libpq connection is already gone (psycopg raises OperationalError)
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _install_dead_socket_check(engine: Engine) -> None:
    # Raising DisconnectionError on checkout makes the pool drop this connection and hand out
    # another (a new one if need be), up to three times, before the request ever sees it: a
    # server restart costs no 500, as with pre-ping, but without pre-ping's round trip.
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, _record, _proxy):  # type: ignore[no-untyped-def]
        if connection_looks_dead(dbapi_connection):
            raise DisconnectionError("pooled connection was closed by the server")


def _install_timeouts(engine: Engine, lock_timeout_ms: int | None) -> None:
    # A runaway query must not hold locks (and the request) forever.
    settings = ["SET statement_timeout = '30s'"]
    if lock_timeout_ms is not None:
        settings.append(f"SET lock_timeout = {int(lock_timeout_ms)}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            for statement in settings:
                cursor.execute(statement)
        dbapi_connection.commit()


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().effective_database_url())


@lru_cache(maxsize=8)
def _sessionmaker_for(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def new_session(engine: Engine | None = None) -> Session:
    return _sessionmaker_for(engine or get_engine())()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back on any exception."""
    session = new_session(engine)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
