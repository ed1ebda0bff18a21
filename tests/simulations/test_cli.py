"""`o2o simulate`: the JSON contract, the report files, and clear errors for bad options."""

from __future__ import annotations

import csv
import json
import uuid

import pytest
from typer.testing import CliRunner

from o2o.cli import app

RUN_KEYS = {"scenario", "seed", "policy", "wall_s", "virtual_s", "orders", "kpis"}
KPI_KEYS = {
    "click_to_door_p50_min",
    "click_to_door_p90_min",
    "on_time_pct",
    "orders_per_courier_hour",
    "km_per_order",
    "courier_utilisation_pct",
    "stockouts",
    "split_orders",
    "dispatch_cycle_p99_s",
}


def test_compare_writes_both_runs_in_the_contract_and_a_report(committed_db, tmp_path) -> None:
    out, report = tmp_path / "kpis.json", tmp_path / "report"
    args = ["simulate", "--scenario", "lunch_peak", "--seed", "4", "--compare", "greedy,vrp", "--scale", "0.02"]
    args += ["--minutes", "5", "--tail", "10", "--cycle-s", "60", "--time-limit", "0.2"]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "--out", str(report)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert set(document) == {"runs"}
    assert set(document["runs"]) == {"greedy", "vrp"}
    for policy, run in document["runs"].items():
        assert set(run) >= RUN_KEYS
        assert set(run["kpis"]) == KPI_KEYS
        assert (run["scenario"], run["seed"], run["policy"]) == ("lunch_peak", 4, policy)
        assert run["virtual_s"] == 15 * 60
        assert run["orders"] > 0
        # What the figures depend on besides scenario and seed; --time-limit replaces the bound on work.
        assert run["conditions"] == {"couriers": 2, "cycle_period_s": 60.0, "solver_work": None, "time_limit_s": 0.2}
        # The run's own account of its wall time covers all of it, by kind of work.
        spent = run["wall_s_by_work"]
        assert {"customers", "store staff", "dispatch cycles", "courier stop events", "simulation itself"} <= set(spent)
        assert sum(spent.values()) == pytest.approx(run["wall_s"], abs=0.5)
        assert all(seconds >= 0 for seconds in spent.values())
        # The pings were recorded on the side, by the relay, and its time is reported apart.
        assert run["more_kpis"]["pings"] > 0
        assert run["ping_relay_busy_s"] >= 0
    # Both policies met the same city and the same customers.
    assert document["runs"]["greedy"]["orders"] == document["runs"]["vrp"]["orders"]
    markdown = (report / "report.md").read_text()
    assert "| KPI | greedy | vrp | vrp / greedy |" in markdown
    assert "vrp's search limited to 0.2 s per cycle (figures depend on the machine)" in markdown
    greedy, vrp = (document["runs"][p]["more_kpis"]["courier_hours"] for p in ("greedy", "vrp"))
    assert f"| courier_hours | {greedy} | {vrp} | {vrp / greedy:.2f} |" in markdown
    assert (report / "stages.png").read_bytes()[:4] == b"\x89PNG"
    assert "| greedy | dispatch cycles |" in markdown
    assert "| vrp | ping relay (second process) |" in markdown
    for name in ("orders", "click_to_door", "utilisation", "map"):
        for policy in ("greedy", "vrp"):
            assert (report / f"{name}-{policy}.png").read_bytes()[:4] == b"\x89PNG"
    # The raw records beside it: a row per order of the run, the same orders for both policies.
    orders = {p: list(csv.DictReader((report / f"orders-{p}.csv").open())) for p in ("greedy", "vrp")}
    assert len(orders["greedy"]) == document["runs"]["greedy"]["orders"]
    assert [o["order_id"] for o in orders["greedy"]] == [o["order_id"] for o in orders["vrp"]]
    delivered = [o for o in orders["greedy"] if o["delivered_s"]]
    assert len(delivered) == document["runs"]["greedy"]["more_kpis"]["delivered"]
    assert all(float(o["delivered_s"]) > float(o["placed_s"]) for o in delivered)
    cycles = list(csv.DictReader((report / "cycles-vrp.csv").open()))
    assert cycles
    assert all(uuid.UUID(c["zone_id"]) and int(c["orders"]) >= int(c["assigned"]) for c in cycles)
    assert "[orders-greedy.csv](orders-greedy.csv)" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "rush_hour"], "lunch_peak"),
        (["--policy", "fastest"], "greedy"),
        (["--compare", "greedy,greedy"], "two different policies"),
        (["--live", "--compare", "greedy,vrp"], "one policy"),
        (["--scale", "0"], "--scale"),
        (["--couriers", "0"], "--couriers"),
        (["--tag", "Not Valid"], "lower-case"),
    ],
)
def test_bad_options_are_clear_errors_not_tracebacks(args, message) -> None:
    result = CliRunner().invoke(app, ["simulate", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_run_with_no_free_redis_database_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from o2o import simulate_run

    def busy(*_args: object) -> None:
        raise simulate_run.NoRedisDatabase("Redis databases 8-15 are all held by running simulations")

    monkeypatch.setattr(simulate_run, "runs", busy)
    result = CliRunner().invoke(app, ["simulate", "--scenario", "lunch_peak", "--scale", "0.01"])
    assert result.exit_code == 1
    assert "all held by running simulations" in result.output
    assert "Traceback" not in result.output
