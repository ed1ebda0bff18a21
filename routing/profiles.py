"""Vehicle profiles: which OSM road classes each vehicle may use, how fast, and in which direction.

Speeds are typical *urban* travel speeds including junction delays, not legal limits; `maxspeed`
tags are ignored on purpose (they are sparse and an upper bound, not what a courier achieves).

Direction rules, kept deliberately simple:
- cars and (motor) scooters respect one-way streets (`oneway=yes/-1`, roundabouts, motorways);
- bikes respect them too, except where the street is tagged for contraflow cycling
  (`oneway:bicycle=no`, `cycleway=opposite*`); the importer turns that into `bike_contraflow`.
Bikes may use footways and pedestrian streets at walking pace (the rider pushes), never steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from routing.types import PROFILES, Profile

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Every OSM `highway` value the street graph keeps; a segment's class is stored as an index into
# this tuple. Ways with other values (construction, proposed, raceway, bus_guideway, ...) are dropped.
HIGHWAY_CLASSES: tuple[str, ...] = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
    "track",
    "cycleway",
    "footway",
    "pedestrian",
    "path",
    "steps",
)
HIGHWAY_CODE: Mapping[str, int] = MappingProxyType({name: i for i, name in enumerate(HIGHWAY_CLASSES)})


@dataclass(frozen=True, slots=True)
class VehicleProfile:
    """How one kind of courier vehicle moves through the street network."""

    name: Profile
    speeds_mps: Mapping[str, float]  # highway class -> speed; a class not listed is off limits
    access_speed_mps: float  # the straight leg between a point and the street node it snaps to
    bike_contraflow: bool  # may ride against one-way streets tagged for contraflow cycling

    def __post_init__(self) -> None:
        unknown = set(self.speeds_mps) - set(HIGHWAY_CLASSES)
        if unknown:
            raise ValueError(f"{self.name}: unknown highway classes {sorted(unknown)}")
        if any(not s > 0 for s in (*self.speeds_mps.values(), self.access_speed_mps)):
            raise ValueError(f"{self.name}: speeds must be positive")

    def speed_table(self) -> FloatArray:
        """Speed per highway code, 0.0 where the class is off limits."""
        return np.array([self.speeds_mps.get(name, 0.0) for name in HIGHWAY_CLASSES], dtype=np.float64)


_KMH = 1 / 3.6

VEHICLE_PROFILES: Mapping[Profile, VehicleProfile] = MappingProxyType(
    {
        "bike": VehicleProfile(
            name="bike",
            speeds_mps={
                **dict.fromkeys(("primary", "primary_link", "secondary", "secondary_link"), 16 * _KMH),
                **dict.fromkeys(("tertiary", "tertiary_link", "unclassified", "residential"), 16 * _KMH),
                "road": 15 * _KMH,
                "cycleway": 18 * _KMH,
                "living_street": 12 * _KMH,
                "service": 12 * _KMH,
                "track": 12 * _KMH,
                "path": 12 * _KMH,
                "footway": 5 * _KMH,  # pushing the bike
                "pedestrian": 5 * _KMH,
            },
            access_speed_mps=10 * _KMH,
            bike_contraflow=True,
        ),
        # A moped/motor scooter (45 km/h class): no motorways or trunk roads, no cycleways.
        "scooter": VehicleProfile(
            name="scooter",
            speeds_mps={
                "primary": 38 * _KMH,
                "primary_link": 32 * _KMH,
                "secondary": 36 * _KMH,
                "secondary_link": 30 * _KMH,
                "tertiary": 32 * _KMH,
                "tertiary_link": 28 * _KMH,
                "unclassified": 28 * _KMH,
                "residential": 25 * _KMH,
                "road": 25 * _KMH,
                "living_street": 10 * _KMH,
                "service": 15 * _KMH,
            },
            access_speed_mps=10 * _KMH,
            bike_contraflow=False,
        ),
        "car": VehicleProfile(
            name="car",
            speeds_mps={
                "motorway": 90 * _KMH,
                "motorway_link": 50 * _KMH,
                "trunk": 70 * _KMH,
                "trunk_link": 45 * _KMH,
                "primary": 45 * _KMH,
                "primary_link": 35 * _KMH,
                "secondary": 40 * _KMH,
                "secondary_link": 32 * _KMH,
                "tertiary": 35 * _KMH,
                "tertiary_link": 30 * _KMH,
                "unclassified": 30 * _KMH,
                "residential": 25 * _KMH,
                "road": 25 * _KMH,
                "living_street": 10 * _KMH,
                "service": 15 * _KMH,
            },
            access_speed_mps=10 * _KMH,
            bike_contraflow=False,
        ),
    }
)


def profile_bit(profile: Profile) -> int:
    """This profile's bit in a segment's `access` mask (bit i = PROFILES[i] may use it)."""
    return 1 << PROFILES.index(profile)


ALL_PROFILES_MASK = (1 << len(PROFILES)) - 1


def directed_edges(
    profile: VehicleProfile,
    *,
    u: IntArray,
    v: IntArray,
    highway: IntArray,
    oneway: BoolArray,
    bike_contraflow: BoolArray,
    access: npt.NDArray[np.uint8],
) -> tuple[IntArray, IntArray, FloatArray]:
    """The directed edges (from, to, speed m/s) this profile may drive along the given segments.

    A segment u–v always allows u→v when the profile may use it at all (the importer orients
    `oneway=-1` segments); v→u is allowed unless the segment is one-way for this profile.
    """
    speed = profile.speed_table()[highway]
    usable = (speed > 0) & ((access & profile_bit(profile.name)) != 0)
    backward = usable & ~oneway
    if profile.bike_contraflow:
        backward |= usable & bike_contraflow
    src = np.concatenate([u[usable], v[backward]])
    dst = np.concatenate([v[usable], u[backward]])
    return src, dst, np.concatenate([speed[usable], speed[backward]])


def check_profile(profile: str) -> Profile:
    """`profile` as a `Profile`, or ValueError naming the valid ones."""
    for known in PROFILES:
        if profile == known:
            return known
    raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
