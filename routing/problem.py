"""The vehicle routing problem as plain, validated data.

Everything is an integer: seconds since a common origin (the caller picks it, usually "now"),
metres, and units of capacity in as many dimensions as the caller needs (items, grams, litres…).
Locations are indices into the travel matrices, one pair of matrices per vehicle profile.

A `Problem` that constructs is internally consistent; anything wrong raises `ValueError` here, so
the solver never has to guess. Whether a shipment can actually be served is a different question,
answered by the solver (or by `unservable_reason` up front) as `Plan.unassigned`, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from routing.types import PROFILES, Matrices, Profile

#: Latest representable time; the default "no limit" of every window (about 31 years in seconds).
TIME_MAX = 1_000_000_000

Window = tuple[int, int]
Objective = Literal["duration", "distance"]


def _check_window(name: str, window: Window) -> None:
    start, end = window
    if not 0 <= start <= end <= TIME_MAX:
        raise ValueError(f"{name} must satisfy 0 <= start <= end <= {TIME_MAX}, got {window}")


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A courier and their vehicle for the planning horizon.

    `end=None` is an open route: the courier stops wherever the last delivery is. `on_board` lists
    shipments already picked up: this vehicle must deliver them, their pickup is history.
    `assigned` lists shipments promised to this courier (pickup and delivery both still to do).
    """

    id: str
    start: int
    capacity: tuple[int, ...]
    shift: Window = (0, TIME_MAX)
    end: int | None = None
    profile: Profile = "bike"
    on_board: tuple[str, ...] = ()
    assigned: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("vehicle id must not be empty")
        if not self.capacity or any(c < 0 for c in self.capacity):
            raise ValueError(f"vehicle {self.id}: capacity must be a non-empty tuple of non-negative ints")
        _check_window(f"vehicle {self.id} shift", self.shift)
        if self.profile not in PROFILES:
            raise ValueError(f"vehicle {self.id}: unknown profile {self.profile!r}")
        if len(set(self.on_board)) != len(self.on_board) or len(set(self.assigned)) != len(self.assigned):
            raise ValueError(f"vehicle {self.id}: duplicate shipment ids in on_board/assigned")
        if set(self.on_board) & set(self.assigned):
            raise ValueError(f"vehicle {self.id}: a shipment cannot be both on board and assigned")


@dataclass(frozen=True, slots=True)
class Shipment:
    """Goods to carry from `pickup` to `delivery`.

    `pickup=None` is a single-stop delivery whose goods are loaded at the vehicle's start (the depot
    of classic VRPTW/CVRP). The pickup window is hard: not before the goods are ready, not after
    `pickup_window[1]`. Each second the pickup starts after the window opens costs
    `pickup_wait_cost` (goods ready and waiting for a courier). The delivery window's start is
    hard; its end is hard when `hard_deadline`, otherwise each second late costs `lateness_cost`.
    `max_ride_s` bounds the time between the start of pickup service and the start of delivery
    service (chilled and frozen goods). Each second of route time before the delivery (riding and
    service from the vehicle's shift start, waiting not counted) costs `delay_cost`: the customer's
    wait for the courier's other stops. Without it a delivery anywhere before its deadline costs the
    same, and a plan may fill every promise's slack with detours for others.
    (The PyVRP backend cannot model pickups at all; greedy construction ignores it, the plans'
    costs include it.)

    Shipments sharing a `group` are parts of one consignment (an order picked at two stores): one
    vehicle carries all of them or none, and every pickup of the group comes before any of its
    deliveries, so the goods reach the door together. `excluded` names vehicles that must not carry
    this shipment (a courier who declined it); unknown ids are allowed and ignored.
    """

    id: str
    delivery: int
    demand: tuple[int, ...]
    pickup: int | None = None
    pickup_window: Window = (0, TIME_MAX)
    delivery_window: Window = (0, TIME_MAX)
    hard_deadline: bool = False
    lateness_cost: int = 1
    pickup_wait_cost: int = 0
    pickup_service_s: int = 0
    delivery_service_s: int = 0
    max_ride_s: int | None = None
    delay_cost: int = 0
    group: str | None = None
    excluded: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("shipment id must not be empty")
        if self.group == "":
            raise ValueError(f"shipment {self.id}: group must be None or a non-empty id")
        if len(set(self.excluded)) != len(self.excluded):
            raise ValueError(f"shipment {self.id}: duplicate vehicle ids in excluded")
        if not self.demand or any(d < 0 for d in self.demand):
            raise ValueError(f"shipment {self.id}: demand must be a non-empty tuple of non-negative ints")
        _check_window(f"shipment {self.id} pickup window", self.pickup_window)
        _check_window(f"shipment {self.id} delivery window", self.delivery_window)
        costs = (self.lateness_cost, self.pickup_wait_cost, self.delay_cost)
        if min(*costs, self.pickup_service_s, self.delivery_service_s) < 0:
            raise ValueError(f"shipment {self.id}: costs and service times must be non-negative")
        if self.max_ride_s is not None and self.max_ride_s <= 0:
            raise ValueError(f"shipment {self.id}: max_ride_s must be positive")
        if self.max_ride_s is not None and self.pickup is None:
            raise ValueError(f"shipment {self.id}: max_ride_s needs a pickup location")
        if self.group is not None and self.pickup is None:
            raise ValueError(f"shipment {self.id}: a part of a group needs a pickup location")


@dataclass(frozen=True, eq=False)
class Problem:
    """Matrices per profile, the fleet, the shipments, and the prices of the trade-offs.

    Costs are in the unit of the objective: seconds of driving (`objective="duration"`) or metres
    (`"distance"`). `drop_penalty` is what leaving one shipment unserved costs; `reassignment_cost`
    is charged for each shipment that a warm-started solve moves to another vehicle.
    """

    matrices: Mapping[Profile, Matrices]
    vehicles: tuple[Vehicle, ...]
    shipments: tuple[Shipment, ...]
    drop_penalty: int = 1_000_000
    reassignment_cost: int = 0
    objective: Objective = "duration"

    def __post_init__(self) -> None:
        self._check_matrices()
        self._check_fleet_and_shipments()
        if self.drop_penalty <= 0 or self.reassignment_cost < 0:
            raise ValueError("drop_penalty must be positive and reassignment_cost non-negative")
        if self.objective not in ("duration", "distance"):
            raise ValueError(f"unknown objective {self.objective!r}")

    def _check_matrices(self) -> None:
        sizes = {m.size for m in self.matrices.values()}
        if len(sizes) > 1:
            raise ValueError(f"all profiles' matrices must have the same size, got {sorted(sizes)}")
        for profile, m in self.matrices.items():
            if profile not in PROFILES:
                raise ValueError(f"unknown profile {profile!r} in matrices")
            if (m.durations < 0).any() or (m.distances < 0).any():
                raise ValueError(f"matrices of {profile} contain negative values")

    def _check_fleet_and_shipments(self) -> None:
        n = self.size
        dims = {len(v.capacity) for v in self.vehicles} | {len(s.demand) for s in self.shipments}
        if len(dims) > 1:
            raise ValueError(f"every capacity and demand needs the same number of dimensions, got {dims}")
        if len({v.id for v in self.vehicles}) != len(self.vehicles):
            raise ValueError("vehicle ids must be unique")
        if len(self.shipment_index) != len(self.shipments):
            raise ValueError("shipment ids must be unique")
        for v in self.vehicles:
            if v.profile not in self.matrices:
                raise ValueError(f"vehicle {v.id}: no matrices for profile {v.profile}")
            for loc in (v.start, v.end):
                if loc is not None and not 0 <= loc < n:
                    raise ValueError(f"vehicle {v.id}: location {loc} out of range 0..{n - 1}")
        for s in self.shipments:
            for loc in (s.pickup, s.delivery):
                if loc is not None and not 0 <= loc < n:
                    raise ValueError(f"shipment {s.id}: location {loc} out of range 0..{n - 1}")
        self._check_fixed_assignments()

    def _check_fixed_assignments(self) -> None:
        owners: dict[str, str] = {}
        for v in self.vehicles:
            for sid in (*v.on_board, *v.assigned):
                if sid not in self.shipment_index:
                    raise ValueError(f"vehicle {v.id}: unknown shipment {sid!r}")
                if sid in owners:
                    raise ValueError(f"shipment {sid} is fixed to both {owners[sid]} and {v.id}")
                if v.id in self.shipment(sid).excluded:
                    raise ValueError(f"shipment {sid} is fixed to {v.id}, which it excludes")
                owners[sid] = v.id
            load = [0] * len(v.capacity)
            for sid in v.on_board:
                for k, d in enumerate(self.shipment(sid).demand):
                    load[k] += d
            if any(ld > c for ld, c in zip(load, v.capacity, strict=True)):
                raise ValueError(f"vehicle {v.id}: on-board load {load} exceeds capacity {v.capacity}")
        for group, members in self.groups.items():
            # One vehicle carries a whole group: fixing one part fixes them all, to the same one.
            fixed = {owners.get(sid) for sid in members}
            if len(fixed) > 1:
                raise ValueError(f"group {group}: parts must all be fixed to one vehicle or none, got {fixed}")

    @property
    def size(self) -> int:
        """Number of locations (rows of every matrix); 0 when there are no matrices."""
        return next(iter(self.matrices.values())).size if self.matrices else 0

    @property
    def dimensions(self) -> int:
        """Number of capacity dimensions (1 for an empty problem)."""
        if self.vehicles:
            return len(self.vehicles[0].capacity)
        return len(self.shipments[0].demand) if self.shipments else 1

    @property
    def horizon(self) -> int:
        """Latest time anything can happen: the end of the last shift."""
        return max((v.shift[1] for v in self.vehicles), default=TIME_MAX)

    @cached_property
    def shipment_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.shipments)}

    @cached_property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Group id → its shipment ids, for groups of two or more (a group of one is no constraint)."""
        members: dict[str, list[str]] = {}
        for s in self.shipments:
            if s.group is not None:
                members.setdefault(s.group, []).append(s.id)
        return {g: tuple(ids) for g, ids in members.items() if len(ids) > 1}

    def siblings(self, shipment: Shipment) -> tuple[str, ...]:
        """The shipment ids of `shipment`'s group (itself included), or just its own id."""
        return self.groups.get(shipment.group, (shipment.id,)) if shipment.group is not None else (shipment.id,)

    @cached_property
    def vehicle_index(self) -> dict[str, int]:
        return {v.id: i for i, v in enumerate(self.vehicles)}

    @cached_property
    def carrier(self) -> dict[str, str]:
        """Shipment id → the vehicle it is on board of."""
        return {sid: v.id for v in self.vehicles for sid in v.on_board}

    @cached_property
    def promised(self) -> dict[str, str]:
        """Shipment id → the vehicle it is fixed to (on board or assigned)."""
        return {sid: v.id for v in self.vehicles for sid in (*v.on_board, *v.assigned)}

    def shipment(self, shipment_id: str) -> Shipment:
        return self.shipments[self.shipment_index[shipment_id]]

    def vehicle(self, vehicle_id: str) -> Vehicle:
        return self.vehicles[self.vehicle_index[vehicle_id]]

    def has_pickup(self, shipment: Shipment) -> bool:
        """Whether the pickup is still to be visited (it has a location and is not on board yet)."""
        return shipment.pickup is not None and shipment.id not in self.carrier

    def may_carry(self, vehicle_id: str, shipment: Shipment) -> bool:
        """Whether `vehicle_id` is one of `allowed_vehicles(shipment)` (without listing them)."""
        owner = self.promised.get(shipment.id)
        if owner is not None:
            return owner == vehicle_id
        return not any(vehicle_id in self.shipment(sid).excluded for sid in self.siblings(shipment))

    def allowed_vehicles(self, shipment: Shipment) -> tuple[Vehicle, ...]:
        """Vehicles that may carry `shipment`: its owner if fixed, else any not excluded by it
        (nor by a sibling of its group, which must ride on the same vehicle)."""
        owner = self.promised.get(shipment.id)
        if owner is not None:
            return (self.vehicle(owner),)
        excluded = {vid for sid in self.siblings(shipment) for vid in self.shipment(sid).excluded}
        if not excluded:
            return self.vehicles
        return tuple(v for v in self.vehicles if v.id not in excluded)


_REASONS = (
    "capacity: demand exceeds every allowed vehicle's capacity",
    "no vehicle can reach pickup within its window",
    "no vehicle can deliver within the delivery window",
    "max ride time is shorter than the direct trip",
    "no vehicle can serve it and finish within its shift",
)


def _stage_reached(problem: Problem, shipment: Shipment, vehicle: Vehicle) -> int:
    """How far one vehicle, starting fresh, gets with this shipment alone (index into _REASONS,
    or len(_REASONS) when it can serve it). A lower bound on difficulty: if even this fails, no
    route with other stops can serve the shipment."""
    if any(d > c for d, c in zip(shipment.demand, vehicle.capacity, strict=True)):
        return 0
    m = problem.matrices[vehicle.profile].durations
    t, loc = vehicle.shift[0], vehicle.start
    pickup_start = None
    if problem.has_pickup(shipment) and shipment.pickup is not None:
        pickup_start = max(t + int(m[loc, shipment.pickup]), shipment.pickup_window[0])
        if pickup_start > shipment.pickup_window[1]:
            return 1
        if pickup_start > vehicle.shift[1]:
            return 4
        t, loc = pickup_start + shipment.pickup_service_s, shipment.pickup
    early, due = shipment.delivery_window
    start = max(t + int(m[loc, shipment.delivery]), early)
    if shipment.hard_deadline and start > due:
        return 2
    if start > vehicle.shift[1]:
        return 4
    if shipment.max_ride_s is not None and pickup_start is not None:
        # Waiting at the pickup until as late as the window allows shortens the ride.
        latest_pickup = min(shipment.pickup_window[1], vehicle.shift[1])
        pickup_start = min(latest_pickup, max(pickup_start, start - shipment.max_ride_s))
        ride_end = max(pickup_start + shipment.pickup_service_s + int(m[loc, shipment.delivery]), early)
        if ride_end - pickup_start > shipment.max_ride_s:
            return 3
        start = ride_end
    finish = start + shipment.delivery_service_s
    if vehicle.end is not None:
        finish += int(m[shipment.delivery, vehicle.end])
    return 4 if finish > vehicle.shift[1] else len(_REASONS)


def unservable_reason(problem: Problem, shipment: Shipment) -> str | None:
    """Why no allowed vehicle could serve this shipment even with nothing else to do, or None.

    Such shipments are left out of the solver model entirely: they could only be dropped, and
    the reason is more useful to a dispatcher than "dropped by solver".
    """
    vehicles = problem.allowed_vehicles(shipment)
    if not vehicles:
        return "no vehicle available"
    best = 0
    for v in vehicles:
        best = max(best, _stage_reached(problem, shipment, v))
        if best == len(_REASONS):
            return None
    return _REASONS[best]


def unservable_reasons(problem: Problem) -> dict[str, str]:
    """`unservable_reason` of every shipment that has one; a group with an unservable part is
    unservable as a whole (its parts travel together or not at all)."""
    reasons = {s.id: r for s in problem.shipments if (r := unservable_reason(problem, s)) is not None}
    for s in problem.shipments:
        if s.id not in reasons:
            blocked = next((sid for sid in problem.siblings(s) if sid in reasons), None)
            if blocked is not None:
                reasons[s.id] = f"another part of its group cannot be served ({reasons[blocked]})"
    return reasons
