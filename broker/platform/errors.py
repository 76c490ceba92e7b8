"""Domain errors carry a machine code and an HTTP status; the API turns them into the
one error envelope, the portal into a flash message."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


def found(obj: T | None, what: str) -> T:
    """``obj`` as looked up, or :class:`NotFound` ("No such ``what``.") when there is none."""
    if obj is None:
        raise NotFound(f"No such {what}.")
    return obj


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, kind: str, current: str, action: str) -> None:
        super().__init__(
            f"Cannot {action} this {kind}: it is {current}.",
            details={"current_status": current, "action": action},
        )


class Invalid(DomainError):
    status = 422
    code = "validation_error"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
