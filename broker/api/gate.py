"""What every request passes before a view sees it: headers of a sane size (431 in the
envelope, naming the header), and for the API a JSON body that can be read safely — valid
UTF-8, valid JSON, not nested deeper than any request of ours, no number with more digits
than any value we accept. Each is a 4xx a client can act on, never a 500 from deep inside
the JSON parser (a RecursionError, Python's integer-string limit).

The web server (see config/gunicorn.py) lets headers up to a larger size through, so that
this check, and not the server's own page, answers."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import RequestHeaderFieldsTooLarge

from broker.api.errors import envelope, is_api_request
from broker.platform.input_schema import printable_key

MAX_HEADER_BYTES = 8 * 1024  # one header (name and value)
MAX_HEADERS_BYTES = 32 * 1024  # all of them together
MAX_DEPTH = 32  # our deepest body (a household's member's conditions) is 4 deep
MAX_INT_DIGITS = 30  # far beyond any id, count or amount in fen
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class _HugeNumber:
    """Stands in for an integer too long to convert, so that its place can be named."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | _HugeNumber:
    digits = len(text.lstrip("-"))
    return _HugeNumber(digits) if digits > MAX_INT_DIGITS else int(text)


def check_headers() -> None:
    """431 for a header over MAX_HEADER_BYTES, or all of them over MAX_HEADERS_BYTES."""
    total = 0
    for name, value in request.headers.items():
        size = len(name) + len(value)
        total += size
        if size > MAX_HEADER_BYTES:
            raise RequestHeaderFieldsTooLarge(
                f"The header {name} is {size} bytes; a header may be at most {MAX_HEADER_BYTES} bytes. "
                "Send a shorter value (a large cookie or token is the usual cause)."
            )
    if total > MAX_HEADERS_BYTES:
        raise RequestHeaderFieldsTooLarge(
            f"The headers are {total} bytes together; at most {MAX_HEADERS_BYTES} are accepted. "
            "Send fewer or shorter ones."
        )


def check_json_body() -> Response | None:
    """The envelope for an API body that cannot be read safely; None to go on."""
    if not is_api_request() or request.method not in BODY_METHODS or not request.is_json:
        return None
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _unreadable(f"The body is not UTF-8 (byte {exc.start} cannot be decoded). Send JSON encoded as UTF-8.")
    try:
        data = json.loads(text, parse_int=_parse_int)
    except RecursionError:
        return _too_deep()
    except ValueError as exc:
        return _unreadable(f"The body is not valid JSON: {exc}. Check the syntax (quotes, commas, brackets).")
    if _depth(data) > MAX_DEPTH:
        return _too_deep()
    huge = _huge_numbers(data)
    if huge:
        return envelope(
            422,
            "validation_error",
            "A number is far larger than any value this API accepts: " + ", ".join(sorted(map(str, huge))) + ".",
            huge,
        )
    return None


def _unreadable(message: str) -> Response:
    return envelope(400, "bad_request", message, {"body": [message]})


def _too_deep() -> Response:
    message = f"The JSON body is too deeply nested: at most {MAX_DEPTH} levels of arrays and objects are read."
    return envelope(400, "too_deeply_nested", message, {"body": [message]})


def _children(value: Any) -> list[tuple[Any, Any]]:
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return list(enumerate(value))
    return []


def _depth(data: Any) -> int:
    """How deep arrays and objects nest (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        children = _children(value)
        if children:
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for _, child in children)
    return deepest


def _huge_numbers(data: Any) -> dict[str, Any]:
    """Where the over-long numbers are, shaped as marshmallow's errors are."""
    if isinstance(data, _HugeNumber):
        return {"body": [_too_long(data)]}
    found: dict[str, Any] = {}
    for key, value in _children(data):
        if isinstance(value, _HugeNumber):
            found[printable_key(key)] = [_too_long(value)]
        elif _children(value):
            inner = _huge_numbers(value)
            if inner:
                found[printable_key(key)] = inner
    return found


def _too_long(number: _HugeNumber) -> str:
    return f"a number of {number.digits} digits is far beyond any accepted value; send the real amount or id"


def init_app(app: Flask) -> None:
    """Run the checks first, before any other hook reads the request."""
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs[0:0] = [check_headers, check_json_body]
