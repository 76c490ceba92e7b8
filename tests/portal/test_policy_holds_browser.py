"""In a real Chromium, on a 375-pixel phone: the household page shows, in Chinese, the
part of a medical need held for medical assistance and why; the caseworker opens the
override, gives the reason, and the held amount goes to routing — the page then says the
need was routed in full, with the reason, and the form is gone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from models import PolicyHold
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.portal.test_policy_holds_portal import held  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser


def _hold_status() -> str:
    db.session.remove()
    status = db.session().execute(select(PolicyHold.status)).scalar_one()
    db.session.remove()
    return status


def test_caseworker_overrides_a_policy_hold_on_a_phone(
    held,  # noqa: F811 - the fixture imported above
    visitors,  # noqa: F811 - the fixture imported above
    worker,
):
    caseworker = visitors("zh")
    page = caseworker.page
    caseworker.sign_in(held.caseworker, PASSWORD)
    caseworker.goto(f"/caseworker/households/{held.household_id}#request-{held.request_id}")
    section = page.locator(f"#policy-holds-{held.request_id}")
    section.get_by_role("heading", name="先政策、后慈善").wait_for()
    assert "为医疗救助保留 ¥15,000：等待家庭提出申请" in section.inner_text()
    section.get_by_text("情况紧急？立即全额链接").click()
    page.set_viewport_size({"width": 375, "height": 900})
    assert caseworker.fits_phone()
    caseworker.shoot("caseworker-policy-hold")

    page.get_by_label("不能等待政策审批的理由").fill("医院要求本周交化疗押金")
    page.locator(f"#policy-override-{held.request_id}").click()
    page.get_by_text(f"第 {held.request_id} 号需求已全额链接").wait_for()
    assert _hold_status() == "overridden"
    worker()
    caseworker.goto(f"/caseworker/households/{held.household_id}#request-{held.request_id}")
    section = page.locator(f"#policy-holds-{held.request_id}")
    text = section.inner_text()
    assert "社工已决定全额链接" in text
    assert "医院要求本周交化疗押金" in text
    assert page.locator(f"#policy-override-{held.request_id}").count() == 0
    caseworker.shoot("caseworker-policy-hold-overridden")
