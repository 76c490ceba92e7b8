"""Signing in and out of the portal (Flask-Login sessions), and who is asking.

Passwords are checked by the same domain function as the API's tokens
(``users.authenticate``, argon2); the session then holds only the user's id. Every
request re-reads the user, so a deactivated account is out at its next click, and the
request's :class:`~broker.platform.scope.Principal` (role, partner, grids) is the one the domain
functions are given. The session is renewed on sign-in so that a planted session id is
worthless."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from broker.people import users
from broker.platform import actor, db
from broker.platform.errors import Unauthorized
from broker.platform.scope import Principal
from broker.portal import i18n, limits
from broker.portal.forms import LoginForm, safe_next
from models import User

bp = Blueprint("portal_auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "portal_auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"

# Where each role starts.
HOME = {
    "partner": "portal_partner.inbox",
    "caseworker": "portal_caseworker.home",
    "auditor": "portal_auditor.dashboard",
    "admin": "portal_admin.home",
    "volunteer": "portal_volunteers.home",
    "reporter": "portal_leads.home",
}


class PortalUser(UserMixin):
    """The signed-in user as the portal needs it: a snapshot read at each request."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name or user.username
        self.role = user.role
        self.locale = user.locale
        self.partner_id = user.partner_id
        self.principal: Principal = users.principal_of(user)

    @property
    def is_active(self) -> bool:  # the loader drops inactive users before this is asked
        return True


@login_manager.user_loader
def _load_user(user_id: str) -> PortalUser | None:
    try:
        user = db.session().get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.is_active:
        return None
    return PortalUser(user)


def _identify() -> None:
    """Make the signed-in user's principal this request's, and its actor the audit's."""
    if request.path.startswith("/api/"):
        return
    if current_user.is_authenticated:
        g.principal = current_user.principal
        actor.set_actor(current_user.principal.actor)
    else:  # never the previous request's user (a worker thread serves many requests)
        actor.set_actor("portal:anonymous")


# What this request caches in ``g``: the signed-in user (Flask-Login), the CSRF token
# (Flask-WTF), the locale (Flask-Babel) and the principal. An app context can outlive
# one request (a test holds one open around many), so they are dropped when it ends.
REQUEST_CACHE = ("_login_user", "csrf_token", "_flask_babel", "principal")


def forget_request_cache(_exc: BaseException | None = None) -> None:
    """Drop what a previous request left in ``g`` (run first thing, and at the end)."""
    if request.path.startswith("/api/"):
        return
    for key in REQUEST_CACHE:
        g.pop(key, None)


def current_principal() -> Principal:
    """The signed-in user's principal: what every domain call of a portal view is given."""
    principal = g.get("principal")
    if principal is None:
        abort(401)
    return principal


def home_url(role: str) -> str:
    """Where a role starts after signing in (and where ``/`` sends it)."""
    return url_for(HOME.get(role, "portal_auth.login"))


def role_required(*roles: str) -> Callable:
    """Signed in, and in one of ``roles``; anyone else is sent to sign in or refused."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.portal_roles = roles  # read by the endpoint × role test
        return wrapped

    return decorate


def _start_session(user: User) -> None:
    """A fresh session for the signed-in user, keeping only the language chosen."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(PortalUser(user))
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@limits.login_limit
def login() -> Response | str:
    """The sign-in page; on success, the role's home page (or the page asked for)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url(current_user.role))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        dbs = db.session()
        try:
            user = users.authenticate(dbs, form.username.data.strip(), form.password.data)
        except Unauthorized:
            db.session.rollback()
            form.password.errors.append(_("Wrong username or password."))
        else:
            actor.set_actor(actor.for_user(user.id, user.username))
            chosen = session.get("locale")
            if chosen in i18n.LOCALES and chosen != user.locale:
                users.set_locale(dbs, user.id, chosen, allowed=i18n.LOCALES)
                db.commit()
            _start_session(user)
            return redirect(safe_next(form.next.data) or home_url(user.role))
    return render_template("portal/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out: a POST, whose CSRF token is checked before any view runs, so that no
    other site can sign anyone out."""
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have signed out."), "info")
    return redirect(url_for("portal_auth.login"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_identify)
    app.teardown_request(forget_request_cache)
