"""`o2o bench checkout` at a tiny size: a real server, a seeded city, real checkouts, the audit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bench.checkout import command

pytestmark = pytest.mark.slow


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("checkout")(command)
    return app


def test_tiny_run_writes_the_json_with_no_5xx_and_nothing_oversold(database: str, tmp_path: Path) -> None:
    out = tmp_path / "checkout.json"
    name = f"o2o_bench_checkout_test_{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}"
    args = ["--duration", "1.5", "--warmup", "0.5", "--connections", "4", "--workers", "1", "--customers", "5"]
    args += ["--skus", "40", "--client", "python", "--database", name, "--json", str(out)]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"checkout", "healthz", "ratio_to_healthz"} <= data.keys()
    checkout = data["checkout"]
    assert {"rps", "p50_ms", "p99_ms", "errors_5xx", "orders_created", "oversold_units"} <= checkout.keys()
    assert {"rps", "p99_ms"} <= data["healthz"].keys()
    assert checkout["errors_5xx"] == 0
    assert checkout["oversold_units"] == 0
    assert data["audit"]["ledger_mismatches"] == 0
    assert checkout["orders_created"] > 0
    assert checkout["rps"] > 0
    assert data["healthz"]["rps"] > 0
    assert data["ratio_to_healthz"] == pytest.approx(checkout["rps"] / data["healthz"]["rps"], abs=1e-4)
