"""Real API processes for cross-process tests: `uvicorn --factory o2o.app:create_app` subprocesses
sharing this xdist worker's database and Redis (the environment `tests/conftest.py` set up).

Usage: import `api_processes_fixture` into a test module (that registers the fixture
`api_processes`), then `api_processes(2)` gives base URLs of two processes; each is stopped
(SIGTERM, then SIGKILL) at the end of the test. WebSocket options match production
(docs/tracking.md): 64 KiB frames, no per-message deflate.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]
# A readiness wait, not a speed check: importing the app costs ~5 s of CPU, and at load 18 (the
# whole suite beside other work on 2 cores) 30 s was not always enough.
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_command(port: int, *, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "o2o.app:create_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--ws-max-size", "65536", "--ws-per-message-deflate", "false",
        "--log-level", "warning", *extra,
    ]  # fmt: skip


def start_api(
    env: Mapping[str, str] | None = None, *, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """Start one API process on a free port and wait until it answers `/healthz`."""
    port = free_port()
    proc = subprocess.Popen(uvicorn_command(port, extra=extra), cwd=ROOT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"API process exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_api(proc)
            raise RuntimeError("API process did not start")
        time.sleep(0.1)


def stop_api(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(name="api_processes")
def api_processes_fixture(committed_db: Engine) -> Iterator[Callable[..., list[str]]]:
    """Factory: `api_processes(n, env={...})` → base URLs of n fresh API processes."""
    started: list[subprocess.Popen[bytes]] = []

    def _start(n: int = 1, env: Mapping[str, str] | None = None) -> list[str]:
        urls = []
        for _ in range(n):
            proc, url = start_api(env)
            started.append(proc)
            urls.append(url)
        return urls

    try:
        yield _start
    finally:
        for proc in started:
            stop_api(proc)


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path
