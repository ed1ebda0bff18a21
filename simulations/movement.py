"""How a simulated courier gets from A to B: along the street graph's fastest path at the vehicle
profile's speed, with a little noise, or in straight lines with a detour factor when the city has
no street graph. A leg is cut into pieces so that pings can be sent along the way."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass

from routing.profiles import VEHICLE_PROFILES
from routing.street_graph import StreetGraph
from routing.types import Point, Profile

EARTH_M = 6_371_008.8
DETOUR = 1.3  # streets are longer than the crow flies
# Straight-line fallback speeds (m/s): what the profiles average over a city's street mix.
FALLBACK_SPEED = {"bike": 4.4, "scooter": 6.5, "car": 8.0}


def metres(a: Point, b: Point) -> float:
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlam = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Leg:
    points: list[Point]
    cumulative_m: list[float]  # along `points`
    seconds: float

    @property
    def metres(self) -> float:
        return self.cumulative_m[-1]

    def at(self, fraction: float) -> Point:
        """Where the courier is after `fraction` (0–1) of the leg's time (constant speed)."""
        target = max(0.0, min(1.0, fraction)) * self.metres
        i = bisect.bisect_left(self.cumulative_m, target)
        if i <= 0:
            return self.points[0]
        if i >= len(self.points):
            return self.points[-1]
        before, span = self.cumulative_m[i - 1], self.cumulative_m[i] - self.cumulative_m[i - 1]
        t = 0.0 if span <= 0 else (target - before) / span
        a, b = self.points[i - 1], self.points[i]
        return Point(a.lat + t * (b.lat - a.lat), a.lon + t * (b.lon - a.lon))


class Streets:
    """Legs for couriers; `graph` None means straight lines."""

    def __init__(self, graph: StreetGraph | None) -> None:
        self.graph = graph

    def leg(self, a: Point, b: Point, profile: Profile, *, speed: float, rng: random.Random) -> Leg:
        points, seconds = self._route(a, b, profile)
        cumulative = [0.0]
        for p, q in itertools.pairwise(points):
            cumulative.append(cumulative[-1] + metres(p, q))
        noise = max(0.6, rng.gauss(1.0, 0.1))  # traffic lights, a slow climb, a quick rider
        return Leg(points, cumulative, seconds * noise / speed)

    def _route(self, a: Point, b: Point, profile: Profile) -> tuple[list[Point], float]:
        if self.graph is not None:
            path = self.graph.path(a, b, profile)
            if path:
                # Time from the path's length at the profile's speed on ordinary streets: asking the
                # graph for the exact duration too costs 50 ms a leg, five times the path itself.
                length = sum(metres(p, q) for p, q in itertools.pairwise(path))
                return path, length / _cruise_mps(profile)
        straight = metres(a, b)
        return [a, b], straight * DETOUR / FALLBACK_SPEED[profile]


def _cruise_mps(profile: Profile) -> float:
    return VEHICLE_PROFILES[profile].speeds_mps["residential"]
