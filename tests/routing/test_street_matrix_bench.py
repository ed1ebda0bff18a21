"""`o2o bench street-matrix` at a tiny size: it runs, agrees with its peers and writes its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from bench.street_matrix import command, run


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("street-matrix")(command)
    return app


def test_tiny_run_writes_the_json_and_everything_agrees(tmp_path: Path) -> None:
    out = tmp_path / "street.json"
    args = ["--nodes", "900", "--points", "40", "--seed", "2", "--nx-sources", "3", "--json", str(out)]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    assert "networkx" in result.output
    data = json.loads(out.read_text())
    assert {
        "conditions",
        "city_build_s",
        "graph_build_s",
        "cache_write_s",
        "cache_load_s",
        "ours_s",
        "scipy_dijkstra_s",
        "networkx",
        "ratios",
        "agree",
        "goal_met",
    } <= data.keys()
    assert data["agree"] == {"scipy": True, "networkx": True, "paths": True}
    assert 30 <= data["paths"]["trips"] <= 40  # trips whose both ends lie near a street
    assert data["cache_loaded_from_disk"] is True
    assert data["conditions"]["points"] == 40
    assert 800 < data["conditions"]["nodes"] < 1000
    assert data["networkx"]["sources_run"] == 3
    assert data["networkx"]["extrapolated_s"] >= data["networkx"]["seconds"]


def test_hierarchy_is_used_and_checked_once_the_city_is_large_enough() -> None:
    data = run(nodes=5_200, points=30, seed=4, profile="bike", nx_sources=2)
    assert data["hierarchy"] is True
    assert data["agree"] == {"scipy": True, "networkx": True, "paths": True}
    assert 20 <= data["paths"]["trips"] <= 30


def test_bad_profile_is_a_usage_error() -> None:
    result = CliRunner().invoke(_cli(), ["--nodes", "200", "--profile", "truck"])
    assert result.exit_code == 2
    assert "truck" in result.output
