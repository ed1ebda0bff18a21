"""Operators' reads of dispatch: recent runs of a zone, and why an order went where it went."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.errors import OrderNotFound
from dispatch.fleet_schemas import ExplanationOut, RunOut, RunPage
from dispatch.route_models import DispatchExplanation, DispatchRun


def list_runs(session: Session, *, zone_id: uuid.UUID | None, limit: int) -> RunPage:
    query = select(DispatchRun).order_by(DispatchRun.started_at.desc(), DispatchRun.id).limit(limit)
    if zone_id is not None:
        query = query.where(DispatchRun.zone_id == zone_id)
    return RunPage(items=[RunOut.model_validate(r, from_attributes=True) for r in session.scalars(query)])


def explanation(session: Session, *, order_id: uuid.UUID) -> ExplanationOut:
    """The latest run's word on the order."""
    row = session.scalar(
        select(DispatchExplanation)
        .where(DispatchExplanation.order_id == order_id)
        .order_by(DispatchExplanation.created_at.desc())
        .limit(1)
    )
    if row is None:
        raise OrderNotFound("No dispatch run has planned this order yet.", order_id=str(order_id))
    return ExplanationOut(
        order_id=row.order_id,
        run_id=row.run_id,
        at=row.created_at,
        courier_id=row.courier_id,
        eta_at=row.eta_at,
        detour_s=row.detour_s,
        decision=row.decision,
        details=row.details,
    )
