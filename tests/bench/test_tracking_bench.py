"""`o2o bench tracking` at toy size: real API processes, real Redis, the promised JSON keys, every
ping's frames arrive, and the echo ceiling is measured in the same run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from typer.testing import CliRunner

from bench import tracking

RUN_KEYS = {"sockets", "pings_per_s", "p50_ms", "p99_ms", "rss_kib_per_conn", "cpu_pct", "lost"}


def test_a_tiny_run_delivers_every_frame_and_writes_the_promised_json(database: str, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(tracking.command)
    out = tmp_path / "tracking.json"
    db = f"o2o_bench_tracking_test_{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}"  # one per xdist worker
    args = ["--json", str(out), "--sockets", "6", "--sockets", "12", "--duration", "2", "--interval", "1"]
    result = CliRunner().invoke(app, [*args, "--orders-per-courier", "3", "--database", db])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert [r["sockets"] for r in figures["runs"]] == [6, 12]
    for run in figures["runs"]:
        assert run.keys() >= RUN_KEYS
        assert run["lost"] == 0
        assert run["pings_per_s"] > 0
        assert 0 < run["p50_ms"] <= run["p99_ms"]
    assert set(figures["echo_ceiling"]) == {"sockets", "p50_ms", "p99_ms"}
    assert figures["echo_ceiling"]["sockets"] == 12
