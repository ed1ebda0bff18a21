"""A benchmark's own database: created on the project's server beside its database (never inside
it), migrated, and dropped afterwards, so a benchmark never touches demo or test data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from core.settings import get_settings
from o2o import migrate, stack


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as a libpq URI for plain psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _server_url(database: str) -> str:
    settings = get_settings()
    if settings.uses_private_stack:
        stack.up(settings.stack, databases=())
    return make_url(settings.effective_database_url()).set(database=database).render_as_string(hide_password=False)


@contextmanager
def bench_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh, migrated database `name` on the project's server; dropped afterwards unless `keep`."""
    url = _server_url(name)
    admin = libpq_url(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    ident = sql.Identifier(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        migrate.upgrade(url)
        yield url
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
