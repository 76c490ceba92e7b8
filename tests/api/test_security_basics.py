"""Basic hardening seen from outside: password guessing is throttled on both doors (the
API's token endpoint and the portal's sign-in form) with a 429 each client understands,
and every page a signed-in user can reach, error pages included, carries headers that
keep it from being framed, sniffed or fed a foreign script.

(Tokens stored hashed and no secret in the repository are proved in test_skeleton.py and
test_secrets.py.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_access_matrix import API, ROLES, TABLE, Page, build_scenario
from tests.conftest import PASSWORD
from tests.support.servers import free_port

LIMIT = 3
ROOT = Path(__file__).resolve().parents[2]
_EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture
def throttled(app) -> Iterator[None]:
    """The sign-in limit switched on (the suite runs with it off), at LIMIT a minute."""
    saved = {key: app.config.get(key) for key in ("RATELIMIT_ENABLED", "LOGIN_RATE_LIMIT")}
    app.config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT=f"{LIMIT} per minute")
    try:
        yield
    finally:
        app.config.update(saved)


def test_token_endpoint_throttles_guessing_with_the_json_envelope(client, make_user, throttled):
    """After LIMIT wrong passwords for one account the API answers 429 in the error envelope
    with Retry-After — even to the right password — while another account is unaffected."""
    victim, bystander = make_user("admin"), make_user("auditor")
    for _ in range(LIMIT):
        resp = client.post(f"{API}/auth/token", json={"username": victim, "password": "guess-1234"})
        assert resp.status_code == 401
    resp = client.post(f"{API}/auth/token", json={"username": victim, "password": PASSWORD})
    assert resp.status_code == 429
    assert resp.mimetype == "application/json"
    error = resp.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert set(error) == {"code", "message", "details"}
    assert int(resp.headers["Retry-After"]) > 0
    assert "token" not in resp.get_json()
    assert client.post(f"{API}/auth/token", json={"username": bystander, "password": PASSWORD}).status_code == 200


def test_portal_sign_in_throttles_guessing_with_a_page(app, make_user, throttled):
    """The sign-in form turns away the attempt after LIMIT wrong passwords with a 429 page
    (HTML, Retry-After), the right password included, and no session is started."""
    victim = make_user("auditor")
    page = Page(app, None)
    for _ in range(LIMIT):
        resp = page.call("POST", "/login", {"username": victim, "password": "guess-1234"}, True)
        assert resp.status_code == 200  # the form again, with the error on it
    resp = page.call("POST", "/login", {"username": victim, "password": PASSWORD}, True)
    assert resp.status_code == 429
    assert resp.mimetype == "text/html"
    assert int(resp.headers["Retry-After"]) > 0
    assert page.client.get("/auditor/").status_code == 302  # still signed out


def test_both_doors_share_one_count(app, client, make_user, throttled):
    """Guesses through the API and through the portal add up: switching doors does not
    buy an attacker more attempts."""
    victim = make_user("caseworker")
    client.post(f"{API}/auth/token", json={"username": victim, "password": "guess-1"})
    page = Page(app, None)
    for _ in range(LIMIT - 1):
        page.call("POST", "/login", {"username": victim, "password": "guess-2"}, True)
    assert client.post(f"{API}/auth/token", json={"username": victim, "password": PASSWORD}).status_code == 429


REDIS_DOWN_SCRIPT = """
import json, sys, tempfile
from broker.factory import create_app
from broker.platform import db, migrate
from broker.people import users
folder = tempfile.mkdtemp()
app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": f"sqlite:///{folder}/x.sqlite3",
                  "REDIS_URL": sys.argv[1], "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
migrate.upgrade()
users.create_user(db.session(), username="clerk", password="right-pass-1", role="auditor")
db.commit()
client = app.test_client()
token = lambda pw: client.post("/api/v1/auth/token", json={"username": "clerk", "password": pw}).status_code
seen = [token("right-pass-1")] + [token("wrong-pass-1") for _ in range(3)] + [token("right-pass-1")]
print("STATUSES " + json.dumps(seen))
"""


def test_signing_in_survives_redis_down_and_stays_throttled():
    """With the limiter's Redis unreachable, signing in still works (no 500, nobody locked
    out) and guessing is still cut off — counted in the process's memory meanwhile."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    out = subprocess.run(
        [sys.executable, "-c", REDIS_DOWN_SCRIPT, dead], capture_output=True, text=True, timeout=180, cwd=ROOT
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("STATUSES ")), None)
    assert line, out.stderr[-3000:]
    assert json.loads(line.removeprefix("STATUSES ")) == [200, 401, 401, 429, 429]


def _check_page_headers(path: str, resp) -> list[str]:
    problems = []
    headers = resp.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    if "default-src" not in directives or directives["default-src"] != "default-src 'self'":
        problems.append(f"{path}: CSP default-src is not 'self' only: {csp!r}")
    if directives.get("frame-ancestors") != "frame-ancestors 'none'":
        problems.append(f"{path}: CSP does not forbid framing: {csp!r}")
    if re.search(r"https?:|\*|unsafe-inline|unsafe-eval|data:\s*;?\s*$", directives.get("script-src", "x")):
        problems.append(f"{path}: script-src allows more than this origin: {csp!r}")
    if re.search(r"https?:|//|\*", csp):
        problems.append(f"{path}: CSP names an external source: {csp!r}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{path}: no X-Content-Type-Options: nosniff")
    if headers.get("X-Frame-Options") != "DENY":
        problems.append(f"{path}: X-Frame-Options is {headers.get('X-Frame-Options')!r}")
    if headers.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"):
        problems.append(f"{path}: Referrer-Policy is {headers.get('Referrer-Policy')!r}")
    if resp.mimetype == "text/html":
        html = resp.get_data(as_text=True)
        for found in _EXTERNAL.finditer(html):
            problems.append(f"{path}: loads or links an external resource: {html[found.start() : found.end() + 40]!r}")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html):
            problems.append(f"{path}: has an inline script")
    return problems


def test_every_page_carries_the_security_headers(app, make_user, login, as_role, worker):
    """Every portal page every role can open — and the 403 and 404 pages they meet — allow
    only this origin (no CDN, no inline script), cannot be framed, are not sniffed, and
    keep the referrer at home; API answers are not sniffed nor framed either."""
    s = build_scenario(app, make_user, login, as_role, worker)
    problems = []
    seen = 0
    for role in ROLES:
        page = s.page(role)
        for (method, rule), row in sorted(TABLE.items()):
            if method != "GET" or rule.startswith("/api/") or row.fresh or row.expect[role] not in (200, 403, 404):
                continue
            path, _body = s.fill(row, role, succeeds=True)
            resp = page.call("GET", path, None, False)
            assert resp.status_code == row.expect[role], (path, role, resp.status_code)
            if resp.mimetype in ("text/html", "text/css") or resp.status_code >= 400:
                problems += _check_page_headers(f"{role} {path}", resp)
                seen += 1
        missing = page.client.get("/caseworker/households/999999999")
        problems += _check_page_headers(f"{role} (no such household)", missing)
    assert seen > 40, "the walk should have covered the portal's pages for every role"
    for path in ("/api/v1/requests", "/api/v1/no-such-thing", "/healthz"):
        resp = s.api["caseworker"].get(path)
        if resp.headers.get("X-Content-Type-Options") != "nosniff" or resp.headers.get("X-Frame-Options") != "DENY":
            problems.append(f"{path}: API answer without nosniff / DENY")
    assert not problems, "\n".join(problems)
