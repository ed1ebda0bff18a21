"""Seeded ids for a reproducible run.

Rows get random UUIDs (`uuid.uuid4`, as ORM defaults and in services), and the dispatch cycle
breaks ties by id (orders ready in the same minute, couriers equally far): with fresh random ids
the same seed would plan differently from one run to the next. For the length of a run on its own
database, `uuid4`'s source of randomness is a generator seeded from the run's seed, so every id —
and so every tie — comes out the same. Never used with `--live`: that run shares the demo's
database, where ids from an earlier run with the same seed already exist.

The seeded city needs the same (its stores, SKUs and couriers are ordered by id in many places:
with random ids, two runs of one seed parted at the first replenishment sweep). It draws from its
own stream, `"city"`, so that the run's ids never repeat the city's.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any


class _SeededOs:
    """Stands in for the `os` module inside `uuid` only: `urandom` is seeded, the rest is `os`."""

    def __init__(self, real: ModuleType, rng: random.Random) -> None:
        self._real, self._rng = real, rng

    def urandom(self, size: int) -> bytes:
        return self._rng.randbytes(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextmanager
def seeded_uuids(seed: int, stream: str = "ids") -> Iterator[None]:
    real = uuid.os  # type: ignore[attr-defined]
    uuid.os = _SeededOs(real, random.Random(f"{seed}:{stream}"))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        uuid.os = real  # type: ignore[attr-defined]
