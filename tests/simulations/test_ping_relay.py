"""The ping relay records the couriers' pings in a second process: through the real ping service,
at each batch's virtual time, all of them by the time `drain` returns — and it steps back when
the run holds the courier's row."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.auth.models import Role
from dispatch.fleet_models import Courier, CourierStatus, DispatchZone
from simulations.ping_relay import LOCK_TIMEOUT_MS, SEND_EVERY, PingRelay, RelayFailed
from tests.factories import create_user

START = datetime(2026, 6, 3, 11, 0, tzinfo=UTC)


@pytest.fixture
def courier_user(committed_db: Engine) -> uuid.UUID:
    with Session(committed_db) as session:
        zone = DispatchZone(code=f"Z-{uuid.uuid4().hex[:6]}", name="Relay")
        session.add(zone)
        session.flush()
        user = create_user(session, role=Role.courier)
        session.add(Courier(user_id=user.id, zone_id=zone.id, status=CourierStatus.offline))
        session.commit()
        return user.id


@pytest.fixture
def relay(committed_db: Engine) -> Iterator[PingRelay]:
    relay = PingRelay(committed_db.url.render_as_string(hide_password=False), start=START, seed=1)
    yield relay
    relay.kill()


def _ride(at: datetime, n: int) -> list[tuple[datetime, float, float]]:
    """`n` fixes 15 s apart ending at `at`, heading north at ~6 m/s."""
    return [(at - timedelta(seconds=15 * (n - 1 - i)), 52.52 + 0.0008 * i, 13.40) for i in range(n)]


def _positions(engine: Engine) -> list[tuple[datetime, datetime]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT ts, received_at FROM courier_positions ORDER BY ts"))]


def test_everything_sent_is_recorded_at_its_virtual_time_once_drained(relay, courier_user, committed_db) -> None:
    batches = [START + timedelta(minutes=2 * k) for k in range(1, 41)]  # more than one buffer's worth
    for at in batches:
        relay.send(at, courier_user, _ride(at, 8))
    tally = relay.drain()
    assert (tally.accepted, tally.dropped) == (40 * 8, 0)
    positions = _positions(committed_db)
    assert len(positions) == 40 * 8
    # Received at the virtual second its batch was sent (the relay's clock), not at the wall clock.
    assert {received for _, received in positions} == set(batches)
    with committed_db.connect() as conn:
        last = conn.execute(text("SELECT last_lat, last_seen_at FROM couriers")).one()
    assert last == (pytest.approx(52.52 + 0.0008 * 7), batches[-1])
    # A drain counts only what came after the last one.
    assert relay.drain().accepted == 0


def test_the_service_rules_still_apply(relay, courier_user) -> None:
    at = START + timedelta(minutes=5)
    relay.send(at, courier_user, _ride(at, 3))
    relay.send(at, courier_user, _ride(at, 3))  # the same fixes again: not after the last one
    tally = relay.drain()
    assert (tally.accepted, tally.dropped) == (3, 3)


def test_a_batch_that_fails_is_reported_at_the_next_drain(relay, courier_user) -> None:
    at = START + timedelta(minutes=1)
    relay.send(at, uuid.uuid4(), _ride(at, 2))  # nobody's courier
    relay.send(at, courier_user, _ride(at, 2))
    with pytest.raises(RelayFailed, match="NotACourier"):
        relay.drain()


def test_it_waits_for_a_courier_row_the_run_holds_and_tries_again(relay, courier_user, committed_db) -> None:
    with committed_db.connect() as conn, conn.begin():
        conn.execute(text("SELECT 1 FROM couriers WHERE user_id = :u FOR UPDATE"), {"u": courier_user})
        for k in range(1, SEND_EVERY + 1):  # a full buffer goes down the pipe at once
            at = START + timedelta(minutes=2 * k)
            relay.send(at, courier_user, _ride(at, 4))
        time.sleep(3 * LOCK_TIMEOUT_MS / 1000)  # long enough for its lock wait to time out at least once
        assert _positions(committed_db) == []
    assert relay.drain().accepted == SEND_EVERY * 4
    assert len(_positions(committed_db)) == SEND_EVERY * 4
