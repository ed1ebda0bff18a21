"""Plain data exchanged between `routing.solve` and its backends: a search configuration in,
stop sequences out. No solver library is imported here, so every backend and the tests can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.params import FirstSolution, Metaheuristic
from routing.plan import Stop


@dataclass(frozen=True, slots=True)
class Strategy:
    """A concrete (no "auto") search configuration; one per worker of a portfolio."""

    first_solution: FirstSolution
    metaheuristic: Metaheuristic
    lean_operators: bool = False
    on_time_first: bool = False
    from_greedy: bool = False
    by_parts: bool = False

    @property
    def name(self) -> str:
        flags = "".join(
            f"+{name}"
            for name, on in (
                ("lean", self.lean_operators),
                ("on-time-first", self.on_time_first),
                ("from-greedy", self.from_greedy),
                ("by-parts", self.by_parts),
            )
            if on
        )
        return f"{self.first_solution}+{self.metaheuristic}{flags}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one search produced, before scheduling and pricing (`routing.plan.build_plan`)."""

    sequences: dict[str, list[Stop]]
    starts: dict[str, list[int]]
    status: str
    objective: int | None
    solutions: int
    branches: int
    strategy: str
    warm_start: bool
