"""Fixtures for the portal's tests.

- ``portal``: a browser-like test client that signs in through the login form and sends
  each form's CSRF token, read from the page as a browser would.
- ``loop``: a grid, its caseworker, a partner with money and a household whose needs
  have been routed into the partner's inbox — built through the API and the domain,
  with a real RQ worker carrying out the routing.
- ``live_server`` and ``chromium``: the session's app served by a real HTTP server in a
  thread (same database), and a headless Chromium driven by Playwright.

Browser tests skip, saying why, on a machine without Chromium or Playwright; under CI
(``CI=true``) a missing browser is a failure instead, so that CI cannot pass by skipping.
Screenshots go to ``tests/artifacts/screenshots/``, emptied at the start of the session."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from broker.platform import db
from broker.registry import identity
from tests.conftest import ARTIFACTS, PASSWORD, unique
from tests.support.aid import YUAN, deposit, make_world, need

SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A valid 18-character resident ID (GB 11643 check character) for the demo family.
ID_NUMBER = "11010519850312008X"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def another_id_number(seq: int) -> str:
    """A different valid resident ID, for a second family in one test."""
    return identity.make("310104", date(1979, 11, 2), f"{seq:03d}")


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


class Portal:
    """The Flask test client used like a browser: GET a page, then POST its form with
    the token the page carried."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.token: str | None = None

    def get(self, path: str, **kw: Any) -> Any:
        resp = self.client.get(path, **kw)
        if resp.mimetype == "text/html" and 'name="csrf_token"' in resp.get_data(as_text=True):
            self.token = csrf_token(resp.get_data(as_text=True))
        return resp

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw: Any) -> Any:
        body = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            body.setdefault("csrf_token", self.token)
        return self.client.post(path, data=body, **kw)

    def submit(self, path: str, data: dict | None = None, *, page: str | None = None) -> Any:
        """Open the form's page (``path`` itself unless ``page`` is given), then post the
        form to ``path``, as a person on that page would."""
        self.get(page or path)
        return self.post(path, data)

    def login(self, username: str, password: str = PASSWORD, **extra: str) -> Any:
        """Sign in through the form, then open the page it leads to (a fresh session
        has a fresh CSRF token, as a browser would find on that page)."""
        self.get("/login")
        resp = self.post("/login", {"username": username, "password": password, **extra})
        if resp.status_code == 302:
            self.get(resp.headers["Location"])
        return resp

    def text(self, path: str) -> str:
        resp = self.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        return resp.get_data(as_text=True)


@pytest.fixture
def portal(app) -> Portal:
    """A fresh browser-like client (its own cookies)."""
    return Portal(app.test_client())


@pytest.fixture
def new_portal(app) -> Any:
    """Make more browser-like clients, one per person in a test."""
    return lambda: Portal(app.test_client())


@dataclass
class Loop:
    """One closed loop in the making: who is who, and the ids the tests need."""

    world: Any
    grid: str
    caseworker: str
    partner: str
    partner_id: int
    auditor: str
    household_id: int
    request_ids: list[int]
    offer_ids: list[int]


def build_loop(
    as_role: Any,
    make_user: Any,
    login: Any,
    worker: Any,
    *,
    consent: bool = False,
    needs: tuple[dict, ...] | None = None,
    partner_name: str | None = None,
    id_number: str = ID_NUMBER,
) -> Loop:
    """A grid with its caseworker; the Red Cross with ¥20,000 serving medical and
    counselling needs through the portal; the model family (the son in hospital with
    leukaemia), assessed; and the routing done, so the offers wait in the inbox. The
    diagnosis is in the need's words, not recorded as the son's condition: no policy holds
    part of the medical need back, and partners are offered all of it (policy before
    charity has pages and tests of its own)."""
    made: dict[str, str] = {}

    def remembering(role: str, **kw: Any) -> str:
        """make_user, remembering the names (the world signs its users in over the API;
        the portal signs the same people in through its form)."""
        made[role] = make_user(role, **kw)
        return made[role]

    world = make_world(as_role, remembering, login)
    partner = world.partner(
        partner_name or unique("市红十字会"),
        kind="red_cross",
        categories=["medical", "counselling", "schooling"],
        respond_within_hours=24,
    )
    deposit(partner["id"], 20_000 * YUAN)
    household_id = world.household(
        head="张建国",
        consent=consent,
        members=[
            {"name": "张建国", "relation": "head", "id_number": id_number, "sex": "M"},
            {
                "name": "张小明",
                "relation": "child",
                "birth_date": "2014-09-01",
                "sex": "M",
                "schooling": "primary",
            },
        ],
    )
    assessed = world.assess(
        household_id,
        *(
            needs
            or (
                need(
                    "medical",
                    "high",
                    123450,
                    f"儿子急性白血病，异地住院化疗，医保报销后缺口。户主身份证 {id_number}",
                ),
                need("counselling", "normal", None, "母亲长期陪护，情绪压力大"),
            )
        ),
        summary="入户走访：摊贩家庭，儿子住院",
    )
    worker()
    request_ids = [n["request_id"] for n in assessed["needs"]]
    offers = world.offers_of(partner["name"])
    db.session.remove()
    return Loop(
        world=world,
        grid=world.grid,
        caseworker=made["caseworker"],
        partner=made["partner"],
        partner_id=partner["id"],
        auditor=make_user("auditor"),
        household_id=household_id,
        request_ids=request_ids,
        offer_ids=[o["id"] for o in sorted(offers, key=lambda o: o["request_id"])],
    )


@pytest.fixture
def loop(as_role, make_user, login, worker) -> Loop:
    return build_loop(as_role, make_user, login, worker)


# --- browser ------------------------------------------------------------------------------


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _chromium_path() -> str | None:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def _unavailable(why: str) -> None:
    if _under_ci():
        pytest.fail(f"browser test cannot run under CI: {why}")
    pytest.skip(f"browser test skipped: {why}")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The screenshot folder, emptied once at the start of the session."""
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium for the session (skipped, or failed under CI, when missing)."""
    path = _chromium_path()
    if path is None:
        _unavailable("no Chromium found (install the 'chromium' package or set CHROMIUM_PATH)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        except Error as exc:
            _unavailable(f"Chromium at {path} did not start: {exc.message.splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app behind a real HTTP server on 127.0.0.1 in a thread, sharing the test's
    database and Redis."""
    db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="portal-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
