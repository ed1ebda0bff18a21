"""The private stack is idempotent and recovers from a killed run."""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.settings import PROJECT_ROOT, StackPaths
from o2o import stack


@pytest.fixture
def separate_stack() -> Iterator[StackPaths]:
    """A second, throw-away stack under .o2o/ (the postgres user must be able to reach it)."""
    home = PROJECT_ROOT / ".o2o" / "test-stacks" / uuid.uuid4().hex[:8]
    paths = StackPaths(home)
    try:
        yield paths
    finally:
        stack.down(paths)
        shutil.rmtree(paths.socket_dir, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def _pid(path: Path) -> int:
    return int(path.read_text().split()[0])


def test_up_is_idempotent_and_creates_a_postgis_database(separate_stack: StackPaths) -> None:
    assert set(stack.up(separate_stack, databases=("demo",))) == {"postgres", "redis"}
    assert stack.up(separate_stack, databases=("demo",)) == []
    dsn = f"host={separate_stack.socket_dir} port=5432 user=postgres dbname=demo"
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT postgis_lib_version()").fetchone()
    assert row is not None
    assert str(row[0]).startswith("3.")
    status = stack.status(separate_stack)
    assert status.up


def test_up_recovers_after_the_servers_were_killed(separate_stack: StackPaths) -> None:
    stack.up(separate_stack, databases=())
    # Simulate a crash: SIGKILL leaves postmaster.pid, the sockets and redis.pid behind.
    killed = [_pid(separate_stack.pg_data / "postmaster.pid"), _pid(separate_stack.pids_dir / "redis.pid")]
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(stack._process_alive(pid) for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (separate_stack.pg_data / "postmaster.pid").exists()
    assert set(stack.up(separate_stack, databases=("after_crash",))) == {"postgres", "redis"}
    assert stack.status(separate_stack).up


def test_down_stops_both_and_leaves_no_socket(separate_stack: StackPaths) -> None:
    stack.up(separate_stack, databases=())
    stack.down(separate_stack)
    assert not stack.status(separate_stack).postgres
    assert not stack.status(separate_stack).redis
    assert not separate_stack.redis_socket.exists()
