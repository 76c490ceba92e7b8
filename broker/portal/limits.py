"""Rate limits on signing in, in the portal and on the API, kept in Redis.

Guessing passwords is throttled per client address *and* username: ``LOGIN_RATE_LIMIT``
(10 a minute) attempts at one account from one address, counted in the app's Redis so
that every web worker shares the count. The limit is read per request, as is
``RATELIMIT_ENABLED`` (the test suite turns it off, and one test back on). A breach is
an HTTP 429: the API answers with its JSON envelope, the portal with a page that says
to wait."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter

# The documented HTTP contract: where API clients exchange a password for a token.
API_TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret


def storage_uri(redis_url: str | None) -> str:
    """The ``limits`` storage URI for the app's Redis. ``limits`` spells a Unix socket
    ``redis+unix:///path`` (the embedded Redis is one); TCP URLs pass through."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def _username() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return str(name or "").strip().lower()[:64]


def login_key() -> str:
    """Client address and the username being tried: one person mistyping does not lock
    out a whole office behind one address, and one address cannot spray one account."""
    return f"{request.remote_addr or '-'}|{_username()}"


def _login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT") or "10 per minute"


def _disabled() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


limiter = Limiter(key_func=login_key, key_prefix="aidbroker-rl", headers_enabled=True)
login_limit = limiter.shared_limit(_login_limit, scope="login", methods=["POST"])

# Concerns from the public, without an account: counted per client address, shared by the
# public page and the API (one count for both doors). A signed-in caller is not counted.
API_CONCERNS_PATH = "/api/v1/concerns"
API_CONCERN_PATH = "/api/v1/concerns/<string:reference>"
API_VOLUNTEERS_PATH = "/api/v1/volunteers"
API_REPORTERS_PATH = "/api/v1/reporters"


def client_address() -> str:
    return request.remote_addr or "-"


def _signed_in() -> bool:
    from flask_login import current_user

    if request.path.startswith("/api/"):
        return bool(request.headers.get("Authorization"))
    return bool(current_user and current_user.is_authenticated)


def _concern_limit() -> str:
    return current_app.config.get("CONCERN_RATE_LIMIT") or "5 per minute;30 per day"


def _lookup_limit() -> str:
    return current_app.config.get("CONCERN_LOOKUP_RATE_LIMIT") or "30 per minute"


concern_limit = limiter.shared_limit(
    _concern_limit, scope="concern", key_func=client_address, methods=["POST"], exempt_when=_signed_in
)
# A volunteer's sign-up is open to anyone, as a concern is, and limited the same way.
signup_limit = limiter.shared_limit(
    _concern_limit, scope="volunteer-signup", key_func=client_address, methods=["POST"], exempt_when=_signed_in
)
# A mobile grid member's sign-up likewise.
reporter_signup_limit = limiter.shared_limit(
    _concern_limit, scope="reporter-signup", key_func=client_address, methods=["POST"], exempt_when=_signed_in
)
lookup_limit = limiter.shared_limit(
    _lookup_limit, scope="concern-lookup", key_func=client_address, methods=["GET"], exempt_when=_signed_in
)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app's Redis and put the sign-in limit on the API's token
    endpoint too. The limiter's hooks are always installed; ``RATELIMIT_ENABLED`` is
    honoured per request (a request filter), so that it can be switched at run time."""
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config.get("REDIS_URL"))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not lock everyone out (nor answer 500): count in this process's
    # memory until Redis is back, and never fail a request for the limiter's sake.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    enabled = app.config.get("RATELIMIT_ENABLED", True)
    app.config["RATELIMIT_ENABLED"] = True
    try:
        limiter.init_app(app)
    finally:
        app.config["RATELIMIT_ENABLED"] = enabled
    limiter.request_filter(_disabled)
    wrappers = {
        API_TOKEN_PATH: login_limit,
        API_CONCERNS_PATH: concern_limit,
        API_CONCERN_PATH: lookup_limit,
        API_VOLUNTEERS_PATH: signup_limit,
        API_REPORTERS_PATH: reporter_signup_limit,
    }
    for rule in app.url_map.iter_rules():
        if rule.rule in wrappers:
            app.view_functions[rule.endpoint] = wrappers[rule.rule](app.view_functions[rule.endpoint])
