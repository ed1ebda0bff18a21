"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from core.db import get_engine
from core.http.deps import Public
from core.http.problems import problem
from core.redis import get_redis

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[Public])
def healthz() -> dict[str, str]:
    """The process is up (says nothing about its dependencies)."""
    return {"status": "ok"}


@router.get("/readyz", dependencies=[Public], response_model=None)
def readyz() -> Any:
    """Ready to serve: the database (with PostGIS) and Redis answer."""
    checks: dict[str, str] = {}
    try:
        with get_engine().connect() as conn:
            checks["database"] = "ok"
            version = conn.scalar(text("SELECT postgis_lib_version()"))
            checks["postgis"] = str(version)
    except Exception as exc:  # any failure means "not ready", reported, never raised
        checks.setdefault("database", f"error: {type(exc).__name__}")
        checks.setdefault("postgis", "unknown")
    try:
        checks["redis"] = "ok" if get_redis().ping() else "error"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    if all(v == "ok" for k, v in checks.items() if k != "postgis") and checks["postgis"] != "unknown":
        return {"status": "ready", "checks": checks}
    return problem(503, "not_ready", "Service Unavailable", "A dependency is not reachable.", checks=checks)


@router.get("/metrics", dependencies=[Public], include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
