"""`o2o bench tracking`: courier-to-customer latency of live tracking through two API processes
and Redis, with the memory and CPU of the process holding the customer sockets.

Per run of N sockets: N picked-up orders (`--orders-per-courier` per courier), a fresh API
process B holding one customer socket per order (clients in 4 separate processes), and each
order's courier pinging every `--interval` seconds through other API processes (A; HTTP batch
endpoint, one fix per call; `--ping-processes` of them, couriers spread over them). B receives
N / interval frames per second whatever the orders per courier; that number only sets how many
pings A must write (a courier carrying 20 orders is a load harness, not a realistic courier).

Latency runs from the ping's timestamp (taken just before sending) to the frame's arrival at the
client, so it includes A's request (auth, row lock, history insert, ETA, commit, publish). The
first round of pings warms A up and is counted, not timed. RSS per connection is B's growth from
idle (after 100 warm-up sockets came and went) to N sockets open; CPU is B's user+system time
over the pinging window in % of one core. `lost` = frames expected from accepted pings minus
position frames received.

The echo ceiling runs the same uvicorn/Starlette socket stack with a bare echo endpoint and
no Redis: the same number of sockets each send a small message every `--interval` seconds; its
figures are round trips.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from rich.console import Console
from rich.table import Table

from bench import tracking_clients
from bench.database import bench_database
from bench.tracking_seed import City, seed
from core import clock
from core.settings import get_settings

BENCH_DB = "o2o_bench_tracking"
ROOT = Path(__file__).resolve().parents[1]
DRAIN_S = 3.0
WARMUP_SOCKETS = 100
CLIENT_PROCESSES = 4
GOAL = {"sockets": 10_000, "p99_ms": 200.0, "rss_kib_per_conn": 40.0}


def echo_app() -> FastAPI:
    """The socket server without tracking: accept, echo every text frame back."""
    app = FastAPI()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    return app


class Server:
    """One uvicorn process with production WebSocket options (docs/tracking.md)."""

    def __init__(self, factory: str, env: dict[str, str]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--ws-max-size", "65536", "--ws-per-message-deflate", "false"]
        args += ["--log-level", "warning", "--backlog", "4096"]
        self.proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env})
        self._wait_up(factory)

    def _wait_up(self, factory: str) -> None:
        probe = "/healthz" if factory.startswith("o2o.") else "/docs"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{factory} exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + probe, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{factory} did not start")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Clients:
    """Client processes (spawned, so they share nothing with this one), the targets split evenly;
    more than one, so that the clients' Python is not what the figures measure."""

    def __init__(self, mode: str, url: str, targets: list[str], token: str, interval_s: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        ws_url = url.replace("http://", "ws://")
        count = max(1, min(CLIENT_PROCESSES, len(targets)))
        self.channels: list[tuple[Any, Any]] = []
        self.procs: list[Any] = []
        for k in range(count):
            control, out = ctx.Queue(), ctx.Queue()
            job = tracking_clients.Job(mode, ws_url, targets[k::count], token, interval_s)
            proc = ctx.Process(target=tracking_clients.main, args=(job, control, out), daemon=True)
            proc.start()
            self.channels.append((control, out))
            self.procs.append(proc)

    def ready(self, timeout_s: float) -> tuple[int, int]:
        connected = failed = 0
        for _, out in self.channels:
            kind, ok, bad = out.get(timeout=timeout_s)
            assert kind == "ready"
            connected, failed = connected + int(ok), failed + int(bad)
        return connected, failed

    def finish(self, measure_from: float = 0.0) -> dict[str, Any]:
        for control, _ in self.channels:
            control.put(("stop", measure_from))
        merged: dict[str, Any] = {"latencies_ms": [], "positions": 0, "other": 0, "closed": 0}
        for _, out in self.channels:
            kind, figures = out.get(timeout=120)
            assert kind == "done"
            merged["latencies_ms"] += figures["latencies_ms"]
            for key in ("positions", "other", "closed"):
                merged[key] += figures[key]
        for proc in self.procs:
            proc.join(timeout=30)
        return merged


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


async def _ping_all(
    bases: list[str], city: City, couriers: int, duration_s: float, interval_s: float
) -> dict[str, Any]:
    """Each courier pings every `interval_s` on a fixed schedule, staggered evenly; returns
    accepted and failed counts and each accepted ping's HTTP round trip through A."""
    counts: dict[str, Any] = {"accepted": 0, "failed": 0, "frames_expected": 0, "http_ms": []}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + interval_s + duration_s

        async def courier(i: int) -> None:
            headers = {"Authorization": f"Bearer {city.courier_tokens[i]}"}
            carried = len(city.orders[i * city.per_courier : (i + 1) * city.per_courier])
            due = start + interval_s * i / couriers
            step = 0
            while step == 0 or due < end:  # the first round is the warm-up
                await asyncio.sleep(max(0.0, due - loop.time()))
                step += 1
                fix = {"lat": 52.52 + step * 0.00005, "lon": 13.405, "accuracy_m": 5, "heading": 90.0}
                body = {"pings": [{**fix, "ts": clock.now().isoformat()}]}
                sent = loop.time()
                try:
                    r = await http.post(f"{bases[i % len(bases)]}/courier/pings", json=body, headers=headers)
                    ok = r.status_code == 200 and r.json()["accepted"] == 1
                except httpx.HTTPError:
                    ok = False
                counts["accepted" if ok else "failed"] += 1
                if ok:
                    counts["frames_expected"] += carried
                    counts["http_ms"].append((loop.time() - sent) * 1000)
                due += interval_s

        await asyncio.gather(*(courier(i) for i in range(couriers)))
    return counts


def _track_run(
    n: int, city: City, env: dict[str, str], pingers: list[Server], *, duration_s: float, interval_s: float
) -> dict[str, Any]:
    b = Server("o2o.app:create_app", env)
    try:
        # Warm-up sockets first (thread pool, DB pool, lazy imports), so RSS grows by sockets only.
        warm = Clients("track", b.url, city.orders[: min(n, WARMUP_SOCKETS)], city.customer_token, interval_s)
        warm.ready(timeout_s=120.0)
        warm.finish()
        time.sleep(1.0)
        idle = b.rss_kib()
        clients = Clients("track", b.url, city.orders[:n], city.customer_token, interval_s)
        connected, failed = clients.ready(timeout_s=max(120.0, n / 20))
        time.sleep(1.0)
        rss = b.rss_kib()
        couriers = -(-n // city.per_courier)
        measure_from = time.time() + interval_s  # after the warm-up round of pings
        cpu0, t0 = b.cpu_s(), time.monotonic()
        pinged = asyncio.run(_ping_all([p.url for p in pingers], city, couriers, duration_s, interval_s))
        time.sleep(DRAIN_S)
        cpu = (b.cpu_s() - cpu0) / (time.monotonic() - t0) * 100
        figures = clients.finish(measure_from)
    finally:
        b.stop()
    latencies = figures["latencies_ms"]
    return {
        "sockets": connected,
        "pings_per_s": round(pinged["accepted"] / (duration_s + interval_s), 1),
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "rss_kib_per_conn": round((rss - idle) / max(1, connected), 1),
        "cpu_pct": round(cpu, 1),
        "lost": pinged["frames_expected"] - figures["positions"],
        "failed_sockets": failed,
        "failed_pings": pinged["failed"],
        # The ping's own HTTP round trip through A (incl. commit and publish): the part of the
        # latency spent before the frame reaches Redis.
        "ping_http_p50_ms": _percentile(pinged["http_ms"], 0.50),
        "ping_http_p99_ms": _percentile(pinged["http_ms"], 0.99),
        "closed_by_server": figures["closed"],
    }


def _echo_run(n: int, *, duration_s: float, interval_s: float) -> dict[str, Any]:
    server = Server("bench.tracking:echo_app", {})
    try:
        clients = Clients("echo", server.url, [""] * n, "", interval_s)
        connected, _ = clients.ready(timeout_s=max(120.0, n / 20))
        measure_from = time.time() + interval_s  # every socket has sent once by then
        time.sleep(interval_s + duration_s)
        figures = clients.finish(measure_from)
    finally:
        server.stop()
    latencies = figures["latencies_ms"]
    return {"sockets": connected, "p50_ms": _percentile(latencies, 0.5), "p99_ms": _percentile(latencies, 0.99)}


def run(
    *,
    sockets: list[int],
    duration_s: float = 20.0,
    interval_s: float = 4.0,
    per_courier: int = 20,
    ping_processes: int = 2,
    database: str = BENCH_DB,
    keep_database: bool = False,
    on_run: Any = None,
) -> dict[str, Any]:
    if not sockets or min(sockets) < 1 or min(per_courier, ping_processes) < 1 or duration_s <= 0 or interval_s < 1:
        raise ValueError("need sockets, orders per courier and ping processes >= 1, duration > 0, interval >= 1 s")
    tracking_clients.raise_fd_limit()  # inherited by the API processes started below
    settings = get_settings()
    with bench_database(database, keep=keep_database) as url:
        city = seed(url, settings, orders=max(sockets), per_courier=per_courier)
        env = {"O2O_DATABASE_URL": url, "O2O_REDIS_URL": settings.effective_redis_url()}
        pingers = [Server("o2o.app:create_app", env) for _ in range(ping_processes)]
        runs = []
        try:
            for n in sockets:
                runs.append(_track_run(n, city, env, pingers, duration_s=duration_s, interval_s=interval_s))
                if on_run is not None:
                    on_run(runs[-1])
        finally:
            for pinger in pingers:
                pinger.stop()
    echo = _echo_run(max(sockets), duration_s=duration_s, interval_s=interval_s)
    return {
        "runs": runs,
        "echo_ceiling": echo,
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
        "options": {
            "duration_s": duration_s,
            "interval_s": interval_s,
            "orders_per_courier": per_courier,
            "ping_api_processes": ping_processes,
            "client_processes": CLIENT_PROCESSES,
        },
    }


def _table(result: dict[str, Any]) -> Table:
    echo = result["echo_ceiling"]
    table = Table(title="Live tracking: courier ping → customer socket (one API process holds the sockets)")
    for column in ("sockets", "pings/s", "p50 ms", "p99 ms", "p99 ÷ echo p99", "KiB/conn", "CPU %", "lost"):
        table.add_column(column, justify="right")
    for r in result["runs"]:
        ratio = f"{r['p99_ms'] / echo['p99_ms']:.1f}×" if r["p99_ms"] and echo["p99_ms"] else "–"
        table.add_row(
            f"{r['sockets']:,}", str(r["pings_per_s"]), str(r["p50_ms"]), str(r["p99_ms"]), ratio,
            str(r["rss_kib_per_conn"]), str(r["cpu_pct"]), str(r["lost"]),
        )  # fmt: skip
    table.add_row(f"echo {echo['sockets']:,}", "–", str(echo["p50_ms"]), str(echo["p99_ms"]), "1.0×", "–", "–", "–")
    return table


def command(
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the figures here as JSON.")] = None,
    sockets: Annotated[list[int] | None, typer.Option("--sockets", help="Socket counts (repeat).")] = None,
    duration: Annotated[float, typer.Option(help="Seconds of pinging per run.")] = 20.0,
    interval: Annotated[float, typer.Option(help="Seconds between one courier's pings.")] = 4.0,
    orders_per_courier: Annotated[int, typer.Option(help="Orders each courier carries.")] = 20,
    ping_processes: Annotated[int, typer.Option(help="API processes the pings enter through.")] = 2,
    keep_database: Annotated[bool, typer.Option(help="Keep the benchmark database.")] = False,
    database: Annotated[str, typer.Option(help="Name of the benchmark's own database.")] = BENCH_DB,
) -> None:
    """Courier-to-customer latency, RSS per socket and CPU for 1,000 / 5,000 / 10,000 sockets."""
    console = Console()
    counts = sockets or [1_000, 5_000, 10_000]
    result = run(
        sockets=counts,
        duration_s=duration,
        interval_s=interval,
        per_courier=orders_per_courier,
        ping_processes=ping_processes,
        keep_database=keep_database,
        database=database,
        on_run=lambda r: console.print(f"[dim]{r}[/dim]"),
    )
    console.print(_table(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"Wrote {json_path}")
