"""Signing in and out, where each role lands, and the headers and cookies that keep the
portal's pages safe."""

from __future__ import annotations

import pytest
from flask import Flask

from broker.people import users
from broker.platform import db
from broker.portal import security
from models import User

HOMES = {
    "partner": "/partner/",
    "caseworker": "/caseworker/",
    "auditor": "/auditor/",
    "admin": "/admin/",
}


def test_login_page_is_chinese_by_default(portal):
    """A first visit reads in Chinese, with the page's language declared for fonts and screen readers."""
    html = portal.text("/login")
    assert '<html lang="zh-CN">' in html
    assert "登录" in html
    assert "跳到正文" in html


@pytest.mark.parametrize("role", sorted(HOMES))
def test_each_role_lands_on_its_own_home(portal, make_user, role, as_role):
    """After signing in, a partner, caseworker, auditor or admin each lands on their own page."""
    kwargs = {}
    if role == "partner":
        admin = as_role("admin")
        resp = admin.post(
            "/api/v1/partners",
            json={
                "name": "慈善总会",
                "kind": "charity",
                "adapter": "portal",
                "categories": ["medical"],
                "regions": ["*"],
            },
        )
        assert resp.status_code == 201, resp.get_json()
        kwargs["partner_id"] = resp.get_json()["id"]
    username = make_user(role, **kwargs)
    resp = portal.login(username)
    assert resp.status_code == 302
    assert resp.headers["Location"] == HOMES[role]
    assert portal.get(HOMES[role]).status_code == 200
    assert portal.get("/").headers["Location"] == HOMES[role]


def test_wrong_password_shows_the_form_again(portal, make_user):
    """A wrong password re-renders the form with a message and signs nobody in."""
    username = make_user("auditor")
    resp = portal.login(username, "not-the-password")
    assert resp.status_code == 200
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert portal.get("/auditor/").status_code == 302


def test_signed_out_visitor_is_sent_to_sign_in(portal):
    """A protected page sends a visitor to the sign-in page, remembering where they were going."""
    resp = portal.get("/caseworker/coverage")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


def test_next_only_leads_within_the_site(portal, make_user):
    """After signing in, ``next`` is followed only to a path of this site, never to another host."""
    username = make_user("auditor")
    resp = portal.login(username, next="//evil.example/steal")
    assert resp.headers["Location"] == "/auditor/"
    portal.post("/logout")
    resp = portal.login(username, next="https://evil.example/")
    assert resp.headers["Location"] == "/auditor/"
    portal.post("/logout")
    resp = portal.login(username, next="/auditor/ledger")
    assert resp.headers["Location"] == "/auditor/ledger"


def test_wrong_role_is_refused(portal, make_user):
    """An auditor opening a partner's page is refused with a page that says so."""
    portal.login(make_user("auditor"))
    resp = portal.get("/partner/")
    assert resp.status_code == 403
    assert "没有权限" in resp.get_data(as_text=True) or "不允许" in resp.get_data(as_text=True)


def test_logout_is_a_post_with_csrf(portal, make_user):
    """Signing out needs a POST carrying the form's token; a GET or a forged POST does nothing."""
    portal.login(make_user("auditor"))
    assert portal.client.get("/logout").status_code == 405
    assert portal.post("/logout", csrf=False).status_code == 400
    assert portal.get("/auditor/").status_code == 200
    resp = portal.post("/logout")
    assert resp.status_code == 302
    assert portal.get("/auditor/").status_code == 302


def test_deactivated_user_is_signed_out_at_the_next_click(portal, make_user):
    """The session is checked against the user at every request: a deactivated account is out."""
    username = make_user("auditor")
    portal.login(username)
    assert portal.get("/auditor/").status_code == 200
    user = db.session().query(User).filter_by(username=username).one()
    user.is_active = False
    db.commit()
    db.session.remove()
    assert portal.get("/auditor/").status_code == 302


def test_pages_carry_strict_security_headers(portal):
    """Portal pages allow only this origin (no CDN, no framing, no inline script) and keep the referrer home."""
    resp = portal.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "http" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["Cache-Control"] == "no-store"
    api = portal.client.get("/healthz")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_samesite(portal, make_user):
    """The session cookie cannot be read by script nor sent by other sites' forms."""
    resp = portal.login(make_user("auditor"))
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and "aidbroker_session" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_only_a_response_that_changes_the_session_sets_its_cookie(portal, make_user):
    """A stylesheet, the favicon or a page that changes nothing carries no cookie: one
    answered after a form's redirect (a browser fetches them side by side) would put
    back the session from before the form, and its message would never be shown."""
    portal.login(make_user("auditor"))
    portal.get("/auditor/")  # the first page makes the form token, which changes the session
    for path in ("/static/portal/portal.css", "/static/portal/favicon.svg", "/auditor/"):
        resp = portal.client.get(path)
        assert resp.status_code == 200, path
        assert "aidbroker_session" not in " ".join(resp.headers.getlist("Set-Cookie")), path
    resp = portal.post("/logout", {})
    assert "aidbroker_session" in " ".join(resp.headers.getlist("Set-Cookie"))


def test_secure_cookie_setting_is_explicit_or_follows_the_mode():
    """SESSION_COOKIE_SECURE: true or false as configured (also as text from the
    environment); unset, on in production and off when testing or debugging."""
    app = Flask("probe")
    app.config.update(SESSION_COOKIE_SECURE=None, TESTING=False, DEBUG=False)
    assert security.secure_cookies(app) is True
    app.config["TESTING"] = True
    assert security.secure_cookies(app) is False
    app.config["SESSION_COOKIE_SECURE"] = "1"
    assert security.secure_cookies(app) is True
    app.config["SESSION_COOKIE_SECURE"] = "false"
    app.config["TESTING"] = False
    assert security.secure_cookies(app) is False


def test_static_assets_are_served_by_the_app(portal):
    """The stylesheet comes from the app itself (no CDN)."""
    resp = portal.get("/static/portal/portal.css")
    assert resp.status_code == 200
    assert resp.mimetype == "text/css"
    assert "focus-visible" in resp.get_data(as_text=True)


def test_language_choice_on_sign_in_is_kept_on_the_user(portal, make_user):
    """English chosen on the sign-in page is remembered on the user after signing in."""
    username = make_user("auditor")
    portal.get("/login")
    portal.post("/language", {"locale": "en", "next": "/login"})
    portal.login(username)
    assert (
        users.get_user(db.session(), db.session().query(User.id).filter_by(username=username).scalar()).locale == "en"
    )
