"""Travel times between points: the `TravelTimes` protocol and its straight-line implementation.

Everything returns whole seconds and whole metres (`Matrices`), row = from, column = to, because
the solver works on integers. `StreetGraph` (routing.street_graph) is the street-network
implementation; `Haversine` is the dependency-free fallback and the baseline it is compared with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from routing.profiles import check_profile
from routing.types import PROFILES, Matrices, Point, Profile

FloatArray = npt.NDArray[np.float64]

EARTH_RADIUS_M: Final = 6_371_008.8  # mean Earth radius (IUGG), the same as core.geo uses
# Along a meridian (and along the equator; a parallel at latitude φ has cos φ of it).
METRES_PER_DEGREE: Final = math.radians(1.0) * EARTH_RADIUS_M

# Sentinel for "no route" in an integer matrix: finite so that sums stay plain int64 arithmetic
# (a route of a million such legs still fits in int64), yet far above any real trip (~31 years),
# so any time window or shift limit rejects it. Both matrices use the same value.
UNREACHABLE_S: Final = 1_000_000_000
UNREACHABLE_M: Final = 1_000_000_000

DEFAULT_SPEEDS_MPS: Final[Mapping[Profile, float]] = {"bike": 4.2, "scooter": 7.0, "car": 8.0}


class TravelTimes(Protocol):
    """Anything that can price trips between points for a vehicle profile."""

    def matrices(self, points: Sequence[Point], profile: Profile) -> Matrices:
        """Duration (s) and distance (m) from every point to every point, row = from."""
        ...

    def path(self, a: Point, b: Point, profile: Profile) -> list[Point]:
        """The route's geometry from `a` to `b`, for drawing; starts at `a` and ends at `b`."""
        ...


def coordinates(points: Sequence[Point]) -> tuple[FloatArray, FloatArray]:
    """Latitudes and longitudes of `points` as two float arrays (degrees)."""
    lat = np.fromiter((p.lat for p in points), dtype=np.float64, count=len(points))
    lon = np.fromiter((p.lon for p in points), dtype=np.float64, count=len(points))
    return lat, lon


def haversine_m(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Great-circle distances in metres, element-wise with numpy broadcasting (degrees in)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0))), dtype=np.float64)


def pairwise_haversine_m(points: Sequence[Point]) -> FloatArray:
    """The square matrix of great-circle distances between `points`, in metres."""
    lat, lon = coordinates(points)
    return haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


class Haversine:
    """Straight-line travel: great-circle distance × a detour factor, at a constant speed.

    `speed_mps` is one speed for every profile, or a mapping that overrides the defaults
    (bike 4.2, scooter 7.0, car 8.0 m/s) for some profiles.
    """

    def __init__(self, detour_factor: float = 1.3, speed_mps: Mapping[Profile, float] | float = DEFAULT_SPEEDS_MPS):
        if not (math.isfinite(detour_factor) and detour_factor > 0):
            raise ValueError(f"detour_factor must be a positive number, got {detour_factor}")
        if isinstance(speed_mps, int | float):
            speeds = dict.fromkeys(PROFILES, float(speed_mps))
        else:
            speeds = {**DEFAULT_SPEEDS_MPS, **{check_profile(p): float(s) for p, s in speed_mps.items()}}
        for profile, speed in speeds.items():
            if not (math.isfinite(speed) and speed > 0):
                raise ValueError(f"speed for {profile} must be a positive number, got {speed}")
        self.detour_factor = float(detour_factor)
        self.speed_mps: Mapping[Profile, float] = speeds
        # The last points' distances: a dispatch cycle asks once per vehicle profile for the same
        # points, and the trigonometry is most of the time (0.12 s for 1,300 points).
        self._last: tuple[tuple[Point, ...], FloatArray] | None = None

    def _metres(self, points: Sequence[Point]) -> FloatArray:
        key = tuple(points)
        if self._last is None or self._last[0] != key:
            self._last = (key, pairwise_haversine_m(points) * self.detour_factor)
        return self._last[1]

    def matrices(self, points: Sequence[Point], profile: Profile) -> Matrices:
        metres = self._metres(points)
        seconds = metres / self.speed_mps[check_profile(profile)]
        return Matrices(durations=np.rint(seconds).astype(np.int64), distances=np.rint(metres).astype(np.int64))

    def path(self, a: Point, b: Point, profile: Profile) -> list[Point]:
        check_profile(profile)
        return [a, b]
