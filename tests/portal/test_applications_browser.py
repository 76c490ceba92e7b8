"""An application filed for a family (代办) in a real headless Chromium, in Chinese: from
the household's policy package, a phone photo of a document, the paper checklist, the
step with the department's reference number, the filled form downloaded and opened, the
list of applications in progress. Every page fits a 375-px phone; screenshots at 375
and 1280 px go to tests/artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from docx import Document
from sqlalchemy import select

from broker.platform import db
from broker.policy import catalogue
from models import Application, ApplicationFile
from tests.conftest import PASSWORD
from tests.portal.test_browser import Visitor
from tests.support.images import png
from tests.support.registry_data import make_grids, vendor_family

pytestmark = pytest.mark.browser


@pytest.fixture
def tab(chromium, live_server, screenshots) -> Iterator[Visitor]:
    visitor = Visitor(chromium, live_server, screenshots, "zh")
    yield visitor
    problems = list(visitor.problems)
    visitor.close()
    assert problems == [], "the browser reported Content-Security-Policy violations"


def _application() -> Application:
    db.session.remove()
    app = db.session().execute(select(Application)).scalar_one()
    db.session().refresh(app)
    return app


def test_file_and_advance_an_application_with_a_photo_and_print_the_form(as_role, make_user, login, tab, tmp_path: Any):
    make_grids(as_role("admin"))
    caseworker = make_user("caseworker", grids=("HD-ZGC-01",))
    body = vendor_family()
    hid = login(caseworker).post("/api/v1/households", json=body).get_json()["id"]
    db.session.remove()
    page = tab.page
    tab.sign_in(caseworker, PASSWORD)

    tab.goto(f"/caseworker/households/{hid}")
    package = page.locator("details#details-policy")
    package.locator("summary").click()  # folded on the household page until opened
    assert "家庭人均月收入 ¥480，低于本地低保标准 ¥1,110" in package.inner_text()
    assert "income_per_capita_fen" not in package.inner_text()
    tab.shoot("household-policy-package")
    page.set_viewport_size({"width": 375, "height": 900})
    package.screenshot(path=str(tab.shots / "household-policy-package-section-375px.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    package.locator('a[href*="policy=dibao"]').click()
    page.get_by_role("heading", name="符合条件的理由").wait_for()
    tab.shoot("application-new")
    page.get_by_label("备注（可选）").fill("走访时户主同意代办")
    page.get_by_role("button", name="开始代办").click()
    page.get_by_text("已开始代办：请按材料清单收集材料。").wait_for()

    # A phone photo of the household register: the camera input, then the upload.
    doc = page.locator("#doc-id_and_hukou")
    file_input = doc.locator('input[type="file"]')
    assert file_input.get_attribute("accept") == "image/*"
    assert file_input.get_attribute("capture") == "environment"
    file_input.set_input_files({"name": "hukou.png", "mimeType": "image/png", "buffer": png(320, 240)})
    doc.get_by_role("button", name="上传照片").click()
    page.get_by_text("照片已保存，该项材料已勾选。").wait_for()
    assert page.locator("#doc-id_and_hukou").get_by_role("link", name="照片 1").count() == 1

    # The rest on paper: tick them all.
    for document in catalogue.current().get("dibao").documents:
        box = page.get_by_label(document.label, exact=True)
        if not box.is_checked():
            box.check()
    page.get_by_role("button", name="保存材料清单").click()
    page.get_by_text("材料清单已保存。").wait_for()
    tab.shoot("application-checklist")

    # Handing it in without the reference number is refused in Chinese, then done right.
    page.get_by_label("下一步").select_option(label="已递交")
    page.get_by_role("button", name="记录进度").click()
    page.get_by_text("请填写部门受理时给出的受理编号。").wait_for()
    page.get_by_label("部门受理编号").fill("民受〔2026〕118号")
    page.get_by_role("button", name="记录进度").click()
    page.get_by_text("进度已记录：已递交。").wait_for()
    assert "还有 30 天" in page.locator("main").inner_text()

    with page.expect_download() as download:
        page.get_by_role("button", name="下载申请表打印").click()
    saved = tmp_path / "form.docx"
    download.value.save_as(str(saved))
    assert re.fullmatch(r"application-\d+-dibao\.docx", download.value.suggested_filename)
    form = Document(str(saved))
    cells = {c.text for t in form.tables for row in t.rows for c in row.cells}
    assert form.paragraphs[0].text == "最低生活保障申请书"
    assert body["members"][0]["id_number"] in cells
    assert "民受〔2026〕118号" in cells
    assert any("家庭人均月收入 ¥480" in p.text for p in form.paragraphs)

    page.get_by_label("下一步").select_option(label="审核中")
    page.get_by_role("button", name="记录进度").click()
    page.get_by_text("进度已记录：审核中。").wait_for()
    tab.shoot("application-under-review")

    app = _application()
    assert app.status == "under-review"
    assert app.reference == "民受〔2026〕118号"
    assert [s.status for s in app.steps] == ["documents-gathering", "submitted", "under-review"]
    files = db.session().execute(select(ApplicationFile)).scalars().all()
    assert [(f.document_code, f.content_type) for f in files] == [("id_and_hukou", "image/png")]
    db.session.remove()

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="代办申请").click()
    page.get_by_role("heading", name="办理中的申请").wait_for()
    assert "民受〔2026〕118号" in page.locator("main").inner_text()
    tab.shoot("applications")
