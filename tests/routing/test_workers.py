"""Worker processes: results come back in the order of the calls; an overrunning worker is
killed, and so is a work-bounded one that never ends."""

from __future__ import annotations

import logging
import math
import time

import pytest

from routing import _workers
from routing._workers import run_isolated


def _answer() -> int:
    return 42


def _forever() -> int:
    while True:
        time.sleep(0.05)


def test_results_come_back_in_the_order_of_the_calls() -> None:
    assert run_isolated([lambda: 1, lambda: 2, _answer], math.inf) == [1, 2, 42]


def test_a_worker_past_its_time_is_killed_and_the_others_kept() -> None:
    assert run_isolated([_forever, _answer], time.monotonic() + 0.5) == [42]


def test_a_search_without_a_clock_that_never_ends_is_cut_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_workers, "HANG_GUARD_S", 0.5)
    # Without the guard this would wait for ever.
    with caplog.at_level(logging.WARNING, logger="routing._workers"):
        assert run_isolated([_answer, _forever], math.inf) == [42]
    # And it says so: a search cut off is a result lost.
    assert [r.getMessage().split(": ")[1] for r in caplog.records] == ["over its hang guard"]
