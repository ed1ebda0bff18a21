"""`/ops/kpis`: the live numbers on the operators' panel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from core.auth.models import Role
from core.auth.tokens import Principal
from core.http.deps import DbSession, allow
from dispatch import kpis

router = APIRouter(prefix="/ops", tags=["ops: kpis"])
Operator = Annotated[Principal, Depends(allow(Role.dispatcher, Role.admin))]


@router.get("/kpis")
def get_kpis(session: DbSession, _: Operator) -> kpis.Kpis:
    """Open and late orders, median click-to-door today (UTC), couriers idle/busy, the last dispatch cycle."""
    return kpis.snapshot(session)
