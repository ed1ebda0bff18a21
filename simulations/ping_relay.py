"""Courier pings recorded by a second process, as an API worker beside the others would.

A run's main process is busy on one core (every step is Python talking to PostgreSQL); the
second core sat mostly idle. Pings are the one kind of work nothing in the run waits for: the
simulated courier does not read the answer (the real app doesn't either), and the only reader
of what they write that the run depends on is the dispatch cycle, which reads each courier's
last position. So the main process hands each batch to the relay and rides on; the relay calls
the real `dispatch.pings.record` in its own session and transaction, at the batch's virtual
time. Before each dispatch cycle the dispatcher calls `drain()`, which returns once every batch
sent so far is committed, so the cycle reads the very positions it would have read had the
pings been recorded in line: the same seed gives the same plans either way.

What may differ from run to run is what the ping path reads of the rest of the world (the orders
a courier carries, for the live ETA and the once-only delay notice): the relay reads them a
little later than the batch's virtual time. Neither feeds back into the run or its KPIs.

Locks: a batch locks its courier's row, as the API's does, while the main process's steps
lock orders and couriers. A relay transaction gives up a lock wait after `LOCK_TIMEOUT_MS` and
tries again, so when the two ever wait for each other it is the relay that steps back — well
before PostgreSQL's deadlock check (1 s) could pick the run's own transaction as the victim.
`drain()` is only called between steps, when the main process holds no locks.
"""

from __future__ import annotations

import signal
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing import get_context
from multiprocessing.connection import Connection

from sqlalchemy.exc import DBAPIError

from core import clock
from core.celery_app import take_pending
from core.db import make_engine, new_session
from dispatch import pings
from dispatch.fleet_schemas import PingIn
from simulations.ids import seeded_uuids

LOCK_TIMEOUT_MS = 200
RETRIES = 50
SEND_EVERY = 16  # batches buffered before they go down the pipe (one pickle, one write)
ACCURACY_M = 8.0
# A lock wait given up (lock_timeout), a deadlock, a serialization failure: try the batch again.
RETRYABLE = {"55P03", "40P01", "40001"}

# One batch on the wire: the virtual second it is sent at, the courier's user id (16 bytes),
# and its fixes as (virtual second, lat, lon). Plain floats and bytes pickle fast.
Batch = tuple[float, bytes, list[tuple[float, float, float]]]


@dataclass(frozen=True, slots=True)
class Tally:
    """What the relay did since the last drain."""

    accepted: int
    dropped: int
    busy_s: float  # the relay's own wall time spent recording (on its own core)


class RelayFailed(RuntimeError):
    """The relay could not record a batch (a bug, or the database went away)."""


class PingRelay:
    """The main process's end: `send` batches, `drain` before reading positions, `close` at the end."""

    def __init__(self, database_url: str, *, start: datetime, seed: int | None, send_every: int = SEND_EVERY) -> None:
        self._start, self._send_every = start, send_every
        ctx = get_context("spawn")  # not fork: the child must not inherit the parent's connections
        self._conn, child = ctx.Pipe(duplex=True)
        self._process = ctx.Process(
            target=_serve, args=(child, database_url, start, seed), name="o2o-ping-relay", daemon=True
        )
        self._process.start()
        child.close()
        self._buffer: list[Batch] = []

    def send(self, now: datetime, user_id: uuid.UUID, fixes: Sequence[tuple[datetime, float, float]]) -> None:
        self._buffer.append((self._s(now), user_id.bytes, [(self._s(at), lat, lon) for at, lat, lon in fixes]))
        if len(self._buffer) >= self._send_every:
            self._flush()

    def drain(self) -> Tally:
        """Wait until every batch sent so far is committed; what the relay did since the last drain."""
        self._flush()
        self._conn.send(("drain", None))
        try:
            kind, payload = self._conn.recv()
        except EOFError as exc:
            raise RelayFailed(f"the ping relay died (exit code {self._process.exitcode})") from exc
        if kind == "error":
            raise RelayFailed(f"the ping relay failed:\n{payload}")
        tally: Tally = payload
        return tally

    def close(self) -> None:
        """Stop the relay once it has recorded everything sent (raises if it could not)."""
        try:
            self.drain()
            self._conn.send(("stop", None))
            self._process.join(10)
        finally:
            self.kill()

    def kill(self) -> None:
        """Stop the relay without waiting for it (the run failed, or it would not stop)."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._conn.close()

    def _flush(self) -> None:
        if self._buffer:
            try:
                self._conn.send(("pings", self._buffer))
            except BrokenPipeError as exc:
                raise RelayFailed(f"the ping relay died (exit code {self._process.exitcode})") from exc
            self._buffer = []

    def _s(self, at: datetime) -> float:
        return (at - self._start).total_seconds()


@contextmanager
def ping_relay(
    database_url: str, *, start: datetime, seed: int | None, send_every: int = SEND_EVERY
) -> Iterator[PingRelay]:
    relay = PingRelay(database_url, start=start, seed=seed, send_every=send_every)
    try:
        yield relay
    except BaseException:
        relay.kill()
        raise
    relay.close()


# -- the relay's own process -------------------------------------------------------------------


class _Recorder:
    def __init__(self, database_url: str, start: datetime) -> None:
        self.engine = make_engine(database_url, pool_size=1, max_overflow=0, lock_timeout_ms=LOCK_TIMEOUT_MS)
        self.start = start
        self.now = start
        self.accepted = self.dropped = 0
        self.busy_s = 0.0
        self.error: str | None = None

    def record(self, batches: list[Batch]) -> None:
        if self.error is not None:
            return  # reported at the next drain; the pipe keeps being read so the run never blocks
        started = time.perf_counter()
        try:
            for now_s, user, fixes in batches:
                self.now = self.start + timedelta(seconds=now_s)
                batch = [
                    PingIn(lat=lat, lon=lon, accuracy_m=ACCURACY_M, ts=self.start + timedelta(seconds=at_s))
                    for at_s, lat, lon in fixes
                ]
                self._record_one(uuid.UUID(bytes=user), batch)
        except Exception:
            self.error = traceback.format_exc()
        self.busy_s += time.perf_counter() - started

    def _record_one(self, user_id: uuid.UUID, batch: list[PingIn]) -> None:
        for attempt in range(RETRIES):
            session = new_session(self.engine)
            try:
                result = pings.record(session, user_id=user_id, pings=batch)
                # As every step of the run does (simulations.runtime): tasks are the run's to
                # schedule, and a delay notice's delivery task is not one it runs.
                take_pending(session)
                session.commit()
            except DBAPIError as exc:
                session.rollback()
                if getattr(exc.orig, "sqlstate", None) not in RETRYABLE or attempt == RETRIES - 1:
                    raise
                continue
            finally:
                session.close()
            self.accepted += result.accepted
            self.dropped += sum(result.dropped.values())
            return

    def tally(self) -> Tally:
        tally = Tally(self.accepted, self.dropped, self.busy_s)
        self.accepted = self.dropped = 0
        self.busy_s = 0.0
        return tally


def _serve(conn: Connection, database_url: str, start: datetime, seed: int | None) -> None:
    # Ctrl-C in a terminal reaches the whole process group; the run stops the relay itself (or,
    # if the run dies, the pipe closes and the relay ends on the EOF).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    recorder = _Recorder(database_url, start)
    # Its own id stream: the ids of what the relay writes (delay notices) must not draw from,
    # and so shift, the main process's ids.
    ids = seeded_uuids(seed, "pings") if seed is not None else nullcontext()
    try:
        with clock.use_clock(lambda: recorder.now), ids:
            while True:
                kind, payload = conn.recv()
                if kind == "pings":
                    recorder.record(payload)
                elif kind == "drain":
                    if recorder.error is not None:
                        conn.send(("error", recorder.error))
                    else:
                        conn.send(("ok", recorder.tally()))
                else:
                    break
    except EOFError:
        pass  # the run went away without saying goodbye
    finally:
        recorder.engine.dispose()
        conn.close()
