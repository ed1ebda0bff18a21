"""Composition root for the HTTP API: `uvicorn --factory o2o.app:create_app`."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, FastAPI

from core.auth.router import router as auth_router
from core.http.health import router as health_router
from core.http.limits import BodySizeLimit
from core.http.problems import install_problem_handlers
from core.logging import configure_logging
from core.metrics import RequestMetrics
from core.settings import get_settings
from o2o.web import mount_web

DESCRIPTION = """
Instant delivery for local retail: checkout assigned to the store that can deliver soonest from
stock it really has, pick & pack, OR-Tools courier dispatch and live tracking.

Errors are `application/problem+json` with a machine-readable `code`.
Authenticate with `POST /auth/token` and send `Authorization: Bearer <token>`.
"""


# Each edge module exposes `router`. Listed here, in one place, so the app's surface is explicit.
EDGE_ROUTERS = (
    "ops_api.locations",
    "ops_api.catalogue",
    "ops_api.stock",
    "ops_api.transfers",
    "staff_api.stock",
    "staff_api.transfers",
    "staff_api.picking",
    "customer_api.catalogue",
    "customer_api.orders",
    "ops_api.dispatch",
    "courier_app_api.app",
    "courier_app_api.stream",
    "customer_api.tracking",
    "customer_api.share_map",
    "ops_api.live",
    "ops_api.city",
    "ops_api.kpis",
)


def _edge_routers() -> list[APIRouter]:
    routers = []
    for name in EDGE_ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Edges still being built are skipped; a missing dependency inside one is an error.
            if exc.name != name:
                raise
            continue
        routers.append(module.router)
    return routers


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    app = FastAPI(title="O2O Dispatch", version="0.1.0", description=DESCRIPTION)
    install_problem_handlers(app)
    app.include_router(health_router)
    app.include_router(auth_router)
    for router in _edge_routers():
        app.include_router(router)
    mount_web(app)
    # Outermost first: the size limit rejects oversized bodies before anything reads them.
    app.add_middleware(RequestMetrics)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
