"""Test harness: real PostgreSQL/PostGIS, Redis and Celery, one database per xdist worker.

`pytest_configure` points this process at its own database and Redis db number before any
application module reads the settings; the `database` fixture brings the private stack up (or
uses the servers named by O2O_DATABASE_URL / O2O_REDIS_URL), recreates that database and
migrates it once per run. Each test then runs in an outer transaction that is rolled back.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.redis import url_with_db

# anyio imports its API lazily, on first use. Under pytest (anyio is a pytest plugin, so its
# modules go through the assertion-rewriting import hook) a first use in a page test's server
# thread compiled anyio._core._fileio while the main thread compiled too, and CPython 3.11 failed
# the static file with "AST constructor recursion depth mismatch" (a known CPython 3.11 fault with
# concurrent parsing, cpython gh-106905 / pytest #10763). Resolve every name now, in this thread.
for _name in dir(anyio):
    if not _name.startswith("_"):
        getattr(anyio, _name)

# The URLs the developer gave, if any. xdist workers inherit the environment that the
# controller's pytest_configure already rewrote, so the originals are kept aside once.
for _name in ("O2O_DATABASE_URL", "O2O_REDIS_URL"):
    os.environ.setdefault(f"O2O_TEST_GIVEN_{_name}", os.environ.get(_name, ""))
_USER_DB_URL = os.environ["O2O_TEST_GIVEN_O2O_DATABASE_URL"] or None
_USER_REDIS_URL = os.environ["O2O_TEST_GIVEN_O2O_REDIS_URL"] or None


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    match = re.fullmatch(r"gw(\d+)", worker)
    return int(match.group(1)) if match else 0


def _test_db_name() -> str:
    return f"o2o_test_{_worker_index()}"


def pytest_configure(config: pytest.Config) -> None:
    from core import settings as settings_module

    settings_module.get_settings.cache_clear()
    base = settings_module.Settings()
    dbname = _test_db_name()
    if _USER_DB_URL:
        # Same server as given, but a database of our own per worker.
        os.environ["O2O_DATABASE_URL"] = re.sub(r"/([^/?]+)(\?|$)", rf"/{dbname}\2", _USER_DB_URL, count=1)
    else:
        os.environ["O2O_DATABASE_URL"] = base.stack.database_url(dbname)
    # Redis db 0 is the demo's; each worker takes its own number so that queues do not mix.
    redis_db = 1 + _worker_index()
    if _USER_REDIS_URL:
        os.environ["O2O_REDIS_URL"] = url_with_db(_USER_REDIS_URL, redis_db)
    else:
        os.environ["O2O_REDIS_URL"] = base.stack.redis_url(redis_db)
    settings_module.get_settings.cache_clear()


@pytest.fixture(scope="session")
def database() -> str:
    """Private stack up (unless URLs were given), a fresh database for this worker, migrated."""
    import psycopg

    from core.settings import get_settings
    from o2o import migrate, stack

    settings = get_settings()
    if not (_USER_DB_URL and _USER_REDIS_URL):
        stack.up(settings.stack, databases=())
    url = settings.effective_database_url()
    if _USER_DB_URL:
        admin = _USER_DB_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{_test_db_name()}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{_test_db_name()}"')
    else:
        stack.ensure_database(settings.stack, _test_db_name(), fresh=True)
    migrate.upgrade(url)
    from core.redis import get_redis

    get_redis().flushdb()
    return url


@pytest.fixture(scope="session")
def engine(database: str) -> Engine:
    from core.db import get_engine

    return get_engine()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test.

    Code under test may `commit()`: with `create_savepoint` that only releases a savepoint, so
    nothing a test writes survives it.
    """
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def committed_db(engine: Engine) -> Iterator[Engine]:
    """For tests whose code commits for real (several connections, servers, workers): every
    table of ours is emptied afterwards."""
    yield engine
    from o2o.models import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def _app_with_session(session: Session | None) -> FastAPI:
    from core.http.deps import get_session
    from o2o.app import create_app

    app = create_app()
    if session is not None:

        def _test_session() -> Iterator[Session]:
            # Each request is a savepoint inside the test's transaction: a failing request
            # undoes only its own writes, not the data the test arranged before it.
            request_scope = session.begin_nested()
            try:
                yield session
                request_scope.commit()
            except BaseException:
                request_scope.rollback()
                raise

        app.dependency_overrides[get_session] = _test_session
    return app


@pytest.fixture
def app(db_session: Session) -> FastAPI:
    return _app_with_session(db_session)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(committed_db: Engine) -> Iterator[str]:
    """A real uvicorn serving the app on a free loopback port (for WebSocket and HTTP tests)."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(_app_with_session(None), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def celery_worker(committed_db: Engine) -> Iterator[Any]:
    """A real Celery worker (threads, in this process) consuming this worker's Redis queue."""
    from celery.contrib.testing.worker import start_worker

    from core.celery_app import app as celery_app

    with start_worker(celery_app, pool="threads", concurrency=2, perform_ping_check=False) as worker:
        yield worker


@pytest.fixture
def make_user(db_session: Session) -> Callable[..., Any]:
    from tests.factories import create_user

    def _make(**kwargs: Any) -> Any:
        return create_user(db_session, **kwargs)

    return _make
