"""gunicorn settings for the broker: ``gunicorn -c config/gunicorn.py app:app``.

Workers: processes (``--workers``, two by default in ``make run``) of four threads each.

Headers: gunicorn refuses a header over 8 kB itself, with an HTML page a JSON client
cannot read. Here it lets headers up to 32 kB through, so that the app answers a large
header with its own 431 in the error envelope, naming the header (broker.api.gate
allows 8 kB a header). What is larger still, a request line over gunicorn's ceiling, or
a request that is not HTTP at all, gunicorn answers itself — and here in the same
envelope, not as HTML."""

from __future__ import annotations

import json

from gunicorn import util

# Threads: while one request waits on the database or Redis, the worker answers another,
# and a client keeps its connection between requests (a sync worker closes it after
# each). The broker keeps nothing per request outside the request's context, its own
# session (one per thread) and context variables.
worker_class = "gthread"
threads = 4

limit_request_line = 8190  # gunicorn's ceiling for the request line
limit_request_fields = 100
limit_request_field_size = 32 * 1024  # beyond the app's own limit, so the app answers

_CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed"}
_CODES.update({431: "headers_too_large", 500: "internal_error", 501: "not_implemented"})
_MESSAGES = {
    414: "The address is too long (at most 8190 bytes with the method); send long data in a request body.",
    431: "The request headers are too large or too many (at most 100 headers, 8 kB each). Send fewer or shorter ones.",
    500: "Something went wrong on our side; it has been logged.",
}


def _json_error(sock, status_int: int, reason: str, mesg: str) -> None:  # noqa: ANN001 - gunicorn's signature
    """gunicorn's own error answer, as the broker's error envelope instead of HTML."""
    message = _MESSAGES.get(status_int) or f"The request is not valid HTTP ({mesg or reason}); check the client."
    body = json.dumps(
        {"error": {"code": _CODES.get(status_int, "bad_request"), "message": message, "details": {}}}
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = _json_error
