"""Plain value types shared by the travel-time layer and the solver.

`routing/` is a pure library: it imports nothing of the project (not even `core`), so it keeps its
own tiny point type instead of `core.geo.Point`. Callers translate at the boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Profile = Literal["bike", "scooter", "car"]
PROFILES: tuple[Profile, ...] = ("bike", "scooter", "car")


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS84 position. Validated so that a bad coordinate never reaches a matrix."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and math.isfinite(self.lon)):
            raise ValueError(f"non-finite coordinate: {self.lat}, {self.lon}")
        if not -90.0 <= self.lat <= 90.0 or not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"coordinate out of range: lat={self.lat}, lon={self.lon}")


IntMatrix = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Matrices:
    """Square travel matrices between the same list of points, row = from, column = to.

    Durations are whole seconds, distances whole metres, as the solver wants plain integers.
    """

    durations: IntMatrix
    distances: IntMatrix

    def __post_init__(self) -> None:
        if self.durations.shape != self.distances.shape:
            raise ValueError("durations and distances must have the same shape")
        if self.durations.ndim != 2 or self.durations.shape[0] != self.durations.shape[1]:
            raise ValueError("matrices must be square")

    @property
    def size(self) -> int:
        return int(self.durations.shape[0])
