"""`o2o bench inventory` at toy size: the JSON has the promised keys, every reservation
succeeded (stock always suffices there), and the database ended where the clients think."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import typer
from sqlalchemy import make_url
from typer.testing import CliRunner

from bench import inventory
from bench.database import libpq_url
from core.settings import get_settings

CASES = ("hot_sku", "spread", "multi_line")


def _bench_db() -> str:
    # One per xdist worker: they share a server.
    return f"o2o_bench_test_{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}"


def _exists(name: str) -> bool:
    server = make_url(get_settings().effective_database_url()).set(database="postgres")
    with psycopg.connect(libpq_url(server.render_as_string(hide_password=False))) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def test_a_tiny_run_reports_every_case_without_errors(database: str) -> None:
    result = inventory.run(clients=3, duration=0.5, warmup=0.2, locations=2, skus=12, database=_bench_db())

    for case in CASES:
        figures = result[case]
        assert {"rps", "p50_ms", "p99_ms", "errors"} <= figures.keys()
        assert figures["errors"] == 0, figures["error_kinds"]
        assert figures["rps"] > 0
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
        for run in (figures["check"], figures["ceiling"]["check"]):
            assert run["accounted"], run  # Σ reserved is exactly what the clients were promised
            assert (run["oversold_levels"], run["ledger_mismatches"]) == (0, 0)
        assert figures["check"]["hold_mismatches"] == 0
        assert figures["ceiling"]["errors"] == 0
    assert set(result["ceiling"]) == {"rps", "p50_ms", "p99_ms"}
    assert result["conditions"]["clients"] == 3
    assert not _exists(_bench_db())  # the benchmark database is gone again


def test_the_command_writes_the_json_it_prints(database: str, tmp_path: Path) -> None:
    out = tmp_path / "inventory.json"
    args = ["--json", str(out), "--clients", "2", "--duration", "0.3", "--warmup", "0.1"]
    args += ["--locations", "1", "--skus", "5", "--database", _bench_db()]
    app = typer.Typer()
    app.command()(inventory.command)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert set(CASES) | {"ceiling", "conditions", "goals"} <= written.keys()
    assert "hot_sku" in result.output
