"""`o2o bench dispatch` at a tiny size: the JSON has the agreed keys and sane numbers."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from o2o.cli import app


def test_bench_dispatch_writes_the_agreed_json(database, tmp_path) -> None:
    out = tmp_path / "dispatch.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "dispatch",
            "--sizes",
            "12x4",
            "--time-limits",
            "0.3",
            "--json",
            str(out),
            "--database",
            "o2o_bench_dispatch_test",
        ],
    )
    assert result.exit_code == 0, result.output
    (case,) = json.loads(out.read_text())["cases"]
    agreed = {"orders", "couriers", "time_limit_s", "cycle_s", "solve_s", "vrp", "greedy"}
    assert set(case) == agreed | {"read_s", "write_s", "load_avg_1m"}
    assert case["cycle_s"] >= case["read_s"] + case["solve_s"] + case["write_s"] - 0.01
    assert (case["orders"], case["couriers"], case["time_limit_s"]) == (12, 4, 0.3)
    for policy in ("vrp", "greedy"):
        assert set(case[policy]) == {"travel_s", "lateness_s", "unassigned"}
        assert case[policy]["travel_s"] > 0
        assert case[policy]["unassigned"] == 0
    assert case["cycle_s"] >= case["solve_s"] > 0
