"""The pages every reader shares: the front door and the language switch. The portal's
stylesheet is served from here too, so that no page depends on another site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from broker.people import users
from broker.platform import db
from broker.portal import i18n
from broker.portal.auth import home_url
from broker.portal.forms import LanguageForm, safe_next

bp = Blueprint(
    "portal", __name__, template_folder="templates", static_folder="static", static_url_path="/static/portal"
)


@bp.get("/")
def index() -> Response:
    """Each role lands on its own home page; a visitor on the sign-in page."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user.role))
    return redirect(url_for("portal_auth.login"))


@bp.post("/language")
def language() -> Response:
    """Switch the language: kept in the session, and on the user when signed in."""
    form = LanguageForm()
    locale = form.locale.data if form.validate_on_submit() else None
    if locale in i18n.LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated and current_user.locale != locale:
            users.set_locale(db.session(), current_user.id, locale, allowed=i18n.LOCALES)
            db.commit()
    target = safe_next(form.next.data) or safe_next(request.referrer and _path_of(request.referrer))
    return redirect(target or url_for("portal.index"))


def _path_of(url: str) -> str | None:
    """The path and query of a same-site referrer, to return the reader to their page."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
