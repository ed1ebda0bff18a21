"""Settings, paths of the private stack, the clock and the broker URL translation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import clock
from core.celery_app import kombu_url
from core.settings import StackPaths


def test_stack_sockets_live_inside_the_checkout_when_the_path_is_short() -> None:
    paths = StackPaths(Path("/srv/o2o/.o2o"))
    assert paths.socket_dir == Path("/srv/o2o/.o2o/run")
    assert paths.database_url("o2o") == "postgresql+psycopg://postgres@/o2o?host=/srv/o2o/.o2o/run&port=5432"
    assert paths.redis_url(3) == "unix:///srv/o2o/.o2o/run/redis.sock?db=3"


def test_deep_checkouts_get_a_short_distinct_socket_dir() -> None:
    deep_a = StackPaths(Path("/work/" + "a" * 90 + "/.o2o"))
    deep_b = StackPaths(Path("/work/" + "b" * 90 + "/.o2o"))
    assert len(str(deep_a.socket_dir / ".s.PGSQL.5432.lock")) < 107
    assert deep_a.socket_dir != deep_b.socket_dir


def test_kombu_gets_the_socket_form_of_a_unix_redis_url() -> None:
    assert kombu_url("unix:///x/redis.sock?db=4") == "redis+socket:///x/redis.sock?virtual_host=4"
    assert kombu_url("redis://localhost:6379/2") == "redis://localhost:6379/2"


def test_the_clock_can_be_frozen_and_advanced() -> None:
    frozen = clock.FrozenClock(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    with clock.use_clock(frozen):
        assert clock.now() == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
        frozen.advance(90)
        assert clock.now() == datetime(2026, 5, 1, 12, 1, 30, tzinfo=UTC)
    assert clock.now().year >= 2026


def test_naive_datetimes_are_refused_by_the_clock() -> None:
    with pytest.raises(ValueError):
        clock.FrozenClock(datetime(2026, 5, 1))  # noqa: DTZ001 - the point of the test
    with clock.use_clock(lambda: datetime(2026, 5, 1)), pytest.raises(RuntimeError):  # noqa: DTZ001
        clock.now()
