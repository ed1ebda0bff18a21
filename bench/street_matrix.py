"""`o2o bench street-matrix`: many-to-many street travel times on a synthetic city.

In one run, on the same city, profile and points: our `StreetGraph` (contraction hierarchy on
large graphs), plain scipy Dijkstra from the unique sources, and plain networkx Dijkstra from
each source (slow, so run on a subset of sources and extrapolated — labelled as such). Reports
the city build, graph build, cache write and cache load times separately from the query, and
checks that all three give the same answers.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import networkx as nx
import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from routing.profiles import check_profile
from routing.street_graph import StreetGraph
from routing.synthetic_city import size_km_for_nodes, synthetic_city
from routing.travel import METRES_PER_DEGREE
from routing.types import Point, Profile

GOAL_S = 1.0  # the goal: 500 × 500 on a 50,000-node city after the graph is loaded
TRIP_KM = 2.5  # paths: how far east and north (each) a trip's end lies at most: a courier's leg


def _points(graph: StreetGraph, count: int, seed: int) -> list[Point]:
    """Uniform random points over the city's bounding box (they snap to nearby streets)."""
    rng = np.random.default_rng(seed)
    net = graph.network
    lat = rng.uniform(net.lat.min(), net.lat.max(), count)
    lon = rng.uniform(net.lon.min(), net.lon.max(), count)
    return [Point(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def _cpu_timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """Wall and CPU seconds: on a shared machine the CPU time is the steadier of the two."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started, time.process_time() - cpu


def _networkx(graph: StreetGraph, profile: Profile, nodes: np.ndarray[Any, Any], sources: int) -> dict[str, Any]:
    """networkx Dijkstra (same packed integer weights) from the first `sources` unique nodes."""
    routable = graph.prepare(profile)
    started = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(range(routable.node_count))
    tails = np.repeat(np.arange(routable.node_count), np.diff(routable.indptr))
    g.add_weighted_edges_from(zip(tails.tolist(), routable.indices.tolist(), routable.weight.tolist(), strict=True))
    build_s = time.perf_counter() - started
    run = nodes[: max(1, min(sources, len(nodes)))]
    started = time.perf_counter()
    rows = []
    for source in run.tolist():
        lengths = nx.single_source_dijkstra_path_length(g, source, weight="weight")
        rows.append([lengths.get(t, np.inf) for t in nodes.tolist()])
    seconds = time.perf_counter() - started
    expected = routable.weights(run, nodes, use_hierarchy=False)
    return {
        "graph_build_s": round(build_s, 3),
        "sources_run": len(run),
        "sources_total": len(nodes),
        "seconds": round(seconds, 3),
        "extrapolated_s": round(seconds / len(run) * len(nodes), 3),
        "agree": bool(np.array_equal(np.asarray(rows, dtype=np.float64), expected)),
    }


def _paths(graph: StreetGraph, profile: Profile, points: list[Point], seed: int) -> dict[str, Any]:
    """Route geometry (what a simulated courier rides): `path`'s search, bounded at first by
    `path_reach`, against the same search over the whole city. Trips like a courier's legs: from
    each point to one up to TRIP_KM away east and north."""
    routable = graph.prepare(profile)
    rng = np.random.default_rng(seed)
    # Degrees per km on the sphere that `path_reach`'s straight line is measured on.
    km_lat = 1000 / METRES_PER_DEGREE
    trips = []
    for a in points:
        km_lon = km_lat / math.cos(math.radians(a.lat))
        east, north = rng.uniform(-TRIP_KM, TRIP_KM, 2)
        trips.append((a, Point(a.lat + north * km_lat, a.lon + east * km_lon)))
    snapped = [(graph.snap([a, b], profile)[0], graph.path_reach(a, b, profile)) for a, b in trips]
    legs = [(int(n[0]), int(n[1]), reach) for n, reach in snapped if (n >= 0).all()]
    bounded, bounded_s = _timed(lambda: [routable.route(s, t, reach=r) for s, t, r in legs])
    full, full_s = _timed(lambda: [routable.route(s, t) for s, t, _ in legs])
    return {
        "trips": len(legs),
        "trip_km_max": TRIP_KM,
        "bounded_s": round(bounded_s, 4),
        "full_s": round(full_s, 4),
        "full_over_bounded": round(full_s / bounded_s, 2) if bounded_s else None,
        "agree": bounded == full,
    }


def run(
    nodes: int = 50_000,
    points: int = 500,
    seed: int = 0,
    profile: str = "car",
    nx_sources: int = 20,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Build the city, time every stage, and compare the three many-to-many implementations."""
    prof = check_profile(profile)
    size_km = size_km_for_nodes(nodes)
    network, city_s = _timed(synthetic_city, seed, size_km)
    with tempfile.TemporaryDirectory(prefix="o2o-street-bench-") as tmp:
        where = cache_dir or Path(tmp)
        built = StreetGraph(network, cache_dir=where)
        built.prepare(prof)
        loaded = StreetGraph(network, cache_dir=where)
        _, load_s = _timed(loaded.prepare, prof)  # hashing, reading the .npz, KD-tree
        cache_bytes = sum(f.stat().st_size for f in where.glob(f"graph-{prof}-*.npz"))
    made, read = built.preparations[prof], loaded.preparations[prof]
    pts = _points(loaded, points, seed)
    ours, ours_s, ours_cpu = _cpu_timed(loaded.matrices, pts, prof)
    _, ours_again_s = _timed(loaded.matrices, pts, prof)
    plain, scipy_s, scipy_cpu = _cpu_timed(loaded.matrices, pts, prof, use_hierarchy=False)
    snapped, _ = loaded.snap(pts, prof)
    unique = np.unique(snapped[snapped >= 0])
    peers = _networkx(loaded, prof, unique, nx_sources)
    paths = _paths(loaded, prof, pts, seed)
    return {
        "conditions": {
            "nodes_requested": nodes,
            "nodes": network.node_count,
            "segments": network.segment_count,
            "graph_nodes": read.nodes,
            "size_km": round(size_km, 2),
            "profile": prof,
            "points": points,
            "unique_sources": len(unique),
            "seed": seed,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "note": "shared machine: other work ran at the same time; single-threaded timings",
        },
        "city_build_s": round(city_s, 3),
        "graph_build_s": round(made.seconds, 3),
        "hierarchy": made.hierarchy,
        "cache_write_s": round(made.write_seconds, 3),
        "cache_load_s": round(load_s, 3),
        "cache_loaded_from_disk": read.source == "cache",
        "cache_bytes": cache_bytes,
        "ours_s": round(ours_s, 3),
        "ours_cpu_s": round(ours_cpu, 3),
        "ours_repeat_s": round(ours_again_s, 3),
        "scipy_dijkstra_s": round(scipy_s, 3),
        "scipy_dijkstra_cpu_s": round(scipy_cpu, 3),
        "networkx": peers,
        "ratios": {
            "scipy_over_ours": round(scipy_s / ours_s, 1),
            "networkx_over_ours": round(peers["extrapolated_s"] / ours_s, 1),
        },
        "agree": {
            "scipy": bool(
                np.array_equal(ours.durations, plain.durations) and np.array_equal(ours.distances, plain.distances)
            ),
            "networkx": peers["agree"],
            "paths": paths["agree"],
        },
        "paths": paths,
        "goal_s": GOAL_S,
        "goal_met": ours_s <= GOAL_S,
    }


def _table(result: dict[str, Any]) -> Table:
    c = result["conditions"]
    nx_ = result["networkx"]
    table = Table(
        title=f"{c['points']}×{c['points']} {c['profile']} matrix, synthetic city of {c['nodes']:,} nodes "
        f"({c['graph_nodes']:,} routable), {c['unique_sources']} unique sources"
    )
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("CPU s", justify="right")
    table.add_column("× ours", justify="right")
    table.add_column("agrees", justify="center")
    ours = result["ours_s"]
    engine = "contraction hierarchy" if result["hierarchy"] else "scipy Dijkstra"
    table.add_row("build city (generator)", f"{result['city_build_s']:.3f}", "", "", "")
    table.add_row(f"build graph ({engine})", f"{result['graph_build_s']:.3f}", "", "", "")
    table.add_row(f"cache write ({result['cache_bytes'] / 1e6:.1f} MB)", f"{result['cache_write_s']:.3f}", "", "", "")
    table.add_row("cache load", f"{result['cache_load_s']:.3f}", "", "", "")
    table.add_row(
        f"ours: StreetGraph.matrices ({engine})", f"{ours:.3f}", f"{result['ours_cpu_s']:.3f}", "1.0", "", style="bold"
    )
    again = result["ours_repeat_s"]
    table.add_row("ours again (warm)", f"{again:.3f}", "", f"{again / ours:.1f}", "")
    table.add_row(
        "plain scipy Dijkstra (unique sources)",
        f"{result['scipy_dijkstra_s']:.3f}",
        f"{result['scipy_dijkstra_cpu_s']:.3f}",
        f"{result['ratios']['scipy_over_ours']:.1f}",
        "✓" if result["agree"]["scipy"] else "✗",
    )
    table.add_row(
        f"plain networkx Dijkstra, extrapolated from {nx_['sources_run']}/{nx_['sources_total']} sources",
        f"{nx_['extrapolated_s']:.3f}",
        "",
        f"{result['ratios']['networkx_over_ours']:.1f}",
        "✓" if nx_["agree"] else "✗",
    )
    paths = result["paths"]
    table.add_row(
        f"paths: {paths['trips']} trips of ≤ {paths['trip_km_max']} km each way, search bounded at first",
        f"{paths['bounded_s']:.3f}",
        "",
        "",
        "✓" if paths["agree"] else "✗",
    )
    table.add_row(
        "paths: the same search over the whole city",
        f"{paths['full_s']:.3f}",
        "",
        f"{paths['full_over_bounded']:.1f} × bounded",
        "",
    )
    return table


def command(
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    nodes: Annotated[int, typer.Option(help="approximate node count of the synthetic city")] = 50_000,
    points: Annotated[int, typer.Option(help="points in the square matrix")] = 500,
    seed: Annotated[int, typer.Option(help="seed of the city and the points")] = 0,
    profile: Annotated[str, typer.Option(help="bike, scooter or car")] = "car",
    nx_sources: Annotated[int, typer.Option(help="sources networkx runs from (then extrapolated)")] = 20,
) -> None:
    """Street travel-time matrix: our StreetGraph against plain scipy and networkx Dijkstra."""
    console = Console(width=None if sys.stdout.isatty() else 160)
    try:
        result = run(nodes, points, seed, profile, nx_sources)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(_table(result))
    goal = "met" if result["goal_met"] else "NOT met"
    console.print(f"goal ≤ {GOAL_S:.0f} s after load: {goal}; {result['conditions']['note']}")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))
        console.print(f"wrote {json_out}")
    if not all(result["agree"].values()):
        raise typer.Exit(1)
