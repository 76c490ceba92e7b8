"""The caller's language for the sentences an API answer carries (``message`` beside each
text code): ``Accept-Language`` when it names Chinese or English, else the language the
user chose in the portal, else Chinese."""

from __future__ import annotations

from flask import Flask, request

from broker.people import users
from broker.platform import db, texts
from broker.platform.scope import UNKNOWN_LOCALE, Principal

# Accept-Language tags → our locales; werkzeug picks the client's best by its q-values.
_TAGS = {"zh-CN": "zh_CN", "zh": "zh_CN", "zh-Hans": "zh_CN", "en": "en", "en-US": "en", "en-GB": "en"}


def from_header() -> str | None:
    best = request.accept_languages.best_match(list(_TAGS))
    return _TAGS.get(best) if best else None


def choose(principal: Principal | None = None) -> None:
    """Set the request's text locale: the header first, else the principal's preference."""
    chosen = from_header()
    if chosen is None and principal is not None:
        stored = principal.locale
        if stored == UNKNOWN_LOCALE:  # not read with the principal
            stored = users.stored_locale(db.session(), principal.user_id)
        chosen = stored if stored in texts.LOCALES else None
    texts.set_request_locale(chosen or texts.DEFAULT_LOCALE)


def init_app(app: Flask) -> None:
    @app.before_request
    def _api_language() -> None:
        if request.path.startswith("/api/"):
            choose()
