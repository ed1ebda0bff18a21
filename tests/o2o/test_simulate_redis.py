"""Each simulation run gets a Redis database of its own: runs of the same seed draw the same ids,
so on one database they would share their zones' dispatch locks and channels."""

from __future__ import annotations

import os
import subprocess

import pytest
import redis

from core.redis import get_redis, url_with_db
from core.settings import get_settings
from o2o import simulate_run
from o2o.simulate_run import REDIS_CLAIM, NoRedisDatabase, redis_of_its_own

LAST = simulate_run.SIM_REDIS_DBS.stop - 1


def _admin() -> redis.Redis:
    return redis.Redis.from_url(url_with_db(get_settings().effective_redis_url(), 0), decode_responses=True)


def _held_by_me() -> list[int]:
    admin = _admin()
    try:
        return [db for db in simulate_run.SIM_REDIS_DBS if admin.get(REDIS_CLAIM.format(db=db)) == str(os.getpid())]
    finally:
        admin.close()


def test_two_runs_at_once_get_different_databases_and_let_go_of_them() -> None:
    before = get_settings().effective_redis_url()
    with redis_of_its_own() as first:
        assert get_settings().effective_redis_url() == first
        get_redis().set("o2o:probe", "first run")
        with redis_of_its_own() as second:
            assert second != first
            assert get_redis().get("o2o:probe") is None  # the first run's keys are not here
        assert get_redis().get("o2o:probe") == "first run"
        assert len(_held_by_me()) == 1
    assert get_settings().effective_redis_url() == before
    assert redis.Redis.from_url(first).get("o2o:probe") is None  # emptied afterwards
    assert _held_by_me() == []


def test_when_every_database_is_held_the_run_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulate_run, "SIM_REDIS_DBS", range(LAST, LAST + 1))
    with (
        redis_of_its_own(),
        pytest.raises(NoRedisDatabase, match="held by running simulations"),
        redis_of_its_own(),
    ):
        pass


def test_a_claim_left_by_a_killed_run_is_taken_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulate_run, "SIM_REDIS_DBS", range(LAST, LAST + 1))
    gone = subprocess.Popen(["true"])  # any process that has ended
    gone.wait()
    base = get_settings().effective_redis_url()
    key = REDIS_CLAIM.format(db=LAST)
    assert _admin().set(key, str(gone.pid), nx=True), "another run holds the last database"
    with redis_of_its_own() as url:
        assert url == url_with_db(base, LAST)
        assert _admin().get(key) == str(os.getpid())
    assert _admin().get(key) is None
