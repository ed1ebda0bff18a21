"""The operators' live numbers: open and late orders, click-to-door today, courier states, the last cycle.

One round trip: every figure is a scalar subquery of one SELECT, so the panel can poll it every
few seconds without loading the database. "Today" is the UTC day of `core.clock.now()`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from core import clock

OPEN_STATUSES = ("placed", "accepted", "picking", "packed", "assigned", "picked_up")

_SQL = text(
    """
    SELECT
      (SELECT count(*) FROM orders WHERE status = ANY(CAST(:open AS text[]))) AS open_orders,
      (SELECT count(*) FROM orders
        WHERE status = ANY(CAST(:open AS text[])) AND promised_to < :now) AS late_orders,
      (SELECT count(*) FROM orders WHERE delivered_at >= :day) AS delivered_today,
      (SELECT count(*) FROM orders WHERE delivered_at >= :day AND delivered_at > promised_to) AS delivered_late_today,
      (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - placed_at))
         FROM orders WHERE delivered_at >= :day) AS median_click_to_door_s,
      (SELECT count(*) FROM couriers WHERE status = 'available') AS couriers_idle,
      (SELECT count(*) FROM couriers WHERE status = 'on_route') AS couriers_busy,
      (SELECT count(*) FROM couriers WHERE status = 'break') AS couriers_on_break,
      (SELECT count(*) FROM couriers WHERE status = 'offline') AS couriers_offline,
      last_run.finished_at AS last_cycle_at,
      extract(epoch FROM last_run.finished_at - last_run.started_at) AS last_cycle_s,
      last_run.solve_s AS last_cycle_solve_s
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
      SELECT started_at, finished_at, solve_s FROM dispatch_runs ORDER BY finished_at DESC LIMIT 1
    ) AS last_run ON true
    """
)


class Kpis(BaseModel):
    at: datetime
    open_orders: int = Field(description="Placed and not yet delivered, cancelled or failed.")
    late_orders: int = Field(description="Open orders past the end of their promised window.")
    delivered_today: int
    delivered_late_today: int
    median_click_to_door_s: float | None = Field(description="Placed → delivered, orders delivered today (UTC).")
    couriers_idle: int = Field(description="On shift with nothing to do.")
    couriers_busy: int = Field(description="On a route.")
    couriers_on_break: int
    couriers_offline: int
    last_cycle_at: datetime | None
    last_cycle_s: float | None = Field(description="Wall time of the latest dispatch cycle: read, solve, write.")
    last_cycle_solve_s: float | None


def snapshot(session: Session) -> Kpis:
    now = clock.now()
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    row = session.execute(_SQL, {"open": list(OPEN_STATUSES), "now": now, "day": day}).mappings().one()
    values = dict(row)
    for key in ("median_click_to_door_s", "last_cycle_s", "last_cycle_solve_s"):
        if values[key] is not None:
            values[key] = round(float(values[key]), 3)
    return Kpis(at=now, **values)
