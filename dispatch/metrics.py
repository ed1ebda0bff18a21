"""Dispatch metrics. Not `core.metrics.DISPATCH_CYCLE_SECONDS`: importing `core.metrics` pulls in
starlette (its request middleware), which the domain packages must not depend on."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CYCLE_PHASE_SECONDS = Histogram(
    "o2o_dispatch_cycle_phase_seconds", "Dispatch cycle wall time by phase (read, solve, write)", ["zone", "phase"]
)
CYCLES = Counter("o2o_dispatch_cycles_total", "Dispatch cycles by outcome (ran, skipped)", ["outcome"])
PINGS_DROPPED = Counter("o2o_courier_pings_dropped_total", "Courier pings dropped by the sanity rules", ["reason"])
PINGS_ACCEPTED = Counter("o2o_courier_pings_accepted_total", "Courier pings accepted", ["live"])
