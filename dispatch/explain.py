"""Why an order went where it went, in data and in one sentence (stored with the order)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.assignment import Candidate, Plan
from dispatch.candidates import Skipped
from dispatch.checkout_sql import SkuFacts
from dispatch.models import PlanKind


def attempt(plan: Plan, *, lost_at: uuid.UUID | None, pool: Sequence[Candidate]) -> dict[str, Any]:
    codes = {c.location_id: c.code for c in pool}
    outcome = "reserved" if lost_at is None else f"stock at {codes.get(lost_at, lost_at)} was taken meanwhile"
    return {"locations": [part.candidate.code for part in plan.parts], "outcome": outcome}


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


def explanation(
    plan: Plan,
    pool: Sequence[Candidate],
    skipped: Sequence[Skipped],
    attempts: Sequence[dict[str, Any]],
    wanted: Mapping[uuid.UUID, int],
    skus: Mapping[uuid.UUID, SkuFacts],
) -> dict[str, Any]:
    wanted_ids = sorted(wanted)
    chosen = set(plan.location_ids)
    entries = []
    for c in pool:
        missing = [skus[s].code for s in wanted_ids if not c.can_fill(s, wanted[s])]
        entries.append(
            {
                "location_id": str(c.location_id),
                "code": c.code,
                "name": c.name,
                "kind": c.kind,
                "distance_m": c.distance_m,
                "covering": c.covering,
                "has_all_lines": not missing,
                "missing": missing,
                "estimate": {
                    "opens_in_s": c.opens_in_s,
                    "lead_s": c.lead_s,
                    "queue_wait_s": c.queue_wait_s,
                    "pick_s": c.pick_s(len(wanted_ids)),
                    "travel_s": c.travel_s,
                    "door_s": c.door_s(len(wanted_ids)),
                },
                "chosen": c.location_id in chosen,
            }
        )
    return {
        "plan": plan.kind.value,
        "decision": _decision(plan, pool, entries, attempts),
        "door_s": plan.door_s,
        "candidates": entries,
        "skipped": [
            {
                "location_id": str(s.location.id),
                "code": s.location.code,
                "distance_m": round(s.distance_m, 1),
                "reason": s.reason,
            }
            for s in skipped
        ],
        "attempts": list(attempts),
    }


def _decision(plan: Plan, pool: Sequence[Candidate], entries: Sequence[dict[str, Any]], attempts: Sequence[Any]) -> str:
    codes = [part.candidate.code for part in plan.parts]
    minutes = _minutes(plan.door_s)
    if plan.kind is PlanKind.single:
        text = f"{codes[0]} has every line and the earliest door time (about {minutes} min)"
        chosen_rank = next(i for i, c in enumerate(pool) if c.code == codes[0])
        nearer_lacking = [e["code"] for e in entries[:chosen_rank] if not e["has_all_lines"]]
        if nearer_lacking:
            text += f"; nearer {', '.join(nearer_lacking)} lack(s) part of the basket"
        others = [e for e in entries if e["has_all_lines"] and e["code"] != codes[0] and e["covering"]]
        if others:
            runner = min(others, key=lambda e: e["estimate"]["door_s"])
            text += f"; next best {runner['code']} at about {_minutes(runner['estimate']['door_s'])} min"
    elif plan.kind is PlanKind.split_:
        both = " and ".join(codes)
        text = f"No single location has every line; {both} together do, all at the door in about {minutes} min"
    else:
        text = (
            "No location serving this address has every line, nor two together; "
            f"{codes[0]} delivers everything in a later window (about {minutes} min)"
        )
    lost = [a for a in attempts if a["outcome"] != "reserved"]
    if lost:
        text += f"; {len(lost)} better plan(s) lost their stock to concurrent checkouts meanwhile"
    return text + "."
