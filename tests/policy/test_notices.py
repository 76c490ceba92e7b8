"""Public notices (公示): a caseworker posts the community's approved applications for
families who agreed to public notice — masked names, household size, aid, amount,
period — as JSON, PDF and XLSX; a family that did not agree is left off, nothing is
posted twice, the notice's code turns a public concern into an objection to it, and
only the community's caseworkers, auditors and admins read notices."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from broker.platform import db
from broker.policy import notice_files, notices
from tests.support.aid import make_world
from tests.support.voice import agree_to_notice, approved_application

API = "/api/v1"
COMMUNITY = "科源社区"


def _posted_world(as_role, make_user, login):
    world = make_world(as_role, make_user, login)
    members = [
        {"name": "王秀英", "relation": "head", "birth_date": "1970-02-03", "sex": "F"},
        {"name": "王小明", "relation": "child", "birth_date": "2012-09-01", "sex": "M"},
    ]
    agreed = world.household(head="王秀英", consent=True, members=members)
    refused = world.household(head="李建华", consent=False)
    agree_to_notice(world.caseworker, agreed)
    approved_application(world.caseworker, agreed, "dibao", monthly_amount_fen=62000)
    approved_application(world.caseworker, refused, "temporary_aid")
    return world


def test_a_notice_posts_masked_names_only_for_families_who_agreed(as_role, make_user, login):
    """Posting takes the approved applications of consenting families: 王** with two in
    the household, the policy's name, ¥620 a month, the period of 7 days; the family who
    did not agree is not on it; posting again finds nothing new (422 nothing_to_post)."""
    world = _posted_world(as_role, make_user, login)
    resp = world.caseworker.post(f"{API}/notices", json={"community": COMMUNITY})
    assert resp.status_code == 201, resp.get_json()
    notice = resp.get_json()
    assert notice["code"].startswith("GS")
    assert notice["state"] == "posted"
    assert [(e["masked_name"], e["household_size"], e["policy"]) for e in notice["entries"]] == [("王**", 2, "dibao")]
    assert notice["entries"][0]["amount_fen"] == 62000
    assert notice["entries"][0]["period"] == "monthly"
    assert notice["entries"][0]["aid"] == "最低生活保障"
    assert (date.fromisoformat(notice["ends_on"]) - date.fromisoformat(notice["starts_on"])).days == 6
    text = resp.get_data(as_text=True)
    assert "王秀英" not in text
    assert "李" not in text
    again = world.caseworker.post(f"{API}/notices", json={"community": COMMUNITY})
    assert again.status_code == 422
    assert again.get_json()["error"]["code"] == "nothing_to_post"
    listed = world.caseworker.get(f"{API}/notices?community={COMMUNITY}").get_json()
    assert [n["code"] for n in listed["items"]] == [notice["code"]]


def test_the_notice_prints_as_pdf_and_xlsx_with_masked_names(as_role, make_user, login):
    """The community's latest notice as a PDF (set in a Chinese font) and as XLSX: the
    masked name is there, the full name never; a file needs the community named."""
    world = _posted_world(as_role, make_user, login)
    code = world.caseworker.post(f"{API}/notices", json={"community": COMMUNITY}).get_json()["code"]
    pdf = world.caseworker.get(f"{API}/notices?community={COMMUNITY}&format=pdf")
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:300]
    assert pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")
    assert b"/FontFile2" in pdf.get_data()  # the Chinese font embedded, so that it prints anywhere
    xlsx = world.caseworker.get(f"{API}/notices?community={COMMUNITY}&format=xlsx")
    assert xlsx.status_code == 200
    cells = [
        str(v)
        for row in load_workbook(io.BytesIO(xlsx.get_data())).active.iter_rows(values_only=True)
        for v in row
        if v is not None
    ]
    assert "王**" in cells
    assert not any("王秀英" in c for c in cells)
    assert any(code in c for c in cells)  # how to object: the code of the public concern page
    assert world.caseworker.get(f"{API}/notices?format=pdf").status_code == 422


def test_a_concern_quoting_the_notice_code_is_an_objection_to_it(as_role, make_user, login, anon):
    """An objection filed on the public door with the notice's code is linked to the
    notice, counted as received during its period, and owned by the caseworker who posted it."""
    world = _posted_world(as_role, make_user, login)
    notice = world.caseworker.post(f"{API}/notices", json={"community": COMMUNITY}).get_json()
    filed = anon.post(
        f"{API}/concerns",
        json={"kind": "objection", "description": "该户有营业收入，不符合条件", "ref": notice["code"].lower()},
    )
    assert filed.status_code == 201, filed.get_json()
    mine = world.caseworker.get(f"{API}/concerns").get_json()["items"]
    assert mine[0]["notice_id"] == notice["id"]
    assert mine[0]["community"] == COMMUNITY
    listed = world.caseworker.get(f"{API}/notices?community={COMMUNITY}").get_json()["items"]
    assert listed[0]["objections"] == 1


def test_only_the_communitys_caseworkers_and_overseers_read_notices(as_role, make_user, login):
    """Partners are refused; a caseworker of another community gets 404 for this one and
    cannot post there; auditors read every notice."""
    world = _posted_world(as_role, make_user, login)
    world.caseworker.post(f"{API}/notices", json={"community": COMMUNITY})
    partner = world.partner("区慈善总会", categories=["living"])
    assert world.partner_clients["区慈善总会"].get(f"{API}/notices").status_code == 403
    assert partner["id"]
    stranger = as_role("caseworker")
    assert stranger.get(f"{API}/notices?community={COMMUNITY}").status_code == 404
    assert stranger.post(f"{API}/notices", json={"community": COMMUNITY}).status_code == 404
    assert stranger.get(f"{API}/notices").get_json()["total"] == 0
    assert as_role("auditor").get(f"{API}/notices").get_json()["total"] == 1


def test_masking_keeps_the_surname_only():
    """王** for a three-character name, 李* for two, * for none; an unknown period as it is."""
    assert notices.mask("王秀英") == "王**"
    assert notices.mask("李明") == "李*"
    assert notices.mask(" ") == "*"
    assert notice_files.period_label("nonsense") == "nonsense"
    db.session.remove()


def test_a_consent_withdrawn_before_posting_keeps_the_family_off_the_notice(as_role, make_user, login):
    """The family agreed to public notice, then withdrew before the notice was posted:
    posting asks at that moment, so the family is not on it (nothing to post)."""
    world = _posted_world(as_role, make_user, login)
    (consent,) = [
        c
        for household in world.caseworker.get(f"{API}/households").get_json()["items"]
        for c in world.caseworker.get(f"{API}/households/{household['id']}/consents").get_json()
        if c["purpose"] == "public_notice"
    ]
    withdrawn = world.caseworker.post(f"{API}/consents/{consent['id']}/withdraw", json={"reason": "家属不愿公示"})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    resp = world.caseworker.post(f"{API}/notices", json={"community": COMMUNITY})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "nothing_to_post"
