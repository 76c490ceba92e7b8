"""Browser-facing hardening: session cookie flags and response headers.

Every page is served with a Content-Security-Policy that allows only this origin (no
CDN, no inline script, no framing), so that an injected ``<script>`` or a page framing
ours does nothing. The API docs under /api ship their own inline bootstrap script, so
the strict policy applies to the portal's paths; the headers that cost nothing apply to
every response."""

from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def secure_cookies(app: Flask) -> bool:
    """Whether the session cookie is sent over HTTPS only. ``SESSION_COOKIE_SECURE`` set
    to true or false decides; unset, it is on except when testing or debugging, where the
    app is reached over plain http on the loopback."""
    setting = app.config.get("SESSION_COOKIE_SECURE")
    if setting is None or setting == "":
        return not (app.testing or app.debug)
    return _truthy(setting)


def init_app(app: Flask) -> None:
    app.config["SESSION_COOKIE_SECURE"] = secure_cookies(app)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SESSION_COOKIE_NAME"] = "aidbroker_session"
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 8 * 3600)
    # The cookie is written only when the session changes. Rewritten on every response
    # (Flask's default for a permanent session), a stylesheet or favicon answered after a
    # form's redirect put back the cookie from before it: the form's message vanished,
    # and after signing out a slow response could sign the browser back in. The 8 hours
    # count from the session's last change (signing in, a message, a form's token).
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/api/"):
            headers.setdefault("Content-Security-Policy", CSP)
            headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
            if response.mimetype == "text/html":
                # Pages show personal data: keep them out of shared caches and history.
                headers.setdefault("Cache-Control", "no-store")
        return response
