"""Benchmark readers: Solomon text, VRPLIB (CVRPLIB), best-known-solution CSV."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from routing.check import check_plan
from routing.instances import gap_pct, read_bks, read_instance, read_solomon, read_vrplib
from routing.params import SolveParams
from routing.solve import solve

SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0        100          0
    1      3          4          4          0         50          2
    2      6          8          4         10         60          2
    3      0          5          5          0         90          1
"""

VRPLIB = """NAME : tiny-n4-k2
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 0 5
DEMAND_SECTION
1 0
2 4
3 4
4 5
DEPOT_SECTION
1
-1
EOF
"""

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "solomon"


def test_read_solomon(tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_text(SOLOMON)
    inst = read_solomon(path, scale=10)
    p = inst.problem
    assert inst.name == "TINY"
    assert len(p.vehicles) == 2
    assert p.vehicles[0].capacity == (10,)
    assert p.vehicles[0].shift == (0, 1000)
    assert [s.id for s in p.shipments] == ["1", "2", "3"]
    s2 = p.shipment("2")
    assert (s2.delivery, s2.demand, s2.delivery_window, s2.delivery_service_s) == (2, (4,), (100, 600), 20)
    assert s2.hard_deadline
    assert s2.pickup is None
    assert p.matrices["car"].distances[0, 1] == 50
    assert p.matrices["car"].distances[1, 3] == 32
    assert inst.distances[0, 2] == 10.0
    assert p.objective == "distance"


def test_rounding_keeps_times_conservative(tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_text(SOLOMON.replace("    3      0          5", "    3      1          5"))
    inst = read_solomon(path, scale=10)
    exact = inst.distances[0, 3] * 10  # sqrt(26) * 10 = 50.99
    assert inst.problem.matrices["car"].durations[0, 3] == math.ceil(exact)
    assert inst.problem.matrices["car"].distances[0, 3] == round(exact)


def test_solve_and_exact_cost(tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_text(SOLOMON)
    inst = read_instance(path)
    for backend in ("ortools", "pyvrp"):
        plan = solve(inst.problem, SolveParams(time_limit_s=0.3, backend=backend))
        assert check_plan(inst.problem, plan) == []
        assert not plan.unassigned
        # 0-1-2-0 (5+5+10) and 0-3-0 (5+5): one vehicle cannot carry 13 units.
        assert inst.exact_cost(plan) == pytest.approx(30.0)


def test_read_vrplib(tmp_path: Path) -> None:
    path = tmp_path / "tiny-n4-k2.vrp"
    path.write_text(VRPLIB)
    inst = read_vrplib(path)
    assert len(inst.problem.vehicles) == 2
    assert [s.demand for s in inst.problem.shipments] == [(4,), (4,), (5,)]
    assert inst.problem.matrices["car"].distances[1, 2] == 5


def test_read_bks_and_gap(tmp_path: Path) -> None:
    path = tmp_path / "bks.csv"
    path.write_text('instance,vehicles,distance,source\nC101,10,828.94,"x, y"\n')
    bks = read_bks(path)
    assert bks["C101"].vehicles == 10
    assert bks["C101"].cost == 828.94
    assert gap_pct(838.94, 828.94) == pytest.approx(100 * 10 / 828.94)


def test_bad_solomon_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("X\nVEHICLE\nNUMBER CAPACITY\n 2 10\n")
    with pytest.raises(ValueError):
        read_solomon(path)


@pytest.mark.shared_data
def test_real_solomon_instance() -> None:
    path = SHARED / "C101.txt"
    if not path.exists():
        pytest.skip("shared Solomon instances not available")
    inst = read_solomon(path)
    assert len(inst.problem.shipments) == 100
    assert len(inst.problem.vehicles) == 25
    bks = read_bks(SHARED / "bks.csv")
    plan = solve(inst.problem, SolveParams(time_limit_s=1.0))
    assert check_plan(inst.problem, plan) == []
    assert not plan.unassigned
    assert gap_pct(inst.exact_cost(plan), bks["C101"].cost) < 5.0
