"""`o2o bench dynamic` on a tiny generated snapshot: every solver's plan is checked and priced."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from o2o.cli import app

RUN_KEYS = {"travel_s", "lateness_s", "cost", "unassigned", "late_orders", "time_s", "feasible", "backend", "status"}


def test_bench_dynamic_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "dynamic.json"
    args = ["bench", "dynamic", "--sizes", "8x3", "--time-limit", "0.5", "--peers", "vroom_tw", "--workers", "1"]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    [row] = data["runs"]
    assert (row["shipments"], row["couriers"]) == (8, 3)
    for key in ("ours", "greedy", "vroom_tw"):
        assert set(row[key]) >= RUN_KEYS, key
        assert row[key]["feasible"] is True, key
    assert row["ours"]["unassigned"] == 0
    # Greedy is one of the plans our solver could return: ours is never worse.
    assert row["ours"]["cost"] <= row["greedy"]["cost"]
    assert "vs_greedy_pct" in row
    assert data["matrices"]
