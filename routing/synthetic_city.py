"""A generated city for tests and benchmarks: a street grid with arterials, one-ways, parks and a river.

Generated rather than downloaded so that tests and benchmarks get cities of any size, with known
features, deterministic per seed. What makes it a fair test of street routing:
- local streets `block_m` apart (nodes jittered, so that equal-length alternatives are rare),
  arterials on every 4th/8th/16th line (tertiary/secondary/primary), some local blocks missing;
- one-way local streets in alternating directions, half of them open to contraflow cycling;
- parks crossed by footways only: bikes may push through, cars go round;
- a meandering river crossed only by a few road bridges and one foot/cycle bridge, so that the
  straight-line distance between its banks is badly wrong.
The network is pruned so that each profile's streets form one strongly connected component.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from routing.profiles import ALL_PROFILES_MASK, HIGHWAY_CODE, VEHICLE_PROFILES, directed_edges
from routing.street_network import StreetNetwork, largest_strong_component
from routing.travel import METRES_PER_DEGREE
from routing.types import Point, Profile

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_CENTER: Final = (52.52, 13.405)  # the demo city's default centre (o2o seed)
_RESIDENTIAL: Final = HIGHWAY_CODE["residential"]
_JITTER: Final = 0.15  # of a block: nodes move at most this far from the lattice
_ONEWAY_SHARE: Final = 0.3  # of local streets
_MISSING_SHARE: Final = 0.1  # of local blocks
_PARK_BLOCKS: Final = 3
_RIVER_HALF_WIDTH: Final = 0.75  # in blocks: wide enough to swallow a whole row of nodes


@dataclass(frozen=True, eq=False)
class SyntheticCity:
    """The generated network and where its river and bridges are (for tests and maps)."""

    network: StreetNetwork
    river: list[Point]  # the river's centre line, west to east
    river_half_width_m: float
    bridges: IntArray  # segment indices of the bridges; the last one is the foot/cycle bridge


def synthetic_city(
    seed: int,
    size_km: float = 4.0,
    *,
    center: tuple[float, float] = DEFAULT_CENTER,
    block_m: float = 100.0,
    bridges: int | None = None,
) -> StreetNetwork:
    """A square city `size_km` across around `center` (lat, lon); see `build_city`."""
    return build_city(seed, size_km, center=center, block_m=block_m, bridges=bridges).network


def size_km_for_nodes(nodes: int, block_m: float = 100.0) -> float:
    """The `size_km` whose city has about `nodes` nodes (the river and pruning remove about 1%)."""
    if nodes < 16:
        raise ValueError("a city needs at least 16 nodes")
    return (math.sqrt(nodes / 0.99) - 1) * block_m / 1000


def build_city(
    seed: int,
    size_km: float = 4.0,
    *,
    center: tuple[float, float] = DEFAULT_CENTER,
    block_m: float = 100.0,
    bridges: int | None = None,
) -> SyntheticCity:
    """Generate the city; the same arguments always give the same city.

    `bridges` is the number of road bridges (default: one per 2 km of river, at least 2); one
    foot/cycle bridge is added on top.
    """
    Point(*center)  # validates the centre
    if not (math.isfinite(block_m) and block_m >= 10):
        raise ValueError("block_m must be at least 10 metres")
    k = round(size_km * 1000 / block_m) + 1 if math.isfinite(size_km) else 0
    if k < 6:
        raise ValueError(f"size_km must span at least 5 blocks of {block_m} m")
    rng = np.random.default_rng(seed)
    x = np.tile(np.arange(k) * block_m, k) + rng.uniform(-_JITTER, _JITTER, k * k) * block_m
    y = np.repeat(np.arange(k) * block_m, k) + rng.uniform(-_JITTER, _JITTER, k * k) * block_m
    streets = _streets(rng, k)
    _add_parks(rng, k, streets)
    river_y = _river(rng, (k - 1) * block_m)
    half_width = _RIVER_HALF_WIDTH * block_m
    side = np.sign(y - river_y(x)).astype(np.int64)
    side[np.abs(y - river_y(x)) < half_width] = 0  # in the water
    dry = (side[streets.u] != 0) & (side[streets.u] == side[streets.v])
    streets = streets.select(dry)
    count = max(2, round(size_km / 2)) if bridges is None else bridges
    streets = _add_bridges(k, side, streets, count)
    streets, keep = _prune(k * k, streets)
    new_id = np.cumsum(keep) - 1
    lat0 = center[0]
    lat = lat0 + (y[keep] - (k - 1) * block_m / 2) / METRES_PER_DEGREE
    lon = center[1] + (x[keep] - (k - 1) * block_m / 2) / (METRES_PER_DEGREE * math.cos(math.radians(lat0)))
    network = StreetNetwork(
        lat=lat,
        lon=lon,
        u=new_id[streets.u],
        v=new_id[streets.v],
        highway=streets.highway,
        oneway=streets.oneway,
        bike_contraflow=streets.contraflow,
        access=np.full(len(streets.u), ALL_PROFILES_MASK, dtype=np.uint8),
    )
    xs = np.linspace(0, (k - 1) * block_m, 2 * k)
    river = [
        Point(
            lat0 + (float(ry) - (k - 1) * block_m / 2) / METRES_PER_DEGREE,
            center[1] + (float(rx) - (k - 1) * block_m / 2) / (METRES_PER_DEGREE * math.cos(math.radians(lat0))),
        )
        for rx, ry in zip(xs, river_y(xs), strict=True)
    ]
    return SyntheticCity(network, river, half_width, np.flatnonzero(streets.bridge))


@dataclass(eq=False)
class _Streets:
    """Segments under construction: node ids are grid ids (row * k + column)."""

    u: IntArray
    v: IntArray
    highway: IntArray
    oneway: BoolArray
    contraflow: BoolArray
    bridge: BoolArray

    def select(self, mask: BoolArray) -> _Streets:
        return _Streets(*(getattr(self, f)[mask] for f in ("u", "v", "highway", "oneway", "contraflow", "bridge")))

    def append(self, other: _Streets) -> _Streets:
        names = ("u", "v", "highway", "oneway", "contraflow", "bridge")
        return _Streets(*(np.concatenate([getattr(self, f), getattr(other, f)]) for f in names))


def _line_classes(k: int) -> IntArray:
    """Highway code of each grid line: the border and every 16th line primary, and so on."""
    code = np.full(k, _RESIDENTIAL, dtype=np.int64)
    code[::4] = HIGHWAY_CODE["tertiary"]
    code[::8] = HIGHWAY_CODE["secondary"]
    code[::16] = HIGHWAY_CODE["primary"]
    code[-1] = HIGHWAY_CODE["secondary"]  # the far border too, so the edge of town is not a maze
    return code


def _streets(rng: np.random.Generator, k: int) -> _Streets:
    """Every grid segment along rows (west→east) and columns (south→north), then one-ways and gaps."""
    ids = np.arange(k * k, dtype=np.int64).reshape(k, k)
    classes = _line_classes(k)
    parts = []
    for u, v, line in (
        (ids[:, :-1].ravel(), ids[:, 1:].ravel(), np.repeat(np.arange(k), k - 1)),  # rows
        (ids[:-1, :].ravel(), ids[1:, :].ravel(), np.tile(np.arange(k), k - 1)),  # columns
    ):
        local = classes == _RESIDENTIAL
        oneway_line = local & (rng.random(k) < _ONEWAY_SHARE)
        contra_line = oneway_line & (rng.random(k) < 0.5)
        flip = (oneway_line & (np.arange(k) % 2 == 1))[line]  # neighbouring one-ways alternate
        parts.append(
            _Streets(
                u=np.where(flip, v, u),
                v=np.where(flip, u, v),
                highway=classes[line],
                oneway=oneway_line[line],
                contraflow=contra_line[line],
                bridge=np.zeros(len(u), dtype=np.bool_),
            )
        )
    streets = parts[0].append(parts[1])
    missing = (streets.highway == _RESIDENTIAL) & (rng.random(len(streets.u)) < _MISSING_SHARE)
    return streets.select(~missing)


def _add_parks(rng: np.random.Generator, k: int, streets: _Streets) -> None:
    """Turn the local streets inside a few square parks into two-way footways (in place)."""
    parks = max(1, round((k / 40) ** 2)) if k > _PARK_BLOCKS + 2 else 0
    row, col = np.divmod(streets.u, k)
    row2, col2 = np.divmod(streets.v, k)
    for _ in range(parks):
        a, b = rng.integers(1, k - _PARK_BLOCKS - 1, size=2)
        inside = (np.minimum(row, row2) >= a) & (np.maximum(row, row2) <= a + _PARK_BLOCKS)
        inside &= (np.minimum(col, col2) >= b) & (np.maximum(col, col2) <= b + _PARK_BLOCKS)
        inside &= streets.highway == _RESIDENTIAL
        streets.highway[inside] = HIGHWAY_CODE["footway"]
        streets.oneway[inside] = False
        streets.contraflow[inside] = False


def _river(rng: np.random.Generator, size_m: float) -> _RiverLine:
    """A sine-shaped river running west to east through the middle third of the city."""
    return _RiverLine(
        mid=size_m * rng.uniform(0.4, 0.6),
        amplitude=0.08 * size_m,
        wavelength=size_m * rng.uniform(0.7, 1.3),
        phase=rng.uniform(0, 2 * math.pi),
    )


@dataclass(frozen=True)
class _RiverLine:
    mid: float
    amplitude: float
    wavelength: float
    phase: float

    def __call__(self, x: FloatArray) -> FloatArray:
        return np.asarray(self.mid + self.amplitude * np.sin(2 * np.pi * x / self.wavelength + self.phase))


def _add_bridges(k: int, side: IntArray, streets: _Streets, count: int) -> _Streets:
    """Road bridges on evenly spread arterial columns, and one foot/cycle bridge between two of them.

    A bridge joins the last dry node south of the river to the first dry node north of it in
    its column (a straight segment over the water).
    """
    classes = _line_classes(k)
    arterial = np.flatnonzero(classes[1:-1] != _RESIDENTIAL) + 1
    spread = np.linspace(0, len(arterial) - 1, count + 2)[1:-1].round().astype(np.int64)
    road_cols = sorted({int(c) for c in arterial[spread]})
    # The foot/cycle bridge goes halfway across the widest stretch without a road bridge.
    ends = [0, *road_cols, k - 1]
    widest = int(np.argmax(np.diff(ends)))
    foot_col = (ends[widest] + ends[widest + 1]) // 2
    if classes[foot_col] != _RESIDENTIAL:
        foot_col += 1
    new: list[tuple[int, int, int]] = []
    for col, highway in [*((c, int(classes[c])) for c in road_cols), (foot_col, HIGHWAY_CODE["cycleway"])]:
        column = side[col::k]
        south, north = np.flatnonzero(column < 0), np.flatnonzero(column > 0)
        if len(south) and len(north):
            new.append((int(south.max()) * k + col, int(north.min()) * k + col, highway))
    u, v, codes = (np.array([b[i] for b in new], dtype=np.int64) for i in range(3))
    flags = np.zeros(len(new), dtype=np.bool_)
    return streets.append(_Streets(u, v, codes, flags, flags.copy(), ~flags))


def _prune(n: int, streets: _Streets) -> tuple[_Streets, BoolArray]:
    """Keep what every profile can reach both ways: the car's largest strongly connected part,
    plus the footways and cycleways that hang on to it (for bikes)."""
    access = np.full(len(streets.u), ALL_PROFILES_MASK, dtype=np.uint8)

    def edges(profile: Profile, s: _Streets, acc: npt.NDArray[np.uint8]) -> tuple[IntArray, IntArray]:
        src, dst, _ = directed_edges(
            VEHICLE_PROFILES[profile],
            u=s.u,
            v=s.v,
            highway=s.highway,
            oneway=s.oneway,
            bike_contraflow=s.contraflow,
            access=acc,
        )
        return src, dst

    car = largest_strong_component(n, *edges("car", streets, access))
    drivable = VEHICLE_PROFILES["car"].speed_table()[streets.highway] > 0
    streets = streets.select(~drivable | (car[streets.u] & car[streets.v]))
    access = access[: len(streets.u)]
    bike = largest_strong_component(n, *edges("bike", streets, access))
    return streets.select(bike[streets.u] & bike[streets.v]), bike
