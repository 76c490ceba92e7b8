"""The public concern pages and the pages of those who answer, through the portal's forms:
the same form sent twice files one concern; hostile text is refused on the page, never a
500; a reference that does not exist is a 404 page that says so; the public page is rate
limited per address; a hotline concern is the caseworker's, with its household linked;
the notices page posts nothing when nothing waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from broker.platform import db
from models import Concern
from tests.support.aid import make_world


def _concerns() -> int:
    n = db.session().execute(select(func.count()).select_from(Concern)).scalar_one()
    db.session.remove()
    return n


def test_the_same_public_form_sent_twice_files_one_concern(portal):
    """A double tap: both posts land on the same status page; one concern is filed."""
    portal.get("/concerns/new")
    form = {"kind": "complaint", "description": "补助一直没到", "once_key": "tap-tap-1"}
    first = portal.post("/concerns/new", form)
    second = portal.post("/concerns/new", form)
    assert first.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert _concerns() == 1
    page = portal.text(first.headers["Location"])
    assert "已受理，正在办理" in page
    assert "补助一直没到" not in page


@pytest.mark.parametrize(
    ("description", "status"),
    [("空\x00字", 422), ("长" * 5000, 400), ("", 400)],
)
def test_hostile_text_is_refused_on_the_page(portal, description, status):
    """NUL, far too long, empty: the form comes back with the reason, nothing filed."""
    resp = portal.submit("/concerns/new", {"kind": "complaint", "description": description})
    assert resp.status_code == status
    assert "意见反馈" in resp.get_data(as_text=True)
    assert _concerns() == 0


def test_an_unknown_reference_is_a_page_that_says_so(portal):
    """A reference nobody was given, or nonsense, is answered without a trace of any concern."""
    resp = portal.get("/concerns/status?reference=YJ-0000-0000")
    assert resp.status_code == 404
    assert "没有这个受理编号" in resp.get_data(as_text=True)
    assert portal.get("/concerns/status?reference=" + "%ED%A0%80" * 10).status_code in (400, 404)
    assert portal.get("/concerns/status").status_code == 200


@pytest.fixture
def rate_limited(app) -> Iterator[None]:
    saved = {k: app.config.get(k) for k in ("RATELIMIT_ENABLED", "CONCERN_RATE_LIMIT")}
    app.config.update(RATELIMIT_ENABLED=True, CONCERN_RATE_LIMIT="2 per minute")
    try:
        yield
    finally:
        app.config.update(saved)


def test_the_public_page_is_rate_limited_per_address(rate_limited, portal):
    """The third concern from one address within the minute is a 429 page; two were filed."""
    portal.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for n in range(2):
        assert portal.submit("/concerns/new", {"kind": "other", "description": f"第{n}次"}).status_code == 303
    third = portal.submit("/concerns/new", {"kind": "other", "description": "第三次"})
    assert third.status_code == 429
    assert _concerns() == 2


def test_a_hotline_call_is_the_caseworkers_with_its_household(portal, as_role, make_user, login):
    """Recorded on the portal, the concern is the caseworker's, names the household, and
    shows the caller's phone to them; the notices page refuses to post an empty notice."""
    world = make_world(as_role, make_user, login)
    household = world.household(head="赵大勇")
    name = make_user("caseworker", grids=(world.grid,))
    portal.login(name)
    form = {"kind": "wrong_information", "description": "来电说家庭人口登记错了", "contact_phone": "13700137000"}
    resp = portal.submit("/caseworker/concerns/new", {**form, "household": str(household)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    page = portal.text(resp.headers["Location"])
    assert "13700137000" in page
    assert f"/caseworker/households/{household}" in page
    assert "信息有误" in page
    listed = portal.text("/caseworker/concerns")
    assert "信息有误" in listed
    empty = portal.submit("/caseworker/notices", {"community": "科源社区", "days": "7"})
    assert empty.status_code == 422
