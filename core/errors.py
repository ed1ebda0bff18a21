"""One error hierarchy for the whole system.

Domain code raises `DomainError` subclasses (never HTTP exceptions); the edge turns every one of
them into `application/problem+json` (RFC 9457) with a machine-readable `code`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code  # type: ignore[misc]
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.extra = extra


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_request"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
