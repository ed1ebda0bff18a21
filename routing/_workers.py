"""Running searches in worker processes that can be killed when they overrun.

OR-Tools does not always honour its time limit: on 1,000 orders a neighbourhood scan ran for two
minutes past a 5 s limit, deaf to `CancelSearch`. A process can be killed; its result is lost and
`routing.solve` falls back to what it already has. Fork also lets workers inherit the problem
(and the calls themselves) without pickling them; only results travel back.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing import current_process, get_context
from multiprocessing.connection import Connection
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)  # a library: the application decides where it goes

#: A search bounded by work (an infinite `kill_at`) still loses its worker after this long:
#: OR-Tools' guided local search can loop without finding the solutions its limit counts (seen
#: once, a part of a simulated lunch peak searching for over 7 minutes). Work-bounded searches
#: that do not hang stay far below it (cycles' p99 9 s with four simulations sharing 2 cores), so
#: they keep a bound of work; one that hangs hangs on any machine, and is cut off on any machine.
HANG_GUARD_S = 120.0


def in_workers(calls: Sequence[Callable[[], T]], kill_at: float, *, inline_first: bool = False) -> list[T]:
    """The results of `calls`, one process each, of those that finished by `kill_at` (in the
    order of `calls`, so that the same results are picked the same way every time).

    `inline_first` runs the first call in this process instead, for searches that honour their
    own time limit (PyVRP does, OR-Tools not always): on a machine so busy that no forked worker
    gets a core before `kill_at` (measured at load 14 on 2 cores: 2 of 56 Solomon solves came back
    empty and fell back to greedy, 100–200 % above the best-known), one result still comes back.
    """
    if current_process().daemon:  # e.g. a Celery prefork worker: no children allowed
        return [call() for call in calls]
    if inline_first and calls:
        return run_isolated(calls[1:], kill_at, meanwhile=calls[0])
    return run_isolated(calls, kill_at)


def _worker(conn: Connection, call: Callable[[], object]) -> None:
    try:
        conn.send(("ok", call()))
    except Exception:  # report the bug to the parent instead of dying silently
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_isolated(
    calls: Sequence[Callable[[], T]], kill_at: float, *, meanwhile: Callable[[], T] | None = None
) -> list[T]:
    """Run each call in its own forked process and kill it if it overruns; `meanwhile` runs here."""
    guarded = math.isinf(kill_at)
    if guarded:
        kill_at = time.monotonic() + HANG_GUARD_S
    ctx = get_context("fork")
    running = []
    for call in calls:
        receiver, sender = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_worker, args=(sender, call), daemon=True)
        process.start()
        sender.close()
        running.append((process, receiver))
    results: list[T] = [meanwhile()] if meanwhile is not None else []
    for process, receiver in running:
        wait = max(0.0, kill_at - time.monotonic())
        answered = receiver.poll(wait)
        if answered:
            try:
                kind, payload = receiver.recv()
            except EOFError:  # the worker died (e.g. out of memory)
                kind, payload = "died", None
            if kind == "error":
                raise RuntimeError(f"routing worker failed:\n{payload}")
            if kind == "ok":
                results.append(payload)
        # Its answer is in (or it overran): no need to wait for the process to tear down.
        process.join(0.05)
        if process.is_alive():
            process.kill()
            process.join()
            if not answered:
                # A search cut off is a result lost: worth knowing how often it happens.
                limit = "hang guard" if guarded else "time limit"
                log.warning("routing worker %s killed: over its %s", process.pid, limit)
    return results
