"""Applications filed for a family (代办) in the portal: filing from the policy package,
photos of documents (checked by their bytes, served only within the household's scope),
the checklist, the steps with the department's reference number, deadlines and
reminders, and the printed form (a real .docx, opened with python-docx). Every form is
sent twice where that could do harm, and bad input gets a clear Chinese message."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
from docx import Document
from sqlalchemy import select, update

from broker.platform import db
from broker.policy import catalogue, document_files, reminders
from models import Application, ApplicationFile, AuditEvent
from models.base import utcnow
from tests.support.images import png
from tests.support.registry_data import make_grids, vendor_family

API = "/api/v1"


@pytest.fixture
def family(as_role, make_user, login, portal):
    """The model-case family on HD-ZGC-01, and its caseworker signed in to the portal."""
    make_grids(as_role("admin"))
    caseworker = make_user("caseworker", grids=("HD-ZGC-01",))
    resp = login(caseworker).post(f"{API}/households", json=vendor_family())
    assert resp.status_code == 201, resp.get_json()
    portal.login(caseworker)
    return {"hid": resp.get_json()["id"], "caseworker": caseworker, "body": vendor_family()}


def key() -> str:
    return uuid.uuid4().hex


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', html)


def start(portal, hid: int, policy: str = "dibao") -> int:
    path = f"/caseworker/households/{hid}/applications/new"
    portal.get(f"{path}?policy={policy}")
    resp = portal.post(path, {"policy": policy, "note": "走访时户主同意代办", "once_key": key()})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rsplit("/", 1)[-1])


def upload(portal, app_id: int, code: str, data: bytes, name: str = "photo.png", mimetype: str = "image/png", **kw):
    portal.get(f"/caseworker/applications/{app_id}")
    body = {"file": (io.BytesIO(data), name, mimetype), "once_key": kw.pop("once_key", key())}
    return portal.post(f"/caseworker/applications/{app_id}/documents/{code}/file", body, follow_redirects=True)


def tick_all(portal, app_id: int) -> None:
    codes = catalogue.current().get("dibao").document_codes()
    portal.get(f"/caseworker/applications/{app_id}")
    resp = portal.post(f"/caseworker/applications/{app_id}/documents", {"ticked": codes, "once_key": key()})
    assert resp.status_code == 302


def step(portal, app_id: int, status: str, **fields):
    portal.get(f"/caseworker/applications/{app_id}")
    body = {"status": status, "once_key": fields.pop("once_key", key()), **fields}
    return portal.post(f"/caseworker/applications/{app_id}/steps", body, follow_redirects=True)


def test_the_package_links_to_filing_and_filing_twice_files_once(family, portal):
    """The household's package offers "代办申请" with the reasons in plain Chinese; the
    form sent twice (a double tap) opens one application, on the audit chain."""
    hid = family["hid"]
    page = portal.text(f"/caseworker/households/{hid}")
    assert f"/caseworker/households/{hid}/applications/new?policy=dibao" in page
    assert "家庭人均月收入 ¥480，低于本地低保标准 ¥1,110" in page
    assert "income_per_capita_fen" not in page
    form = portal.text(f"/caseworker/households/{hid}/applications/new?policy=dibao")
    assert "符合条件的理由" in form
    assert "最低生活保障申请书（户主签字）" in form
    once = key()
    first = portal.post(f"/caseworker/households/{hid}/applications/new", {"policy": "dibao", "once_key": once})
    again = portal.post(f"/caseworker/households/{hid}/applications/new", {"policy": "dibao", "once_key": once})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    apps = db.session().execute(select(Application).where(Application.household_id == hid)).scalars().all()
    assert [(a.policy_code, a.status) for a in apps] == [("dibao", "documents-gathering")]
    actions = db.session().execute(select(AuditEvent.action).where(AuditEvent.object_type == "applications")).all()
    assert [a for (a,) in actions] == ["application.filed"]
    page = portal.text(f"/caseworker/applications/{apps[0].id}")
    assert 'accept="image/*"' in page
    assert 'capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page


def test_an_unknown_policy_or_a_second_open_application_is_refused_in_chinese(family, portal):
    hid = family["hid"]
    resp = portal.get(f"/caseworker/households/{hid}/applications/new?policy=nope", follow_redirects=True)
    assert "请从该户的政策包中选择一项政策。" in flashes(resp.get_data(as_text=True))
    app_id = start(portal, hid)
    page = portal.text(f"/caseworker/households/{hid}/applications/new?policy=dibao")
    assert "这项政策已有一份正在办理的申请。" in page
    assert f"/caseworker/applications/{app_id}" in page


def test_a_photo_ticks_its_document_and_is_shown_only_within_the_households_scope(
    family, portal, new_portal, make_user
):
    """The photo is kept under a random name with its hash, ticks the document, is on the
    audit chain, and is served (no-store, nosniff) to the household's caseworker and the
    auditor; another grid's caseworker gets 404, a partner 403. Sent twice, kept once."""
    app_id = start(portal, family["hid"])
    image = png()
    once = key()
    resp = upload(portal, app_id, "id_and_hukou", image, once_key=once)
    assert "照片已保存，该项材料已勾选。" in flashes(resp.get_data(as_text=True))
    upload(portal, app_id, "id_and_hukou", image, once_key=once)
    files = db.session().execute(select(ApplicationFile)).scalars().all()
    assert len(files) == 1
    kept = files[0]
    assert kept.content_type == "image/png"
    assert kept.size == len(image)
    assert kept.filename == "photo.png"
    assert "photo" not in kept.token
    assert db.session().get(Application, app_id).documents == {"id_and_hukou": True}
    page = portal.text(f"/caseworker/applications/{app_id}")
    assert f"/caseworker/application-files/{kept.id}" in page
    served = portal.get(f"/caseworker/application-files/{kept.id}")
    assert served.status_code == 200
    assert served.data == image
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in served.headers["Cache-Control"]
    actions = [
        a for (a,) in db.session().execute(select(AuditEvent.action).where(AuditEvent.object_id == app_id)).all()
    ]
    assert "application.file_added" in actions
    assert "application.documents" in actions

    stranger = new_portal()
    stranger.login(make_user("caseworker", grids=("HD-ZGC-02",)))
    assert stranger.get(f"/caseworker/application-files/{kept.id}").status_code == 404
    assert stranger.get(f"/caseworker/applications/{app_id}").status_code == 404
    auditor = new_portal()
    auditor.login(make_user("auditor"))
    assert auditor.get(f"/caseworker/application-files/{kept.id}").data == image
    assert auditor.post(f"/caseworker/applications/{app_id}/form").status_code == 403


def test_a_file_that_is_not_an_image_or_too_large_is_refused_in_chinese(family, portal):
    """A text file named .jpg and sent as image/jpeg is refused by its bytes; a photo over
    8 MB is refused naming the limit; an empty form asks for a photo. Never a 500, nothing kept."""
    app_id = start(portal, family["hid"])
    resp = upload(portal, app_id, "income_proof", b"not a picture at all", name="receipt.jpg", mimetype="image/jpeg")
    assert resp.status_code == 200
    assert "只能上传照片或扫描图片（常见图片格式），其他文件不能保存。" in flashes(resp.get_data(as_text=True))
    big = b"\xff\xd8\xff\xe0" + b"\0" * document_files.MAX_BYTES
    resp = upload(portal, app_id, "income_proof", big, name="big.jpg", mimetype="image/jpeg")
    assert resp.status_code == 200
    [message] = flashes(resp.get_data(as_text=True))
    assert message.startswith("照片太大（8.0 MB），最大 8 MB。")
    portal.get(f"/caseworker/applications/{app_id}")
    resp = portal.post(
        f"/caseworker/applications/{app_id}/documents/income_proof/file", {"once_key": key()}, follow_redirects=True
    )
    assert "请先选择照片或扫描图片。" in flashes(resp.get_data(as_text=True))
    resp = upload(portal, app_id, "not_on_the_list", png())
    assert resp.status_code == 200
    assert flashes(resp.get_data(as_text=True))
    assert db.session().execute(select(ApplicationFile)).first() is None
    assert db.session().get(Application, app_id).documents == {}


def test_steps_need_the_documents_and_the_reference_number_and_go_in_order(family, portal):
    """Handing in with documents missing names them; without the department's reference
    number the form says so; a step out of order names the current status; rejecting
    needs a reason. All in Chinese, none a 500; the right step is recorded once."""
    app_id = start(portal, family["hid"])
    resp = step(portal, app_id, "submitted", reference="民受〔2026〕118号")
    assert resp.status_code == 200
    [message] = flashes(resp.get_data(as_text=True))
    assert message.startswith("材料还没有收齐，仍缺：最低生活保障申请书（户主签字）、")
    resp = step(portal, app_id, "approved")
    assert flashes(resp.get_data(as_text=True)) == [
        "这份申请现在是“收集材料中”，不能记为“已批准”。下一步可以是：已递交、已撤回。"
    ]
    tick_all(portal, app_id)
    resp = step(portal, app_id, "submitted", reference="  ")
    assert resp.status_code == 400
    assert "请填写部门受理时给出的受理编号。" in resp.get_data(as_text=True)
    assert db.session().get(Application, app_id).status == "documents-gathering"
    once = key()
    resp = step(portal, app_id, "submitted", reference="民受〔2026〕118号", once_key=once)
    assert "进度已记录：已递交。" in flashes(resp.get_data(as_text=True))
    step(portal, app_id, "submitted", reference="民受〔2026〕118号", once_key=once)
    app = db.session().get(Application, app_id)
    db.session().refresh(app)
    assert app.status == "submitted"
    assert app.reference == "民受〔2026〕118号"
    assert [s.status for s in app.steps] == ["documents-gathering", "submitted"]
    assert app.steps[-1].data["reference"] == "民受〔2026〕118号"
    page = portal.text(f"/caseworker/applications/{app_id}")
    assert "民受〔2026〕118号" in page
    assert "还有 30 天" in page
    resp = step(portal, app_id, "submitted", reference="X-1")
    assert flashes(resp.get_data(as_text=True)) == [
        "这份申请现在是“已递交”，不能记为“已递交”。下一步可以是：审核中、已批准、未获批准、已撤回。"
    ]
    resp = step(portal, app_id, "rejected")
    assert resp.status_code == 400
    assert "请写明部门不予批准的理由。" in resp.get_data(as_text=True)
    resp = step(portal, app_id, "approved", monthly_amount="1,230.50", note="街道审核通过")
    assert "进度已记录：已批准。" in flashes(resp.get_data(as_text=True))
    db.session().refresh(app)
    assert app.status == "approved"


def test_deadlines_and_reminders_are_shown_most_urgent_first(family, portal):
    """The list of applications in progress puts the overdue one first, says it is late
    and that the caseworkers were reminded (by the real reminder job)."""
    first = start(portal, family["hid"], "dibao")
    second = start(portal, family["hid"], "medical_aid")
    for app_id, policy in ((first, "dibao"), (second, "medical_aid")):
        codes = catalogue.current().get(policy).document_codes()
        portal.get(f"/caseworker/applications/{app_id}")
        portal.post(f"/caseworker/applications/{app_id}/documents", {"ticked": codes, "once_key": key()})
        step(portal, app_id, "submitted", reference=f"REF-{app_id}")
    db.session().execute(
        update(Application).where(Application.id == second).values(deadline_at=utcnow() - timedelta(days=3))
    )
    db.session().commit()
    assert reminders.remind_if_overdue(db.session(), second)
    db.session().commit()
    page = portal.text("/caseworker/applications")
    assert page.index("医疗救助") < page.index("最低生活保障")
    assert "已逾期" in page
    detail = portal.text(f"/caseworker/applications/{second}")
    assert "已逾期 3 天" in detail
    assert "提醒社工" in detail


def test_the_printed_form_is_a_filled_word_document(family, portal):
    """The .docx (opened with python-docx) carries the policy's title, the applicant's
    full ID number and the others' masked, the address, the members, the reasons in
    Chinese, the checklist and the reference number; the print is on the audit chain."""
    app_id = start(portal, family["hid"])
    tick_all(portal, app_id)
    step(portal, app_id, "submitted", reference="民受〔2026〕118号")
    portal.get(f"/caseworker/applications/{app_id}")
    resp = portal.post(f"/caseworker/applications/{app_id}/form")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert f"application-{app_id}-dibao.docx" in resp.headers["Content-Disposition"]
    document = Document(io.BytesIO(resp.data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    head, spouse = family["body"]["members"][0], family["body"]["members"][1]
    assert document.paragraphs[0].text == "最低生活保障申请书"
    assert head["id_number"] in cells
    assert spouse["id_number"] not in cells
    assert spouse["id_number"][:6] + "********" + spouse["id_number"][14:] in cells
    assert "海淀区中关村东路18号院3号楼2单元501" in cells
    assert "民受〔2026〕118号" in cells
    assert {"张建国", "李秀兰", "张浩", "张婷", "张磊"} <= set(cells)
    assert "户主" in cells
    assert "· 家庭人均月收入 ¥480，低于本地低保标准 ¥1,110" in text
    assert "☑ 最低生活保障申请书（户主签字）" in text
    assert "{{" not in text + "".join(cells)
    assert "{%" not in text + "".join(cells)
    actions = [
        a for (a,) in db.session().execute(select(AuditEvent.action).where(AuditEvent.object_id == app_id)).all()
    ]
    assert "application.form_printed" in actions


def test_every_shipped_policy_has_a_form_that_fills(family, portal, login):
    """Each shipped policy's template renders without leftover fields (filed over the
    API, which also files for a policy the rule says the family does not meet)."""
    api = login(family["caseworker"])
    for policy in catalogue.current().all():
        resp = api.post(f"{API}/households/{family['hid']}/applications", json={"policy": policy.code})
        assert resp.status_code == 201, resp.get_json()
        app_id = resp.get_json()["id"]
        portal.get(f"/caseworker/applications/{app_id}")
        document = Document(io.BytesIO(portal.post(f"/caseworker/applications/{app_id}/form").data))
        assert document.paragraphs[0].text.startswith(policy.name[:2]), policy.code
        assert "{{" not in "\n".join(p.text for p in document.paragraphs)


def test_the_application_page_reads_in_english_too(family, portal):
    app_id = start(portal, family["hid"])
    portal.post("/language", {"locale": "en"})
    page = portal.text(f"/caseworker/applications/{app_id}")
    assert "Record the next step" in page
    assert "Application form signed by the head of household" in page
    household = portal.text(f"/caseworker/households/{family['hid']}")
    assert "Monthly income per person ¥480, below the local minimum-living line ¥1,110" in household
