"""Completes each operation of the OpenAPI document in one place, from what the view
itself declares: the bearer security on every operation behind ``@require`` (with the
roles it admits), and every error status the operation can answer with, each in the
error envelope — so that a client generated from the document, or schemathesis, knows
what to expect and the docs page's "Authorize" sends the token where it is needed."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask import Flask
from marshmallow import fields

from broker.api.idempotency import HEADER_DOC
from broker.platform.input_schema import InputSchema

# What InputSchema refuses in text, said in the document: no C0 control character but
# tab and line breaks (lone surrogates cannot be written in JSON Schema; they are refused too).
STORABLE_TEXT = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"
WRITE_METHODS = ("post", "put", "patch", "delete")

ENVELOPE = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
SECURITY = [{"bearer": []}]
UNAUTHORIZED = {
    "description": "No valid bearer token: sign in at POST /api/v1/auth/token and send "
    "`Authorization: Bearer <token>`.",
    "headers": {
        "WWW-Authenticate": {
            "description": 'Bearer realm="aidbroker", with error="invalid_token" if a token was sent',
            "required": True,
            "schema": {"type": "string"},
        }
    },
}
# Statuses every operation may answer with, whatever it does.
ALWAYS = {
    431: "A header, or all of them together, is too large (the header is named).",
    503: "The database is not answering just now, or is busy; nothing was changed. Retry shortly.",
}
WITH_BODY = {
    400: "The body is not valid JSON, not UTF-8, or nested too deeply.",
    413: "The body is larger than the server accepts.",
    415: "The body is not JSON (Content-Type: application/json).",
    422: "Some fields are missing, unknown or invalid; details names each with what is wrong.",
}
IDEMPOTENT = {
    409: "The same Idempotency-Key is still being processed; retry in a moment.",
    422: "Invalid fields, or the Idempotency-Key was used before for a different request.",
}


def storable_text_pattern(_converter: Any, field: fields.Field, ret: dict, **_kw: Any) -> dict:
    """An apispec attribute function: a text field of an input schema says which
    characters it refuses (unless its own pattern or choices already say more)."""
    if not isinstance(field, fields.String) or "enum" in ret:
        return {}
    try:
        root = field.root
    except AttributeError:  # an unbound field
        return {}
    if not isinstance(root, InputSchema):
        return {}
    if "pattern" in ret:  # one pattern per schema object: the second goes beside it
        return {"allOf": [*ret.get("allOf", []), {"pattern": STORABLE_TEXT}]}
    return {"pattern": STORABLE_TEXT}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": ENVELOPE}


def _view_method(app: Flask, rule: Any, method: str) -> Any:
    view = app.view_functions.get(rule.endpoint)
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method, None) if view_class is not None else view


class ErrorResponsesPlugin(BasePlugin):
    """An apispec plugin (flask-smorest hands it each operation with its werkzeug rule)."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if self.app is None or rule is None or not operations:
            return
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            document(operation, _view_method(self.app, rule, method), method=method, has_path_ids="{" in (path or ""))


def document(operation: dict, view: Any, *, method: str, has_path_ids: bool) -> None:
    """Add security and the error responses to one operation (in place)."""
    responses = operation["responses"]
    wanted: dict[int, dict[str, Any]] = {}
    roles = getattr(view, "_required_roles", None)
    optional = getattr(view, "_token_optional", None)  # open, and more with a token
    if roles is None and optional:
        operation["security"] = [{}, *SECURITY]
        wanted[401] = {**UNAUTHORIZED, "content": ENVELOPE}
        wanted[403] = _error(f"With a token, only {', '.join(optional)} may do this.")
    elif roles is None:
        operation["security"] = []  # open: signing in itself, say
    else:
        operation["security"] = SECURITY
        wanted[401] = {**UNAUTHORIZED, "content": ENVELOPE}
        if roles:
            wanted[403] = _error(f"Your role may not do this: it is for {', '.join(roles)}, within their own scope.")
    if has_path_ids or operation.get("parameters"):
        wanted[404] = _error("Nothing with this id (or filter value, such as a grid code), or nothing you may see.")
    if (roles is not None or optional) and method in WRITE_METHODS:
        wanted[409] = _error(
            "Conflicts with the current state (already exists, not in a state that allows it); see code."
        )
    if "requestBody" in operation:
        wanted.update({status: _error(text) for status, text in WITH_BODY.items()})
    if any(p.get("name") == HEADER_DOC["name"] for p in operation.get("parameters", []) if isinstance(p, dict)):
        wanted.update({status: _error(text) for status, text in IDEMPOTENT.items()})
    wanted.update({status: _error(text) for status, text in ALWAYS.items()})
    present = {str(code): code for code in responses}
    for status, response in wanted.items():
        if str(status) not in present:
            responses[status] = response
    for code in list(responses):
        response = responses[code]
        if str(code).isdigit() and int(code) >= 400 and isinstance(response, dict) and "content" not in response:
            responses[code] = {**response, "content": ENVELOPE}
