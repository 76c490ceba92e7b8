"""One error envelope for the whole API: ``{"error": {"code", "message", "details"}}``.

flask-smorest routes every HTTPException (and unhandled errors, as 500) through
``handle_http_exception``; domain errors are mapped here too. Paths outside /api get
the portal's own handling."""

from __future__ import annotations

import logging
import sqlite3

import marshmallow as ma
from flask import Response, jsonify, request
from flask_smorest import Api
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, ServiceUnavailable

from broker.platform import db
from broker.platform.errors import DomainError

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "unavailable",
}
MESSAGES = {
    400: "The request could not be read (is the body valid JSON?); see details.",
    404: "Nothing is at this address. Check the path against /api/v1/docs.",
    405: "This address does not accept that method. Check /api/v1/docs.",
    422: "Some fields are missing or invalid; see details.",
    429: "Too many attempts; wait a minute and try again.",
    500: "Something went wrong on our side; it has been logged.",
}


REALM = "aidbroker"


def _protocol_headers(error: HTTPException) -> dict[str, str]:
    """The headers the status itself calls for (``Allow`` on a 405, ``Retry-After``…)."""
    return {k: v for k, v in error.get_headers() if k.lower() != "content-type"}


def _plain_page(error: Exception):
    if isinstance(error, HTTPException):
        return error
    return Response(getattr(error, "message", str(error)), status=getattr(error, "status", 400))


# How errors outside /api are shown; the portal installs its own pages here.
page_handlers = {"http": _plain_page, "domain": _plain_page}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict | None = None,
    headers: dict | None = None,
) -> Response:
    resp = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    if status == 401 and "WWW-Authenticate" not in resp.headers:
        # RFC 6750: say which scheme to use; a token that was sent and refused is invalid_token.
        sent = request.headers.get("Authorization", "").lower().startswith("bearer ")
        resp.headers["WWW-Authenticate"] = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if sent else "")
    return resp


def _flatten_webargs(messages: dict) -> dict:
    """webargs nests errors by location ({"json": {...}, "query": {...}}); callers want
    the fields. Locations are kept only where two locations name the same field."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for name, errs in fields.items():
                flat[name if name not in flat else f"{location}.{name}"] = errs
        else:
            flat[location] = fields
    return flat


class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "validation_error"})
    message = ma.fields.String(required=True, metadata={"example": "Some fields are missing or invalid: reason."})
    details = ma.fields.Dict(required=True, metadata={"description": "Per field, the list of what is wrong."})


class ErrorEnvelope(ma.Schema):
    """What every error response holds (the OpenAPI document's error responses)."""

    error = ma.fields.Nested(ErrorBody, required=True)


class BrokerApi(Api):
    """flask-smorest's Api with our envelope, for API paths only."""

    ERROR_SCHEMA = ErrorEnvelope
    # Every error status is documented per operation (broker.api.openapi), not as a catch-all.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, self.handle_http_exception)
        self._app.register_error_handler(DomainError, handle_domain_error)
        self._app.register_error_handler(sa_exc.DBAPIError, handle_database_error)
        self._app.register_error_handler(sqlite3.OperationalError, handle_database_error)
        self._app.register_error_handler(sa_exc.TimeoutError, handle_database_error)
        self._app.register_error_handler(OverflowError, handle_database_error)
        self._app.register_error_handler(Exception, handle_unexpected)

    def handle_http_exception(self, error: HTTPException):  # noqa: ANN201
        if not is_api_request():
            return page_handlers["http"](error)
        data = getattr(error, "data", None) or {}
        status = error.code or 500
        details = {}
        if "messages" in data:
            details = _flatten_webargs(data["messages"])
        elif "errors" in data:
            details = data["errors"]
        elif status == 405 and getattr(error, "valid_methods", None):
            details = {"allow": sorted(error.valid_methods)}
        message = data.get("message") or MESSAGES.get(status) or error.description or error.name
        if status == 422 and details:
            fields = ", ".join(sorted(map(str, details))[:6])
            message = f"Some fields are missing or invalid: {fields}. See details."
        return envelope(
            status,
            CODES.get(status, error.name.lower().replace(" ", "_")),
            message,
            details,
            {**_protocol_headers(error), **(data.get("headers") or {})},
        )


def handle_domain_error(error: DomainError):  # noqa: ANN201
    if not is_api_request():
        return page_handlers["domain"](error)
    return envelope(error.status, error.code, error.message, error.details)


def handle_unexpected(error: Exception):  # noqa: ANN201
    if isinstance(error, HTTPException):
        return error
    log.exception("unhandled error on %s %s", request.method, request.path)
    _discard_unit_of_work()
    if not is_api_request():
        return page_handlers["http"](InternalServerError())
    return envelope(500, "internal_error", MESSAGES[500])


UNAVAILABLE = "The database is not answering just now; nothing was changed. Try again in a moment."
OUT_OF_RANGE = (
    "A value cannot be stored as sent: a number out of range, a text too long, or a text holding "
    "a NUL character. Check the numbers and texts you sent."
)


def _discard_unit_of_work() -> None:
    """Roll back what the failed request began, so that nothing half-done lingers on a
    session that outlives the request (a long-lived app context, the CLI, the tests)."""
    try:
        db.session.rollback()
    except Exception:  # the database may be gone; the teardown removes the session anyway
        log.debug("rollback after a failed request did not reach the database", exc_info=True)


def handle_database_error(error: Exception):  # noqa: ANN201
    """The database unreachable (down, restarting, connections dropped, pool exhausted)
    is a 503 the client may retry — the transaction was rolled back, so nothing half-done
    remains; a value the database cannot hold (an integer beyond its range, a text beyond
    its column or with a NUL in it) is bad input that slipped past a schema: a 422, logged
    so that the schema gets its bound. Anything else is unexpected."""
    _discard_unit_of_work()
    # A SQLite lock wait past its budget is an OperationalError, raw when it escapes a hook.
    unavailable = isinstance(
        error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError | sqlite3.OperationalError
    ) or bool(getattr(error, "connection_invalidated", False))
    if unavailable:
        log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error.__cause__ or error))
        if not is_api_request():
            return page_handlers["http"](ServiceUnavailable())
        return envelope(503, "unavailable", UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(error, OverflowError | sa_exc.DataError):
        log.warning("value out of range on %s %s: %s", request.method, request.path, type(error.__cause__ or error))
        if not is_api_request():
            return page_handlers["http"](BadRequest())
        return envelope(422, "out_of_range", OUT_OF_RANGE)
    return handle_unexpected(error)
