"""Redis restarted under a live tracking socket: the API process resubscribes, sends a fresh
snapshot and frames flow again within 5 s.

The test runs its own `redis-server` on its own unix socket (and points only its two API
processes at it), so killing it cannot disturb the stack the other xdist worker is using.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from core.db import session_scope
from tests import tracking_world
from tests.api_processes import api_processes_fixture  # noqa: F401  (registers the fixture)
from tests.customer_api.test_tracking_processes import _open, _ping, _post_pings, _until

RESUME_WITHIN_S = 5.0


class OwnRedis:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.socket = directory / "redis.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is part of the stack"
        args = [binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        args += ["--dir", str(self.dir), "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(unix_socket_path=str(self.socket)).ping():
                    return
            except (redis.RedisError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # a crash, not a polite shutdown
            self.proc.wait(timeout=10)
        self.socket.unlink(missing_ok=True)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_redis_restart_mid_stream_resends_a_snapshot_and_frames_resume(api_processes, own_redis) -> None:
    a, b = api_processes(2, env={"O2O_REDIS_URL": own_redis.url})
    with session_scope() as s:
        world = tracking_world.build(s, customers=1)

    async def scenario() -> None:
        ws = await _open(b, world.orders[0], {"type": "auth", "token": world.tokens[0]})
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "snapshot"
        await asyncio.to_thread(_post_pings, a, world.courier_token, [_ping(0)])
        before = await _until(ws, lambda f: f["type"] == "position")
        own_redis.stop()
        await asyncio.sleep(0.5)
        own_redis.start()
        got = await _until(ws, lambda f: f["type"] == "snapshot", within=RESUME_WITHIN_S)
        assert got[-1]["status"] == "picked_up"
        await asyncio.to_thread(_post_pings, a, world.courier_token, [_ping(1)])
        after = await _until(ws, lambda f: f["type"] == "position", within=RESUME_WITHIN_S)
        assert after[-1]["lat"] == _ping(1)["lat"]
        assert after[-1]["seq"] > before[-1]["seq"]  # still increasing although Redis lost the counter
        await ws.close()

    asyncio.run(scenario())
