"""Follow-up visits (回访) in the portal: an overdue visit heads the caseworker's home page
and shows in the coverage view; the form records "need met, 5" (once, however often it is
sent) or a new need that becomes a new assessment and opens on the household page; the
auditor's dashboard compares response times and outcomes with the previous period, with
charts and exports."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select, update

from broker.platform import db
from models import AidRequest, FollowUp
from models.base import utcnow
from tests.portal.conftest import Loop

API = "/api/v1"


def complete_medical(loop: Loop) -> int:
    """The Red Cross accepts the medical need and pays it in full: the request completes
    and its follow-up visit is scheduled; here its day has passed (overdue)."""
    partner = next(iter(loop.world.partner_clients.values()))
    offer = loop.offer_ids[0]
    assert partner.post(f"{API}/offers/{offer}/accept", json={}).status_code == 200
    paid = partner.post(f"{API}/offers/{offer}/disbursements", json={"amount_fen": 123450, "kind": "cash"})
    assert paid.status_code == 201, paid.get_json()
    visit = db.session().execute(select(FollowUp.id).where(FollowUp.request_id == loop.request_ids[0])).scalar_one()
    db.session().execute(update(FollowUp).where(FollowUp.id == visit).values(due_at=utcnow() - timedelta(days=1)))
    db.commit()
    return visit


def test_an_overdue_visit_is_recorded_from_the_home_page_once(portal, loop):
    """The overdue visit is on the home page and in the coverage view, in Chinese; the form
    records "need met, 5"; sent twice, it is recorded once; then it is off both lists."""
    visit = complete_medical(loop)
    portal.login(loop.caseworker)
    home = portal.text("/caseworker/")
    assert "逾期未回访（1）" in home
    path = f"/caseworker/households/{loop.household_id}/follow-ups/{visit}"
    assert path in home
    coverage = portal.text("/caseworker/coverage")
    assert "逾期未回访（1）" in coverage
    form = portal.text(path)
    assert "需求是否已解决？" in form
    assert "5 — 非常满意" in form
    once_key = form.split('name="once_key" type="hidden" value="')[1].split('"')[0]
    body = {"need_met": "yes", "satisfaction": "5", "notes": "医药费已到位", "once_key": once_key}
    first = portal.post(path, body)
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/caseworker/households/{loop.household_id}#follow-ups-title")
    again = portal.post(path, body)
    assert again.status_code in (302, 303)
    db.session.remove()
    recorded = db.session().get(FollowUp, visit)
    assert (recorded.status, recorded.need_met, recorded.satisfaction) == ("recorded", "yes", 5)
    page = portal.text(f"/caseworker/households/{loop.household_id}")
    assert "需求已解决 · 满意度 5 分（满分5分）" in page
    assert "已于 " in page
    assert "逾期未回访" not in portal.text("/caseworker/")


def test_a_new_need_found_on_the_visit_opens_as_a_new_assessment(portal, loop):
    """A visit that finds a new need saves it as a new assessment and lands on its request."""
    visit = complete_medical(loop)
    portal.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/follow-ups/{visit}"
    resp = portal.submit(
        path,
        {
            "need_met": "partly",
            "satisfaction": "4",
            "notes": "下学期学费还没有着落",
            "new_need-category": "schooling",
            "new_need-urgency": "high",
            "new_need-amount": "1500",
            "new_need-description": "小明下学期学费",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    db.session.remove()
    new_request = db.session().execute(select(AidRequest).where(AidRequest.category == "schooling")).scalar_one()
    assert resp.headers["Location"].endswith(f"#request-{new_request.id}")
    assert (new_request.amount_fen, new_request.household_id) == (150000, loop.household_id)
    assert db.session().get(FollowUp, visit).new_assessment_id is not None
    page = portal.text(resp.headers["Location"])
    assert f'id="request-{new_request.id}"' in page
    assert "小明下学期学费" in page


def test_a_bad_new_need_is_shown_on_its_field_and_nothing_is_saved(portal, loop):
    """A schooling need without an amount is refused on the amount field; the visit stays open."""
    visit = complete_medical(loop)
    portal.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/follow-ups/{visit}"
    resp = portal.submit(
        path, {"need_met": "no", "satisfaction": "2", "new_need-category": "schooling", "new_need-urgency": "high"}
    )
    assert resp.status_code == 400
    assert "请填写这项需求的金额（元）。" in resp.get_data(as_text=True)
    db.session.remove()
    assert db.session().get(FollowUp, visit).status == "scheduled"


def test_the_auditor_sees_how_the_loop_closes_with_charts_and_exports(portal, loop, new_portal):
    """The dashboard has the comparison with the previous period and two charts; the exports
    download as XLSX and CSV with Chinese headers; the auditor cannot record a visit."""
    visit = complete_medical(loop)
    cw = new_portal()
    cw.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/follow-ups/{visit}"
    assert cw.submit(path, {"need_met": "yes", "satisfaction": "5"}).status_code == 302
    portal.login(loop.auditor)
    html = portal.text("/auditor/")
    assert "闭环成效" in html
    assert 'id="answer-hours"' in html
    assert 'id="need-met"' in html
    assert "100.0%" in html
    assert "暂无可比数据" in html
    book = load_workbook(io.BytesIO(portal.get("/auditor/exports/response-times.xlsx").get_data()))
    assert book.active.cell(1, 1).value == "合作方"
    csv_text = portal.get("/auditor/exports/follow-up-outcomes.csv").get_data(as_text=True)
    assert "医疗援助,1,1,0,0,100.0" in csv_text
    assert portal.get(path).status_code == 403
