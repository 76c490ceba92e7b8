"""The caseworker's pages: my grid's households with their open needs, the coverage view,
one household with its members (masked IDs), requests and timelines, and the forms that
record a visit and a needs assessment — with the registry's scope (another grid's
household is not found) and the auditor's (reads, never writes)."""

from __future__ import annotations

from sqlalchemy import select

from broker.platform import db
from models import AidRequest, Visit
from tests.portal.conftest import ID_NUMBER, another_id_number, build_loop


def _requests(household_id: int) -> list[AidRequest]:
    db.session.remove()
    return list(
        db.session()
        .execute(select(AidRequest).where(AidRequest.household_id == household_id).order_by(AidRequest.id))
        .scalars()
        .all()
    )


def test_home_lists_my_households_with_open_needs(portal, loop):
    """My households, each with its open needs by category, status and routing state, in Chinese."""
    portal.login(loop.caseworker)
    html = portal.text("/caseworker/")
    assert "张建国" in html
    assert "医疗援助" in html
    assert "¥1,234.50" in html
    assert "办理中" in html
    assert "已发给合作方" in html
    assert "没有合作方能承接的需求" not in html  # nothing unmatched, no such section


def test_search_finds_a_household_by_member_name(portal, loop):
    """The search box finds the family by a member's name, and finds nothing for a stranger."""
    portal.login(loop.caseworker)
    assert "张建国" in portal.text("/caseworker/?q=张小明")
    assert "未找到住户" in portal.text("/caseworker/?q=不存在的人")


def test_household_page_shows_masked_ids_requests_and_routing_reasons(portal, loop):
    """The household page masks ID numbers, lists each request with its offers, and the
    timeline says why the partner was asked."""
    portal.login(loop.caseworker)
    html = portal.text(f"/caseworker/households/{loop.household_id}")
    assert ID_NUMBER not in html
    assert ID_NUMBER[:6] + "********" + ID_NUMBER[14:] in html
    assert "张小明" in html
    assert "已完成匹配" in html  # the routing event
    assert f"在 {loop.grid} 提供医疗援助" in html  # the domain's routing reason, in the reader's language
    assert "serves" not in html
    assert "[身份证号已隐去]" in html  # the ID typed into the need's description, removed in Chinese
    assert "红十字会" in html
    assert "政策包" in html


def test_another_grids_household_is_not_found(new_portal, as_role, make_user, login, worker):
    """A caseworker of another grid typing this household's address gets 404, and cannot write to it."""
    first = build_loop(as_role, make_user, login, worker)
    second = build_loop(as_role, make_user, login, worker, id_number=another_id_number(11))
    outsider = new_portal()
    outsider.login(second.caseworker)
    assert outsider.get(f"/caseworker/households/{first.household_id}").status_code == 404
    assert outsider.get(f"/caseworker/households/{first.household_id}/visit").status_code == 404
    resp = outsider.post(f"/caseworker/households/{first.household_id}/visit", {"channel": "routine"})
    assert resp.status_code == 404
    home = outsider.text("/caseworker/")
    assert f"/caseworker/households/{second.household_id}" in home
    assert f"/caseworker/households/{first.household_id}" not in home


def test_recording_a_visit_takes_the_household_off_the_coverage_list(portal, loop):
    """A never-visited household is on the coverage list; after a visit through the form it is not."""
    portal.login(loop.caseworker)
    before = portal.text("/caseworker/coverage?days=30")
    assert "从未走访" in before
    assert "张建国" in before
    resp = portal.submit(
        f"/caseworker/households/{loop.household_id}/visit",
        {"channel": "holiday", "visited_at": "", "findings": "春节慰问，孩子住院，母亲陪护"},
    )
    assert resp.status_code == 302
    visit = db.session().execute(select(Visit).where(Visit.household_id == loop.household_id)).scalar_one()
    assert visit.channel == "holiday"
    after = portal.text("/caseworker/coverage?days=30")
    assert "本时段内所有住户均已走访" in after
    assert "节日慰问" in portal.text(f"/caseworker/households/{loop.household_id}")


def test_a_visit_in_the_future_is_refused_with_a_message(portal, loop):
    """The domain refuses a visit dated in the future; the form says so and nothing is saved."""
    portal.login(loop.caseworker)
    resp = portal.submit(
        f"/caseworker/households/{loop.household_id}/visit",
        {"channel": "routine", "visited_at": "2999-01-01T10:00", "findings": ""},
    )
    assert resp.status_code == 422
    assert 'class="flash flash-error"' in resp.get_data(as_text=True)
    assert db.session().execute(select(Visit)).first() is None


def test_assessment_form_creates_requests_that_are_routed(portal, loop, worker):
    """An assessment with three needs (amount typed "3,000.00" yuan) creates three
    requests, routed as it is saved; the flash says truthfully, need by need, what
    happened — offered to a partner, or no partner could take it (employment)."""
    portal.login(loop.caseworker)
    resp = portal.submit(
        f"/caseworker/households/{loop.household_id}/assessment",
        {
            "summary": "开学前复访",
            "needs-0-category": "schooling",
            "needs-0-urgency": "high",
            "needs-0-amount": "3,000.00",
            "needs-0-description": "两个孩子的学杂费",
            "needs-1-category": "",
            "needs-1-urgency": "normal",
            "needs-2-category": "counselling",
            "needs-2-urgency": "normal",
            "needs-2-amount": "",
            "needs-2-description": "孩子的心理疏导",
            "needs-3-category": "employment",
            "needs-3-urgency": "normal",
            "needs-3-description": "父亲失业，求职",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    created = _requests(loop.household_id)[2:]
    assert [(r.category, r.amount_fen) for r in created] == [
        ("schooling", 300000),
        ("counselling", None),
        ("employment", None),
    ]
    assert [(r.status, r.routing_state) for r in created] == [
        ("active", "offered"),
        ("active", "offered"),
        ("active", "unmatched"),
    ]
    page = portal.get(resp.headers["Location"]).get_data(as_text=True)
    assert "助学帮扶：已发给 1 个合作方。" in page
    assert "心理慰藉：已发给 1 个合作方。" in page
    assert "就业支持：没有合作方能承接，已列在您的待办最前面。" in page
    worker()  # the routing jobs written with the requests find nothing more to do
    assert [r.routing_round for r in _requests(loop.household_id)[2:]] == [1, 1, 0]


def test_assessment_money_need_without_amount_is_explained_on_its_row(portal, loop):
    """A medical need without an amount is the domain's refusal, shown on that row; nothing is saved."""
    portal.login(loop.caseworker)
    resp = portal.submit(
        f"/caseworker/households/{loop.household_id}/assessment",
        {"needs-0-category": "medical", "needs-0-urgency": "high", "needs-0-amount": ""},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "未通过" in html
    assert "required for medical needs" in html
    assert len(_requests(loop.household_id)) == 2


def test_assessment_amount_with_three_decimals_is_refused(portal, loop):
    """ "12.345" yuan is refused by the form before anything reaches the domain."""
    portal.login(loop.caseworker)
    resp = portal.submit(
        f"/caseworker/households/{loop.household_id}/assessment",
        {"needs-0-category": "living", "needs-0-urgency": "normal", "needs-0-amount": "12.345"},
    )
    assert resp.status_code == 400
    assert "最多保留两位小数" in resp.get_data(as_text=True)


def test_assessment_needs_at_least_one_need(portal, loop):
    """An assessment with every row blank is refused with a message."""
    portal.login(loop.caseworker)
    resp = portal.submit(f"/caseworker/households/{loop.household_id}/assessment", {"summary": "只是看看"})
    assert resp.status_code == 400
    assert "请至少填写一项需求" in resp.get_data(as_text=True)


def test_auditor_reads_the_household_but_cannot_post(portal, loop):
    """An auditor may read a household page (without forms) but posting a visit is refused."""
    portal.login(loop.auditor)
    html = portal.text(f"/caseworker/households/{loop.household_id}")
    assert "登记走访" not in html
    assert ID_NUMBER not in html
    resp = portal.post(f"/caseworker/households/{loop.household_id}/visit", {"channel": "routine"})
    assert resp.status_code == 403
    resp = portal.post(f"/caseworker/households/{loop.household_id}/assessment", {"needs-0-category": "living"})
    assert resp.status_code == 403


def test_partner_cannot_open_household_pages(portal, loop):
    """Partners never see the registry."""
    portal.login(loop.partner)
    assert portal.get(f"/caseworker/households/{loop.household_id}").status_code == 403
    assert portal.get("/caseworker/coverage").status_code == 403
