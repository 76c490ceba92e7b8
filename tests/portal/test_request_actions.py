"""The caseworker steers a request from the household page with the domain's own
actions: hold and resume, withdraw with a coded reason (asked for in Chinese when
missing), and complete as it is when a partner covered part of it. Each form has its
own one-time key: sent twice, the action happens once."""

from __future__ import annotations

from sqlalchemy import func, select

from broker.platform import db
from models import AidRequest, AuditEvent
from tests.portal.test_once import flashes, once_key


def _request(request_id: int) -> AidRequest:
    db.session.remove()
    return db.session().get(AidRequest, request_id)


def _events(request_id: int, action: str) -> int:
    db.session.remove()
    stmt = select(func.count()).where(AuditEvent.request_id == request_id, AuditEvent.action == action)
    return db.session().execute(stmt).scalar_one()


def _act(portal, loop, request_id: int, action: str, **fields: str):
    """Open the household page, and send the action's form for this request with its key."""
    page = portal.text(f"/caseworker/households/{loop.household_id}")
    path = f"/caseworker/requests/{request_id}/{action}"
    body = {"back": "household", "once_key": once_key(page, path), **fields}
    return portal.post(path, body), body


def test_hold_sent_twice_holds_once_and_resume_takes_it_up_again(portal, loop):
    """Hold (with a reason) posted twice: one hold on the audit chain, and the second
    post lands where the first did, with the same message; resume makes it active again."""
    portal.login(loop.caseworker)
    medical = loop.request_ids[0]
    resp, body = _act(portal, loop, medical, "hold", reason="家属外出")
    assert resp.status_code == 302
    assert _request(medical).status == "on-hold"
    again = portal.post(f"/caseworker/requests/{medical}/hold", body)
    assert again.status_code in (302, 303)
    assert f"请求 {medical} 已暂缓。" in flashes(portal.text(again.headers["Location"]))  # the same answer
    assert _events(medical, "request.held") == 1
    resp, _body = _act(portal, loop, medical, "resume")
    assert resp.status_code == 302
    assert _request(medical).status == "active"
    assert _events(medical, "request.resumed") == 1


def test_withdrawing_asks_for_the_reason_in_chinese_then_withdraws_with_its_code(portal, loop):
    """Withdraw without a reason: a Chinese message, the request stays open; with the
    reason "the family moved away" it is withdrawn with that code and the page says why."""
    portal.login(loop.caseworker)
    counselling = loop.request_ids[1]
    resp, _body = _act(portal, loop, counselling, "withdraw", reason_code="")
    assert resp.status_code == 302
    assert "请选择撤回原因" in flashes(portal.text(resp.headers["Location"]))
    assert _request(counselling).status == "active"
    resp, _body = _act(portal, loop, counselling, "withdraw", reason_code="family_moved", note="迁往外省")
    assert resp.status_code == 302
    req = _request(counselling)
    assert (req.status, req.status_reason) == ("revoked", "family_moved")
    page = portal.text(f"/caseworker/households/{loop.household_id}")
    assert "家庭已迁出" in page


def test_a_partly_covered_request_is_completed_as_it_is(portal, new_portal, loop):
    """A partner takes ¥500 of ¥1,234.50: the request is partly covered; the caseworker
    completes it as it is — once, however often the form is sent."""
    partner = new_portal()
    partner.login(loop.partner)
    offer_id = loop.offer_ids[0]
    page = partner.text(f"/partner/offers/{offer_id}")
    accept = f"/partner/offers/{offer_id}/accept"
    assert partner.post(accept, {"amount": "500", "once_key": once_key(page, accept)}).status_code == 302
    medical = loop.request_ids[0]
    assert _request(medical).routing_state == "partly-covered"

    portal.login(loop.caseworker)
    resp, body = _act(portal, loop, medical, "complete", note="家属表示余款已自筹")
    assert resp.status_code == 302
    assert _request(medical).status == "completed"
    portal.post(f"/caseworker/requests/{medical}/complete", body)
    assert _events(medical, "request.completed") == 1
    page = portal.text(f"/caseworker/households/{loop.household_id}")
    assert "已结束的请求（1）" in page
