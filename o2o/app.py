"""Composition root for the HTTP API: `uvicorn --factory o2o.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from core.auth.router import router as auth_router
from core.http.health import router as health_router
from core.http.limits import BodySizeLimit
from core.http.problems import install_problem_handlers
from core.logging import configure_logging
from core.metrics import RequestMetrics
from core.settings import get_settings

DESCRIPTION = """
Instant delivery for local retail: checkout assigned to the store that can deliver soonest from
stock it really has, pick & pack, OR-Tools courier dispatch and live tracking.

Errors are `application/problem+json` with a machine-readable `code`.
Authenticate with `POST /auth/token` and send `Authorization: Bearer <token>`.
"""


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    app = FastAPI(title="O2O Dispatch", version="0.1.0", description=DESCRIPTION)
    install_problem_handlers(app)
    app.include_router(health_router)
    app.include_router(auth_router)
    # Outermost first: the size limit rejects oversized bodies before anything reads them.
    app.add_middleware(RequestMetrics)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
