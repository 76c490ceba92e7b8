"""The Blueprint every API resource uses: flask-smorest's, reading arguments so that what
the OpenAPI document says holds — an unknown field, in a body or a query string, is a
422 naming it; a body documented as required must be sent (an empty PATCH is a 422, not
a silent no-op); a body in another format than JSON is a 415."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from webargs.flaskparser import FlaskParser

BODY_LOCATIONS = ("json",)
BODY_REQUIRED = "required: send a JSON object (Content-Type: application/json)"


class ApiParser(FlaskParser):
    """Every location follows its schema's own ``unknown`` (RAISE for our input schemas);
    webargs would otherwise drop unknown query parameters without a word."""

    DEFAULT_UNKNOWN_BY_LOCATION = dict.fromkeys(FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION)


def _body_checked(view: Callable, *, required: bool) -> Callable:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if request.get_data(cache=True):
            if not request.is_json:
                sent = request.mimetype or "no type"
                abort(
                    415,
                    message=f"Send the body as JSON (Content-Type: application/json), not {sent}.",
                    errors={"body": [BODY_REQUIRED]},
                )
        elif required:
            abort(422, message="This request needs a JSON body; none was sent.", errors={"body": [BODY_REQUIRED]})
        return view(*args, **kwargs)

    return checked


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = ApiParser()

    def arguments(self, schema: Any, *, location: str = "json", required: bool = True, **kwargs: Any) -> Callable:
        # An instance, made once: given a class, webargs would build a schema (deep-copying
        # its fields) for every request. Our input schemas keep nothing per load.
        schema = schema() if isinstance(schema, type) else schema
        decorate = super().arguments(schema, location=location, required=required, **kwargs)
        if location not in BODY_LOCATIONS:
            return decorate

        def decorator(func: Callable) -> Callable:
            return _body_checked(decorate(func), required=required)

        return decorator
