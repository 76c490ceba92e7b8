"""One error envelope for the whole API: ``{"error": {"code", "message", "details"}}``.

flask-smorest routes every HTTPException (and unhandled errors, as 500) through
``handle_http_exception``; domain errors are mapped here too. Paths outside /api get
the portal's own handling."""

from __future__ import annotations

import logging

from flask import Response, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from broker.errors import DomainError

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
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


class BrokerApi(Api):
    """flask-smorest's Api with our envelope, for API paths only."""

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, self.handle_http_exception)
        self._app.register_error_handler(DomainError, handle_domain_error)
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
        message = data.get("message") or MESSAGES.get(status) or error.description or error.name
        if status == 422 and details:
            fields = ", ".join(sorted(map(str, details))[:6])
            message = f"Some fields are missing or invalid: {fields}. See details."
        return envelope(
            status,
            CODES.get(status, error.name.lower().replace(" ", "_")),
            message,
            details,
            data.get("headers"),
        )


def handle_domain_error(error: DomainError):  # noqa: ANN201
    if not is_api_request():
        return page_handlers["domain"](error)
    return envelope(error.status, error.code, error.message, error.details)


def handle_unexpected(error: Exception):  # noqa: ANN201
    if isinstance(error, HTTPException):
        return error
    log.exception("unhandled error on %s %s", request.method, request.path)
    if not is_api_request():
        return page_handlers["http"](InternalServerError())
    return envelope(500, "internal_error", MESSAGES[500])
