"""The leads' pages without a browser: a courier signs up on the public page and
reports a household with a photo from the phone (a double tap files one report); the
lead shows on the caseworker's day page and list; the caseworker records the visit
from the lead page with a new household, or closes another with a reason; the
reporter's page says that someone went and when; both languages."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from broker.platform import db
from models import Household, Lead, Reporter, Visit
from tests.conftest import PASSWORD
from tests.portal.test_volunteer_pages import _once_key
from tests.support.aid import make_world
from tests.support.images import png


def _join(portal, username: str, **extra: str):
    portal.get("/reporters/join")
    body = {
        "name": "王骑手",
        "phone": "13712345678",
        "kind": "courier",
        "organisation": "美团外卖武昌站",
        "username": username,
        "password": PASSWORD,
        "consent": "y",
        **extra,
    }
    return portal.post("/reporters/join", body)


def _report(portal, html: str, **extra: object):
    body = {
        "once_key": _once_key(html, "/reporter/leads"),
        "address": "科源社区中关村东路8号2单元301",
        "seen": "老人独居，最近几次送餐都没人开门",
        "urgency": "urgent",
        **extra,
    }
    return portal.post("/reporter/leads", body)


def test_a_courier_reports_and_the_caseworker_visits_in_the_portal(new_portal, as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    visitor = new_portal()
    assert "成为移动网格员" in visitor.text("/reporters/join")
    refused = _join(visitor, "rider-1", consent="")
    assert refused.status_code == 400
    assert _join(visitor, "rider-1").status_code == 303
    assert _join(visitor, "rider-1").status_code == 303  # the same sign-up twice: one
    assert db.session().execute(select(func.count()).select_from(Reporter)).scalar_one() == 1
    taken = _join(visitor, "rider-1", password="another-password")
    assert "该用户名已被使用" in taken.get_data(as_text=True)

    rider = new_portal()
    rider.login("rider-1")
    html = rider.text("/reporter/")
    assert "上报一户人家" in html
    where = _report(rider, html, address="某某路1号")
    assert where.status_code == 422
    assert "说明这户人家在哪个社区" in where.get_data(as_text=True)
    html = rider.text("/reporter/")
    key = _once_key(html, "/reporter/leads")
    photo = (io.BytesIO(png()), "photo.png")
    assert _report(rider, html, once_key=key, photo=photo).status_code == 303
    assert _report(rider, html, once_key=key).status_code in (303, 302)  # a double tap
    assert db.session().execute(select(func.count()).select_from(Lead)).scalar_one() == 1
    lead = db.session().execute(select(Lead)).scalar_one()
    assert lead.photo_token
    assert lead.grid_id
    assert "等待走访" in rider.text("/reporter/")

    caseworker = new_portal()
    caseworker.login(make_user("caseworker", grids=(world.grid,)))
    assert "待走访的线索" in caseworker.text("/caseworker/")
    listing = caseworker.text("/caseworker/leads")
    assert f"/caseworker/leads/{lead.id}" in listing
    page = caseworker.text(f"/caseworker/leads/{lead.id}")
    assert "美团外卖武昌站" in page
    assert "记录本次走访" in page
    assert caseworker.get(f"/caseworker/leads/{lead.id}/photo").data == png()
    assert rider.get(f"/caseworker/leads/{lead.id}").status_code == 403
    form = {
        "once_key": _once_key(page, f"/caseworker/leads/{lead.id}/visit"),
        "household": "0",
        "grid": world.grid,
        "head_name": "陈阿婆",
        "sex": "F",
        "birth_date": "1938-04-02",
        "income_yuan": "600",
        "findings": "独居，腿脚不便，需要陪同就医",
    }
    missing = caseworker.post(f"/caseworker/leads/{lead.id}/visit", {**form, "birth_date": ""})
    assert missing.status_code == 422
    form["once_key"] = _once_key(missing.get_data(as_text=True), f"/caseworker/leads/{lead.id}/visit")
    assert caseworker.post(f"/caseworker/leads/{lead.id}/visit", form).status_code == 303
    db.session.remove()
    lead = db.session().get(Lead, lead.id)
    household = db.session().get(Household, lead.household_id)
    assert (lead.status, household.head_name, household.monthly_income_fen) == ("visited", "陈阿婆", 60000)
    assert db.session().get(Visit, lead.visit_id).channel == "neighbour_report"
    mine = rider.text("/reporter/")
    assert "已走访" in mine
    assert "陈阿婆" not in mine
    assert "Visited" in rider.text("/reporter/?lang=en")

    html = rider.text("/reporter/")
    assert _report(rider, html, address="科源社区9号", seen="楼道里有人摔倒").status_code == 303
    other = db.session().execute(select(Lead).where(Lead.status == "new")).scalar_one()
    page = caseworker.text(f"/caseworker/leads/{other.id}")
    close = {"once_key": _once_key(page, f"/caseworker/leads/{other.id}/close"), "reason": "already_known"}
    assert caseworker.post(f"/caseworker/leads/{other.id}/close", close).status_code == 303
    assert "已有人照顾" in rider.text("/reporter/?lang=zh_CN")
    assert "Leads from mobile grid members" in caseworker.text("/caseworker/leads?lang=en")


def test_the_community_figures_show_the_leads(new_portal, as_role, make_user, login):
    """A lead reported and visited shows on the community figures page (its chart and
    the sentence) and in the XLSX export."""
    from openpyxl import load_workbook

    world = make_world(as_role, make_user, login)
    rider = new_portal()
    assert _join(rider, "rider-2").status_code == 303
    rider.login("rider-2")
    assert _report(rider, rider.text("/reporter/")).status_code == 303
    reader = new_portal()
    reader.login(make_user("caseworker", grids=(world.grid,)))
    page = reader.text("/community/figures")
    assert "各社区移动网格员上报的线索" in page
    assert "移动网格员：1 人上报了 1 户" in page
    book = load_workbook(io.BytesIO(reader.get("/community/figures.xlsx").data))
    heads = [c.value for c in book.active[1]]
    assert "上报线索" in heads, heads
