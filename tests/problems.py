"""The one way tests check an error answer: status, problem+json media type and the machine code."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


def check_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert that `response` is the problem `code` with `status`; return its body for further checks."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers["content-type"]
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    return problem
