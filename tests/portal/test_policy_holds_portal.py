"""Policy before charity on the household page: each request shows what a government
policy holds back (how much, which policy, waiting for which application) in Chinese and
English, the timeline says so, and the caseworker's override form — with its reason,
safe to send twice — routes the whole amount once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from broker.platform import db
from models import AuditEvent, Offer, PolicyHold
from tests.portal.test_once import flashes, once_key
from tests.support.aid import YUAN, make_world, need


@dataclass
class Held:
    caseworker: str
    household_id: int
    request_id: int


@pytest.fixture
def held(as_role, make_user, login, worker) -> Held:
    """A family that qualifies for medical assistance and has not applied; its ¥30,000
    medical gap routed: ¥15,000 held for the policy, the rest offered (the charity
    federation answers fastest; the Red Cross is there for what an override releases)."""
    names: dict[str, str] = {}

    def remembering(role: str, **kw):
        names[role] = make_user(role, **kw)
        return names[role]

    world = make_world(as_role, remembering, login)
    world.partner("市慈善总会", categories=["medical"], fund_fen=100000 * YUAN)
    world.partner("红十字会", kind="red_cross", categories=["medical"], respond_within_hours=72, fund_fen=100000 * YUAN)
    household = world.household(
        head="李秀英",
        members=[
            {"name": "李秀英", "relation": "head", "birth_date": "1984-10-12"},
            {"name": "王小军", "relation": "child", "birth_date": "2014-03-02", "conditions": ["leukaemia"]},
        ],
    )
    rid = world.assess(household, need("medical", "critical", 30000 * YUAN, "白血病化疗押金"))["needs"][0]["request_id"]
    worker()
    db.session.remove()
    return Held(caseworker=names["caseworker"], household_id=household, request_id=rid)


def _events(request_id: int, action: str) -> int:
    db.session.remove()
    stmt = select(func.count()).where(AuditEvent.request_id == request_id, AuditEvent.action == action)
    return db.session().execute(stmt).scalar_one()


def test_the_household_page_shows_the_hold_in_chinese_and_english(portal, held):
    """How much, which policy, that nobody has applied yet (with a link to file it), the
    timeline's reason — in Chinese, and in English when the caseworker switches."""
    portal.login(held.caseworker)
    page = portal.text(f"/caseworker/households/{held.household_id}")
    assert f'id="policy-holds-{held.request_id}"' in page
    assert "先政策、后慈善" in page
    assert "为医疗救助保留 ¥15,000：等待家庭提出申请" in page
    assert "为政策保留" in page
    assert "/applications/new?policy=medical_aid" in page
    assert "为政府救助政策保留部分金额" in page  # the timeline's event
    assert "情况紧急？立即全额链接" in page
    assert 'style="' not in page.split(f'id="policy-holds-{held.request_id}"', 1)[1].split("</section>", 1)[0]
    portal.post("/language", {"locale": "en"})
    english = portal.text(f"/caseworker/households/{held.household_id}")
    assert "Policy before charity" in english
    assert "¥15,000 held for Medical assistance: waiting for the household to apply" in english
    assert "Urgent? Route the whole amount now" in english


def test_the_override_form_sent_twice_routes_the_whole_amount_once(portal, held, worker):
    """Without a reason the form says so in Chinese and nothing moves; with one, the hold
    is overridden once however often the form is sent, and the held half is offered."""
    portal.login(held.caseworker)
    path = f"/caseworker/requests/{held.request_id}/policy-override"
    page = portal.text(f"/caseworker/households/{held.household_id}")
    empty = portal.post(path, {"back": "household", "once_key": once_key(page, path), "reason": ""})
    assert empty.status_code == 302
    assert "请说明为什么不能等政策审批结果" in flashes(portal.text(empty.headers["Location"]))
    assert _events(held.request_id, "policy_hold.overridden") == 0
    page = portal.text(f"/caseworker/households/{held.household_id}")
    body = {"back": "household", "once_key": once_key(page, path), "reason": "医院要求本周交化疗押金"}
    first = portal.post(path, body)
    assert first.status_code == 302
    assert "已全额链接" in flashes(portal.text(first.headers["Location"]))
    again = portal.post(path, body)
    assert again.status_code in (302, 303)
    assert _events(held.request_id, "policy_hold.overridden") == 1
    worker()
    db.session.remove()
    hold = db.session().execute(select(PolicyHold)).scalar_one()
    assert (hold.status, hold.reason) == ("overridden", "医院要求本周交化疗押金")
    offered = db.session().execute(select(Offer.amount_fen).where(Offer.request_id == held.request_id)).scalars()
    assert sorted(offered) == [15000 * YUAN, 15000 * YUAN]  # the held half is offered too
    page = portal.text(f"/caseworker/households/{held.household_id}")
    assert "不再等待医疗救助，立即转向慈善组织：医院要求本周交化疗押金" in page
    assert "情况紧急？立即全额链接" not in page
