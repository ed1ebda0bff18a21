from __future__ import annotations

import math
from typing import Any

import pytest

from routing.params import SolveParams


def test_defaults_are_valid() -> None:
    p = SolveParams()
    assert p.time_limit_s is not None
    assert p.time_limit_s > 0
    assert p.first_solution == "auto"
    assert p.metaheuristic == "auto"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time_limit_s": 0},
        {"time_limit_s": -1.0},
        {"time_limit_s": math.inf},
        {"time_limit_s": math.nan},
        {"seed": -1},
        {"seed": 2**31},
        {"first_solution": "random_walk"},
        {"metaheuristic": "annealing"},
        {"max_iterations": 0},
        {"workers": 0},
        {"workers": 1000},
        {"backend": "gurobi"},
        {"gls_lambda": 0.0},
        {"gls_lambda": math.nan},
    ],
)
def test_bad_values_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SolveParams(**kwargs)


def test_params_are_frozen() -> None:
    p = SolveParams()
    with pytest.raises(AttributeError):
        p.time_limit_s = 5.0  # type: ignore[misc]
