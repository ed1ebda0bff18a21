"""A run that is not live works on one core with its database sessions, and gives the cores back."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from core.db import make_engine
from simulations.one_core import one_core, pin

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a single core: nothing to pin")


@pytest.fixture
def fresh_engine(committed_db: Engine) -> Iterator[Engine]:
    # Its own engine: the pin applies to connections made after it.
    engine = make_engine(committed_db.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def test_the_run_moves_to_one_core_and_back(fresh_engine: Engine) -> None:
    cores = os.sched_getaffinity(0)
    with one_core(fresh_engine) as core:
        assert core == max(cores)
        assert os.sched_getaffinity(0) == {core}
    assert os.sched_getaffinity(0) == cores


@pytest.mark.skipif(os.geteuid() != 0, reason="pinning the server's processes takes root (CI runs as root)")
def test_its_database_sessions_join_it_on_that_core(fresh_engine: Engine) -> None:
    with one_core(fresh_engine) as core, fresh_engine.connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert os.sched_getaffinity(backend) == {core}


def test_a_process_forked_meanwhile_gets_every_core_back(fresh_engine: Engine) -> None:
    cores = os.sched_getaffinity(0)
    read, write = os.pipe()
    with one_core(fresh_engine):
        child = os.fork()
        if child == 0:  # the solver's worker, say
            os.write(write, ",".join(str(c) for c in sorted(os.sched_getaffinity(0))).encode())
            os._exit(0)
        os.waitpid(child, 0)
    os.close(write)
    with os.fdopen(read) as answer:
        assert {int(c) for c in answer.read().split(",")} == cores


def test_only_postgres_processes_of_this_machine_are_pinned() -> None:
    cores = os.sched_getaffinity(0)
    assert pin(os.getpid(), min(cores)) is False  # this test's process is no database server
    assert os.sched_getaffinity(0) == cores
    assert pin(2**22 + 12345, min(cores)) is False  # no such process (a server elsewhere)
