"""How long a courier needs from a location to a door: the seam the street graph plugs into.

Checkout only needs "seconds from here to there" for a handful of candidates, so the interface
is one call with one origin list and one destination. `HaversineEstimator` is the stand-in of
this stage (great circle × detour factor at a bike's speed); the routing issue's street-graph
travel times implement the same protocol and replace it without touching the checkout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.geo import GeoPoint, haversine_m


class TravelEstimator(Protocol):
    def seconds_to(self, origins: Sequence[GeoPoint], destination: GeoPoint) -> list[int]:
        """Courier travel time in whole seconds from each origin to `destination`."""
        ...


@dataclass(frozen=True, slots=True)
class HaversineEstimator:
    """Straight-line distance stretched by a street detour factor, at a constant speed, plus a
    fixed hand-over at the door (parking, stairs)."""

    speed_m_s: float = 4.5  # an e-bike in city traffic
    detour: float = 1.35
    handover_s: int = 120

    def __post_init__(self) -> None:
        if not (0 < self.speed_m_s <= 50 and 1 <= self.detour <= 5 and 0 <= self.handover_s <= 3600):
            raise ValueError("speed 0–50 m/s, detour 1–5, handover 0–3600 s")

    def seconds_to(self, origins: Sequence[GeoPoint], destination: GeoPoint) -> list[int]:
        return [
            self.handover_s + math.ceil(haversine_m(origin, destination) * self.detour / self.speed_m_s)
            for origin in origins
        ]


_default: TravelEstimator = HaversineEstimator()


def default_estimator() -> TravelEstimator:
    return _default


def set_default_estimator(estimator: TravelEstimator | None) -> None:
    """Swap the process-wide estimator (the routing package's street graph, or a test's)."""
    global _default
    _default = estimator or HaversineEstimator()
