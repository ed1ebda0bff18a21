"""Tracking frames as dispatch publishes them (real database, real Redis): live ETA along the
remaining stops, stops-before-you as a count, one delay notice per order, the zone frame."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core import clock
from core.db import session_scope
from core.geo import GeoPoint
from core.redis import get_redis
from dispatch import after_commit, notifications, pings, tracking
from dispatch.fleet_schemas import PingIn
from dispatch.models import Order
from dispatch.notifications_models import Notification, NotificationChannel, NotificationStatus
from dispatch.notifications_senders import LogSender
from dispatch.travel import HaversineEstimator
from tests import tracking_world

pytestmark = pytest.mark.usefixtures("committed_db")


class Captured:
    def __init__(self, channels: list[str]) -> None:
        self._pubsub = get_redis().pubsub()
        self._pubsub.subscribe(*channels)
        self.frames: list[dict[str, Any]] = []

    def drain(self, *, expect: int, within: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while len(self.frames) < expect and time.monotonic() < deadline:
            message = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message is not None:
                self.frames.append(json.loads(message["data"]))
        return self.frames

    def close(self) -> None:
        self._pubsub.close()


@pytest.fixture
def world() -> tracking_world.Delivery:
    with session_scope() as s:
        return tracking_world.build(s, customers=2)


def _ping(world: tracking_world.Delivery, *, lat: float = 52.5201, after_s: int = 2) -> None:
    fix = PingIn(lat=lat, lon=13.405, accuracy_m=5, heading=10.0, ts=clock.now() + timedelta(seconds=after_s))
    with session_scope() as s:
        assert pings.record(s, user_id=world.fleet.users[world.courier.id].id, pings=[fix]).accepted == 1


def test_live_eta_follows_the_remaining_stops_leg_by_leg() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    travel = HaversineEstimator()
    a, b, c = GeoPoint(lat=52.52, lon=13.40), GeoPoint(lat=52.53, lon=13.41), GeoPoint(lat=52.51, lon=13.42)
    expected = travel.seconds_to([a], b)[0] + travel.seconds_to([b], c)[0]
    assert tracking.live_eta(a, [b, c], now=now, estimator=travel) == now + timedelta(seconds=expected)
    # Further away now → later, although the plan did not change.
    far = GeoPoint(lat=52.45, lon=13.30)
    assert tracking.live_eta(far, [b, c], now=now, estimator=travel) > now + timedelta(seconds=expected)


def test_each_customer_gets_their_own_frame_with_a_count_of_stops_before_them(world) -> None:
    channels = [after_commit.ORDER_CHANNEL.format(order_id=o) for o in world.orders]
    zone = after_commit.ZONE_CHANNEL.format(zone_id=world.fleet.zone.id)
    captured = Captured([*channels, zone])
    try:
        _ping(world)
        frames = captured.drain(expect=3)
    finally:
        captured.close()
    by_order = {f["order_id"]: f for f in frames if f["type"] == "position"}
    first, second = by_order[str(world.orders[0])], by_order[str(world.orders[1])]
    assert (first["stops_before_you"], second["stops_before_you"]) == (0, 1)
    assert datetime.fromisoformat(second["eta"]) > datetime.fromisoformat(first["eta"])
    assert str(world.orders[0]) not in json.dumps(second)
    (courier,) = [f for f in frames if f["type"] == "courier"]
    assert courier["courier_id"] == str(world.courier.id)
    assert isinstance(first["seq"], int)
    assert first["seq"] > 0


def test_a_slipping_eta_sends_one_delay_frame_and_one_notification(world) -> None:
    late = world.orders[0]
    with session_scope() as s:
        order = s.get(Order, late)
        assert order is not None
        order.promised_from, order.promised_to = clock.now() - timedelta(hours=1), clock.now() - timedelta(minutes=30)
    captured = Captured([after_commit.ORDER_CHANNEL.format(order_id=late)])
    try:
        _ping(world, after_s=2)
        _ping(world, lat=52.5202, after_s=4)
        frames = captured.drain(expect=3)
    finally:
        captured.close()
    delays = [f for f in frames if f["type"] == "delay"]
    assert len(delays) == 1
    assert delays[0]["late_by_s"] > 30 * 60
    with session_scope() as s:
        rows = s.scalars(select(Notification).where(Notification.order_id.in_(world.orders))).all()
        assert [(r.order_id, r.kind, r.status) for r in rows] == [(late, "delay", NotificationStatus.pending)]
    email = LogSender(NotificationChannel.email)
    senders = {NotificationChannel.email: email, NotificationChannel.sms: LogSender(NotificationChannel.sms)}
    with session_scope() as s:
        assert notifications.deliver_pending(s, senders=senders) == 1
    with session_scope() as s:
        assert notifications.deliver_pending(s, senders=senders) == 0
        (row,) = s.scalars(select(Notification).where(Notification.order_id == late)).all()
        assert row.status is NotificationStatus.sent
        assert row.sent_at is not None
    assert [recipient for recipient, _ in email.sent] == [world.customers[0].email]


class _Broken:
    def send(self, *, recipient: str, body: str) -> str:
        raise ConnectionError("gateway down")


def test_a_failing_gateway_keeps_the_notice_pending_then_gives_up(world) -> None:
    with session_scope() as s:
        assert notifications.record_delay(
            s,
            order_id=world.orders[1],
            customer_id=world.customers[1].id,
            eta=clock.now(),
            promised_to=clock.now() - timedelta(minutes=10),
        )
    broken = {c: _Broken() for c in NotificationChannel}
    for _ in range(notifications.MAX_ATTEMPTS):
        with session_scope() as s:
            assert notifications.deliver_pending(s, senders=broken) == 0
    with session_scope() as s:
        row = s.scalars(select(Notification).where(Notification.order_id == world.orders[1])).one()
        assert (row.status, row.attempts) == (NotificationStatus.failed, notifications.MAX_ATTEMPTS)
