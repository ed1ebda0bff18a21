"""The tracking benchmark's client side, run in a process of its own so that the sockets' Python
never shares a GIL with the server it measures.

`track`: one customer socket per order (auth, snapshot), then every position frame is timed
against the `ts` the courier stamped on its ping (same machine, same wall clock).
`echo`: the same number of sockets to the echo server, each sending a small message every
`interval_s` and timing its return.

The parent talks through two queues: it sends ("stop", t) on `control` (frames of pings sent
before t were warm-up: counted, not timed); the child sends
("ready", connected, failed) once all sockets are open and ("done", figures) at the end.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import time
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.queues import Queue
from typing import Any

import websockets

CONNECT_CONCURRENCY = 200


@dataclass(frozen=True)
class Job:
    mode: str  # "track" or "echo"
    url: str  # ws://host:port
    targets: list[str]  # order ids (track) or one empty string per socket (echo)
    token: str
    interval_s: float


OPEN_TIMEOUT_S = 60.0


def raise_fd_limit() -> int:
    """Ten thousand sockets need more than the usual 1,024 descriptors."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main(job: Job, control: Queue[Any], out: Queue[Any]) -> None:
    raise_fd_limit()
    asyncio.run(_run(job, control, out))


async def _connect(url: str, first: str | None) -> Any:
    ws = await websockets.connect(
        url, compression=None, max_size=65536, ping_interval=None, open_timeout=OPEN_TIMEOUT_S, close_timeout=1
    )
    if first is not None:
        await ws.send(first)
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT_S))
        if snapshot.get("type") != "snapshot":
            raise RuntimeError(f"expected a snapshot, got {snapshot.get('type')}")
    return ws


async def _open_all(mode: str, url: str, targets: list[str], token: str) -> tuple[list[Any], int]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    first = json.dumps({"type": "auth", "token": token})

    async def one(target: str) -> Any:
        async with gate:
            path = f"/customer/orders/{target}/track" if mode == "track" else "/echo"
            return await _connect(url + path, first if mode == "track" else None)

    results = await asyncio.gather(*(one(t) for t in targets), return_exceptions=True)
    sockets = [r for r in results if not isinstance(r, BaseException)]
    return sockets, len(results) - len(sockets)


async def _track(ws: Any, latencies: list[tuple[float, float]], counts: dict[str, int]) -> None:
    async for raw in ws:
        arrived = time.time()
        frame = json.loads(raw)
        if frame.get("type") == "position" and not frame.get("stale"):
            sent = datetime.fromisoformat(frame["ts"]).timestamp()
            latencies.append((sent, (arrived - sent) * 1000))
            counts["positions"] += 1
        else:
            counts["other"] += 1


async def _echo(ws: Any, interval_s: float, latencies: list[tuple[float, float]], counts: dict[str, int]) -> None:
    await asyncio.sleep(random.uniform(0, interval_s))
    while True:
        await ws.send(json.dumps({"t": time.time()}))
        sent = json.loads(await ws.recv())["t"]
        latencies.append((sent, (time.time() - sent) * 1000))
        counts["positions"] += 1
        await asyncio.sleep(interval_s)


async def _run(job: Job, control: Queue[Any], out: Queue[Any]) -> None:
    mode, interval_s = job.mode, job.interval_s
    sockets, failed = await _open_all(mode, job.url, job.targets, job.token)
    latencies: list[tuple[float, float]] = []
    counts = {"positions": 0, "other": 0, "closed": 0}
    out.put(("ready", len(sockets), failed))
    loop = asyncio.get_running_loop()

    async def serve(ws: Any) -> None:
        try:
            if mode == "track":
                await _track(ws, latencies, counts)
            else:
                await _echo(ws, interval_s, latencies, counts)
        except websockets.ConnectionClosed:
            pass
        counts["closed"] += 1

    tasks = [asyncio.create_task(serve(ws)) for ws in sockets]
    # ("stop", t): frames of pings sent before t were warm-up, counted but not timed.
    _, measure_from = await loop.run_in_executor(None, control.get)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    timed = [ms for sent, ms in latencies if sent >= measure_from]
    out.put(("done", {"latencies_ms": timed, **counts}))
