"""Every error leaves the API as `application/problem+json` with a machine-readable `code`."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}

# PostgreSQL SQLSTATEs that mean "the data would break a rule": a client problem, not a crash.
_CONSTRAINT_STATES = {
    "23514": "check_violation",
    "23505": "unique_violation",
    "23503": "foreign_key_violation",
}
_RETRYABLE_STATES = {
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "55P03": "lock_not_available",
}


_RESERVED_KEYS = frozenset({"type", "title", "status", "code", "detail"})


def problem(status: int, code: str, title: str, detail: str | None = None, /, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "code": code}
    if detail is not None:
        body["detail"] = detail
    # Extras add context; they can never overwrite the problem's own members.
    body.update({k: v for k, v in extra.items() if k not in _RESERVED_KEYS})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem(exc.status_code, exc.code, _title(exc.status_code), exc.message, **exc.extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    return problem(422, "invalid_request", "Invalid request", "The request does not match the schema.", errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem(exc.status_code, code, _title(exc.status_code), detail)


async def _db_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    state = getattr(exc.orig, "sqlstate", None)
    if isinstance(exc, IntegrityError) or state in _CONSTRAINT_STATES:
        diag = getattr(exc.orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        return problem(
            409,
            _CONSTRAINT_STATES.get(state or "", "integrity_error"),
            "Conflict",
            "The change would break a data rule.",
            constraint=constraint,
        )
    if state in _RETRYABLE_STATES:
        return problem(409, _RETRYABLE_STATES[state], "Conflict", "A concurrent change got in the way; retry.")
    if isinstance(exc, OperationalError):
        log.error("database_unavailable", error=str(exc))
        return problem(503, "database_unavailable", "Service Unavailable", "The database is not reachable.")
    log.exception("database_error", error=str(exc))
    return problem(500, "internal_error", "Internal Server Error")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error=repr(exc))
    return problem(500, "internal_error", "Internal Server Error")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _db_error)
    app.add_exception_handler(Exception, _unexpected)
