"""Forms without their CSRF token are refused with a page that says why (and nothing
changes); the JSON API, signed with bearer tokens, needs none. Signing in is rate
limited per address and username, in the portal (a page) and on the API (the JSON
envelope), counted in Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker.platform import db
from broker.portal import limits
from models import Offer
from tests.conftest import PASSWORD


def test_form_without_token_is_refused_and_changes_nothing(portal, loop):
    """Accepting an offer with a form that lacks its CSRF token is a 400 page; the offer stays unanswered."""
    portal.login(loop.partner)
    resp = portal.post(f"/partner/offers/{loop.offer_ids[0]}/accept", {"amount": ""}, csrf=False)
    assert resp.status_code == 400
    assert "表单已过期或并非从本站提交" in resp.get_data(as_text=True)
    db.session.remove()
    assert db.session().get(Offer, loop.offer_ids[0]).status == "received"


def test_form_with_a_forged_token_is_refused(portal, make_user):
    """A token from elsewhere (or tampered) is refused like a missing one."""
    username = make_user("auditor")
    portal.get("/login")
    resp = portal.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": "forged"})
    assert resp.status_code == 400
    assert portal.get("/auditor/").status_code == 302


def test_api_needs_no_csrf_token(client, make_user):
    """The JSON API under /api is exempt: a token request without any CSRF token works."""
    username = make_user("auditor")
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200
    assert resp.get_json()["token"]


def test_limits_storage_uri_follows_the_redis_url():
    """The embedded Redis's unix socket is spelled redis+unix:// for the limits library; TCP URLs pass through."""
    assert limits.storage_uri("unix:///tmp/x/redis.socket") == "redis+unix:///tmp/x/redis.socket"
    assert limits.storage_uri("redis://127.0.0.1:6379/15") == "redis://127.0.0.1:6379/15"
    assert limits.storage_uri(None) == "memory://"


@pytest.fixture
def rate_limited(app) -> Iterator[None]:
    """Rate limiting on, at three attempts an hour (the suite runs with it off)."""
    saved = (app.config["RATELIMIT_ENABLED"], app.config["LOGIN_RATE_LIMIT"])
    app.config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per hour")
    try:
        yield
    finally:
        app.config.update(RATELIMIT_ENABLED=saved[0], LOGIN_RATE_LIMIT=saved[1])


def test_api_token_is_rate_limited_with_the_json_envelope(rate_limited, client, make_user):
    """The fourth token request for one username from one address within the hour is a 429 in the error envelope."""
    username = make_user("auditor")
    for _ in range(3):
        guess = client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-guess"})
        assert guess.status_code == 401
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 429
    body = resp.get_json()
    assert body["error"]["code"] == "rate_limited"
    assert set(body["error"]) == {"code", "message", "details"}
    other = make_user("auditor")
    assert client.post("/api/v1/auth/token", json={"username": other, "password": PASSWORD}).status_code == 200


def test_portal_login_is_rate_limited_with_a_friendly_page(rate_limited, portal, make_user):
    """The fourth sign-in attempt at one account is refused with a page asking to wait, even with the right password."""
    username = make_user("auditor")
    for _ in range(3):
        assert portal.login(username, "wrong-guess").status_code == 200
    resp = portal.login(username)
    assert resp.status_code == 429
    assert "尝试次数过多" in resp.get_data(as_text=True)
    assert resp.headers["Retry-After"]
    assert portal.get("/auditor/").status_code == 302


def test_portal_and_api_share_the_budget_of_one_account(rate_limited, portal, client, make_user):
    """Guesses through the portal count against the same account on the API."""
    username = make_user("auditor")
    for _ in range(3):
        portal.login(username, "wrong-guess")
    assert client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).status_code == 429


def test_rate_limit_off_lets_every_attempt_through(portal, make_user):
    """With RATELIMIT_ENABLED false (the suite's setting) repeated failures are never 429."""
    username = make_user("auditor")
    for _ in range(12):
        assert portal.login(username, "wrong-guess").status_code == 200
