"""Which location(s) fill a basket: candidate scoring and split planning, without a database.

Each candidate is scored by its *promised door time* — seconds from now until the basket can be
at the customer's door: wait until it opens (if closed) + handling lead (warehouses) + the pick
queue ahead of this order + picking and packing this order + the ride. The plans are ranked:

1. one zone-covering location with every line, earliest door time first;
2. otherwise two zone-covering locations together (never more: a third pickup costs more than
   the order is worth), the pair whose later half arrives first;
3. otherwise one distribution centre / central warehouse with every line, in a later window.

So a plan never uses more locations than needed: a split only when no single location can
serve, and no split at all beyond two. The checkout tries the best plan; when a concurrent
checkout took the stock meanwhile it updates what it knows and asks for the ranking again.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dispatch.models import PlanKind

MAX_SPLIT = 2


@dataclass(frozen=True, slots=True)
class Candidate:
    location_id: uuid.UUID
    code: str
    name: str
    kind: str
    distance_m: float
    covering: bool  # its service zone covers the drop-off (else: a warehouse, later window)
    opens_in_s: int  # 0 when open now
    lead_s: int  # handling before picking can start (warehouses)
    queue_wait_s: int  # pick work already queued there, per picker
    seconds_per_line: int
    pack_seconds: int
    travel_s: int
    available: Mapping[uuid.UUID, int] = field(default_factory=dict)

    def pick_s(self, lines: int) -> int:
        return self.pack_seconds + lines * self.seconds_per_line

    def door_s(self, lines: int) -> int:
        return self.opens_in_s + self.lead_s + self.queue_wait_s + self.pick_s(lines) + self.travel_s

    def can_fill(self, sku_id: uuid.UUID, qty: int) -> bool:
        return self.available.get(sku_id, 0) >= qty

    def has_all(self, wanted: Mapping[uuid.UUID, int]) -> bool:
        return all(self.can_fill(sku, qty) for sku, qty in wanted.items())

    def with_available(self, updates: Mapping[uuid.UUID, int]) -> Candidate:
        return dataclasses.replace(self, available={**self.available, **updates})


@dataclass(frozen=True, slots=True)
class Part:
    """The lines one location fills."""

    candidate: Candidate
    sku_ids: tuple[uuid.UUID, ...]

    @property
    def door_s(self) -> int:
        return self.candidate.door_s(len(self.sku_ids))


@dataclass(frozen=True, slots=True)
class Plan:
    kind: PlanKind
    parts: tuple[Part, ...]

    @property
    def door_s(self) -> int:
        """The customer has everything when the last part arrives."""
        return max(part.door_s for part in self.parts)

    @property
    def location_ids(self) -> list[uuid.UUID]:
        return [part.candidate.location_id for part in self.parts]

    def rank_key(self) -> tuple[int, int, float]:
        return (self.door_s, sum(p.door_s for p in self.parts), sum(p.candidate.distance_m for p in self.parts))


def ranked_plans(candidates: Sequence[Candidate], wanted: Mapping[uuid.UUID, int], *, limit: int = 5) -> list[Plan]:
    """Up to `limit` feasible plans, best first, from the tier that has any (see module doc)."""
    if not wanted:
        raise ValueError("a basket has at least one line")
    skus = tuple(sorted(wanted))
    covering = [c for c in candidates if c.covering]
    singles = [Plan(PlanKind.single, (Part(c, skus),)) for c in covering if c.has_all(wanted)]
    if singles:
        return sorted(singles, key=Plan.rank_key)[:limit]
    pairs = [plan for a, b in itertools.combinations(covering, MAX_SPLIT) if (plan := _pair(a, b, wanted)) is not None]
    if pairs:
        return sorted(pairs, key=Plan.rank_key)[:limit]
    later = [Plan(PlanKind.later_window, (Part(c, skus),)) for c in candidates if not c.covering and c.has_all(wanted)]
    return sorted(later, key=Plan.rank_key)[:limit]


def _pair(a: Candidate, b: Candidate, wanted: Mapping[uuid.UUID, int]) -> Plan | None:
    """Split the basket between two locations, each line whole at one of them, or None.

    Lines only one of them has are forced; a line both have goes where it delays the order
    least (each extra line costs that location one more line of picking).
    """
    only_a: list[uuid.UUID] = []
    only_b: list[uuid.UUID] = []
    either: list[uuid.UUID] = []
    for sku, qty in sorted(wanted.items()):
        in_a, in_b = a.can_fill(sku, qty), b.can_fill(sku, qty)
        if in_a and in_b:
            either.append(sku)
        elif in_a:
            only_a.append(sku)
        elif in_b:
            only_b.append(sku)
        else:
            return None
    if not only_a or not only_b:
        # One of them could take everything alone: that is a single-location plan, not a split.
        return None
    for sku in either:
        if a.door_s(len(only_a) + 1) <= b.door_s(len(only_b) + 1):
            only_a.append(sku)
        else:
            only_b.append(sku)
    parts = sorted(
        (Part(a, tuple(sorted(only_a))), Part(b, tuple(sorted(only_b)))),
        key=lambda part: part.candidate.location_id,
    )
    return Plan(PlanKind.split_, tuple(parts))


def best_single_availability(candidates: Sequence[Candidate], wanted: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """Per SKU, the most any one candidate could give (a line is never split between places)."""
    return {sku: max((c.available.get(sku, 0) for c in candidates), default=0) for sku in wanted}
