"""Load generators for `o2o bench checkout`: `wrk` (C, when installed) or Python threads.

Both send prepared requests — one line per request: method, path, headers, body — closed-loop
from a fixed number of connections for a fixed time, after an unmeasured warm-up, and report
requests/s, p50/p99 latency and the count of each HTTP status. `wrk` is what the issue's
/healthz ceiling was measured with; the Python client costs the shared CPUs far more per request,
so its figures are lower bounds (the result says which client ran).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""


@dataclass(frozen=True, slots=True)
class Measured:
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    statuses: dict[int, int]
    requests: int
    errors: int  # transport failures (connection reset, timeout), not HTTP statuses

    @property
    def errors_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "transport_errors": self.errors,
        }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


# Each wrk thread takes every n-th prepared request (so no two threads send the same key), keeps
# a status histogram, and `done` merges the threads' histograms and prints one JSON line.
_WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  reqs = {}
  statuses = {}
  local n = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % n == tid then
      local method, path, hdrs, body = line:match('^(%S+)\t(%S+)\t(.-)\t(.*)$')
      local headers = {}
      for k, v in hdrs:gmatch('([^\31]+)\30([^\31]*)\31') do headers[k] = v end
      reqs[#reqs + 1] = wrk.format(method, path, headers, body ~= '' and body or nil)
    end
    i = i + 1
  end
  idx = 0
end
function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"errors":%d,"statuses":{%s}}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
"""


def _wrk_file(requests: list[Request], directory: Path, name: str) -> Path:
    # Tab-separated; headers as key\x1evalue\x1f pairs (characters no header or JSON body holds).
    path = directory / name
    with path.open("w") as out:
        for r in requests:
            headers = "".join(f"{k}\x1e{v}\x1f" for k, v in r.headers.items())
            out.write(f"{r.method}\t{r.path}\t{headers}\t{r.body}\n")
    return path


def run_wrk(
    base_url: str, requests: list[Request], *, connections: int, duration: float, warmup: float, threads: int = 2
) -> Measured:
    with tempfile.TemporaryDirectory(prefix="o2o-bench-") as tmp:
        directory = Path(tmp)
        script = directory / "bench.lua"
        script.write_text(_WRK_SCRIPT)
        # The warm-up gets requests of its own, so the measured run never replays a key (a list
        # too short to share is one whose requests may repeat, like GET /healthz).
        cut = len(requests) // 10 if len(requests) >= 10 * connections else 0
        warm, main = (requests[:cut], requests[cut:]) if cut else (requests, requests)
        if warmup > 0:
            _wrk(base_url, script, _wrk_file(warm, directory, "warm.tsv"), connections, warmup, threads)
        return _wrk(base_url, script, _wrk_file(main, directory, "main.tsv"), connections, duration, threads)


def _wrk(base_url: str, script: Path, data: Path, connections: int, duration: float, threads: int) -> Measured:
    threads = max(1, min(threads, connections))
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "30s"]
    args += ["-s", str(script), base_url, "--", str(data), str(threads)]
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=duration + 120)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    data_out = json.loads(line.removeprefix("WRKJSON "))
    seconds = data_out["duration_us"] / 1e6
    return Measured(
        rps=round(data_out["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=round(data_out["p50_us"] / 1000, 2),
        p99_ms=round(data_out["p99_us"] / 1000, 2),
        statuses={int(k): v for k, v in data_out["statuses"].items()},
        requests=data_out["requests"],
        errors=data_out["errors"],
    )


def run_python(base_url: str, requests: list[Request], *, connections: int, duration: float, warmup: float) -> Measured:
    """Closed loop from `connections` threads, each with its own keep-alive connection."""
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    barrier = threading.Barrier(connections)
    window: list[float] = []

    def next_request() -> Request | None:
        with lock:
            index = next(cursor, None)
        return None if index is None else requests[index]

    def client() -> None:
        nonlocal errors
        mine: list[float] = []
        seen: Counter[int] = Counter()
        failed = 0
        with httpx.Client(base_url=base_url, timeout=30) as http:
            if barrier.wait(timeout=60) == 0:
                start = time.perf_counter() + warmup
                window.extend([start, start + duration])
            barrier.wait(timeout=60)
            begin, end = window
            while (started := time.perf_counter()) < end and (r := next_request()) is not None:
                try:
                    response = http.request(r.method, r.path, headers=r.headers, content=r.body or None)
                except httpx.HTTPError:
                    failed += started >= begin
                    continue
                if started >= begin:
                    mine.append(time.perf_counter() - started)
                    seen[response.status_code] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)
            errors += failed

    workers = [threading.Thread(target=client, name=f"bench-http-{i}") for i in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()
    return Measured(
        rps=round(len(latencies) / duration, 1),
        p50_ms=_ms(latencies, 0.50),
        p99_ms=_ms(latencies, 0.99),
        statuses=dict(statuses),
        requests=len(latencies),
        errors=errors,
    )


def _ms(sorted_seconds: list[float], q: float) -> float | None:
    if not sorted_seconds:
        return None
    return round(1000 * sorted_seconds[min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))], 2)
