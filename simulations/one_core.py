"""A run and its database sessions on one core.

A run is one synchronous client of PostgreSQL: it waits for every statement, and the server
process waits for the next one. Left to the scheduler, the two sit on different cores, and each
round trip wakes a sleeping core twice; on one core it is a switch between two processes (a
`SELECT 1` round trip on this 2-core machine: 90 µs apart, 28 µs together; a 40-minute
lunch_peak slice: 125 s → 110 s, the same KPIs). So a run that is not live pins itself, and every
server process its engine connects to, to one core, and puts itself back when it ends.

Only server processes of this machine are touched (the process behind `pg_backend_pid()` must be
a local `postgres`), and only where the operating system lets us (root, or the server's own user);
otherwise nothing changes. A process forked meanwhile (the VRP solver's workers) gets all the
cores back, so that a search does not share its core with the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

# The cores the process had before the pin, while a run is pinned (for forked children).
_before: set[int] | None = None


def _unpin_child() -> None:
    if _before is not None:
        with suppress(OSError):
            os.sched_setaffinity(0, _before)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_unpin_child)


@contextmanager
def one_core(engine: Engine) -> Iterator[int | None]:
    """Pin this process and the server processes `engine` connects to from now on to one core
    (yields it; None when there is only one, or the platform cannot pin)."""
    global _before
    if not hasattr(os, "sched_setaffinity") or _before is not None:
        yield None
        return
    cores = os.sched_getaffinity(0)
    if len(cores) < 2:
        yield None
        return
    core = max(cores)

    def pin_backend(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        dbapi_connection.commit()
        pin(pid, core)

    os.sched_setaffinity(0, {core})
    _before = cores
    event.listen(engine, "connect", pin_backend)
    try:
        yield core
    finally:
        event.remove(engine, "connect", pin_backend)
        _before = None
        os.sched_setaffinity(0, cores)


def pin(pid: int, core: int) -> bool:
    """Pin the local PostgreSQL server process `pid` to `core`; False if it is not one of this
    machine's (a server elsewhere), or we may not."""
    try:
        if not Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres"):
            return False
        os.sched_setaffinity(pid, {core})
    except OSError:
        return False
    return True
