"""Search parameters of `routing.solve`, validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

Backend = Literal["auto", "ortools", "pyvrp"]
FirstSolution = Literal[
    "auto",
    "parallel_cheapest_insertion",
    "local_cheapest_insertion",
    "sequential_cheapest_insertion",
    "savings",
    "path_cheapest_arc",
    "global_cheapest_arc",
    "christofides",
]
Metaheuristic = Literal[
    "auto",
    "guided_local_search",
    "iterated_local_search",
    "simulated_annealing",
    "tabu_search",
    "greedy_descent",
]

# The accepted values, read from the Literal types so the two cannot drift apart.
FIRST_SOLUTIONS: tuple[FirstSolution, ...] = get_args(FirstSolution)
METAHEURISTICS: tuple[Metaheuristic, ...] = get_args(Metaheuristic)
BACKENDS: tuple[Backend, ...] = get_args(Backend)


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How long and how to search.

    - `time_limit_s`: wall-clock budget of the whole `solve` call (model building included), or
      `None` for no clock at all: the search is then bounded by `max_iterations` and returns the
      same plan on any machine at any load (simulations, comparisons of plans); its wall time is
      whatever that work takes, except that a worker that hangs is cut off after
      `routing._workers.HANG_GUARD_S`.
    - `seed`: makes runs reproducible; different seeds explore differently.
    - `first_solution`, `metaheuristic`: OR-Tools strategies; "auto" picks what measured best
      for the problem's shape (see `routing/solve.py`).
    - `max_iterations`: optional cap on solutions (OR-Tools), parts searched per worker (OR-Tools
      by parts, `routing._parts`) or iterations (PyVRP); `None` means the time limit alone
      decides. Required without a time limit.
    - `workers`: parallel searches with different strategies/seeds; the best plan wins. Each
      worker is a process, so more than the number of cores only slows every one of them down;
      the default suits the 2-core machines the benchmarks were measured on.
    - `backend`: "auto" routes plain depot VRPTW/CVRP (the benchmark instances) to PyVRP and
      everything else — pickup-and-delivery, soft deadlines, warm starts, fixed assignments, i.e.
      every dispatch problem — to OR-Tools; "ortools" forces OR-Tools, "pyvrp" accepts only plain
      VRPTW/CVRP (`ValueError` otherwise).
    - `gls_lambda`: guided local search penalty factor (OR-Tools default 0.1).
    """

    time_limit_s: float | None = 1.0
    seed: int = 0
    first_solution: FirstSolution = "auto"
    metaheuristic: Metaheuristic = "auto"
    max_iterations: int | None = None
    workers: int = 2
    backend: Backend = "auto"
    gls_lambda: float = 0.1
    log_search: bool = False

    def __post_init__(self) -> None:
        if self.time_limit_s is None:
            if self.max_iterations is None:
                raise ValueError("without a time limit, max_iterations must bound the search")
        elif not (math.isfinite(self.time_limit_s) and 0.0 < self.time_limit_s <= 86_400.0):
            raise ValueError(f"time_limit_s must be in (0, 86400] or None, got {self.time_limit_s}")
        if not 0 <= self.seed < 2**31:
            raise ValueError(f"seed must be in [0, 2**31), got {self.seed}")
        if self.first_solution not in FIRST_SOLUTIONS:
            raise ValueError(f"unknown first_solution {self.first_solution!r}; one of {FIRST_SOLUTIONS}")
        if self.metaheuristic not in METAHEURISTICS:
            raise ValueError(f"unknown metaheuristic {self.metaheuristic!r}; one of {METAHEURISTICS}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1 or None, got {self.max_iterations}")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"workers must be in [1, 64], got {self.workers}")
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; one of {BACKENDS}")
        if not (math.isfinite(self.gls_lambda) and 0.0 < self.gls_lambda <= 10.0):
            raise ValueError(f"gls_lambda must be in (0, 10], got {self.gls_lambda}")
