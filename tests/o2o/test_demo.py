"""`o2o demo` serves a ready API, runs a live city whose couriers ping through the real ping
service, and leaves nothing running after Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy import Engine, text

from core.settings import PROJECT_ROOT


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _positions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM courier_positions")).scalar_one())


def test_demo_becomes_ready_and_ctrl_c_stops_everything(committed_db: Engine) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "O2O_PORT": str(port)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "o2o", "demo"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # The demo's own printout is what tells a user it is ready: wait for the URLs there, not for
    # /readyz, which answers a moment before the demo has printed them.
    lines: list[str] = []
    assert demo.stdout is not None

    def read(stream: IO[str]) -> None:
        for line in stream:
            lines.append(line)

    reader = threading.Thread(target=read, args=(demo.stdout,), daemon=True)
    reader.start()
    docs_url = f"http://127.0.0.1:{port}/docs"
    try:
        # Seeding the city and (the first time) preparing its street graph come first.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and demo.poll() is None and not any(docs_url in line for line in lines):
            time.sleep(0.2)
        assert any(docs_url in line for line in lines), "the demo never printed its URLs:\n" + "".join(lines)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        assert httpx.get(docs_url, timeout=5).status_code == 200
        assert any(f"http://127.0.0.1:{port}/app/ops" in line for line in lines)
        assert any("courier0." in line for line in lines), "no courier login printed"
        children = _children(demo.pid)
        assert len(children) == 4  # api, worker, beat, the live simulation
        # The live simulation's couriers ride and ping: their positions reach the database.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and _positions(committed_db) < 10:
            time.sleep(1)
        assert _positions(committed_db) >= 10, "no courier moved:\n" + "".join(lines)

        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=60)
        reader.join(timeout=10)
        assert demo.returncode == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
