"""Reversals (红冲) in a real Chromium, in Chinese, on a phone: the partner proposes to
reverse a payment it recorded in error from the offer's page; the auditor finds it on the
dashboard and in the queue and approves it; the ledger then holds the reversal beside the
original. Screenshots at 375 and 1280 px; no page wider than the phone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.platform import db
from models import Disbursement, LedgerTransaction, Reversal
from tests.conftest import PASSWORD
from tests.portal.conftest import build_loop
from tests.portal.test_auditor import _pay
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser


def test_a_partner_proposes_and_an_auditor_approves_a_reversal_on_a_phone(
    as_role,
    make_user,
    login,
    worker,
    visitors,  # noqa: F811 - the fixture imported above
):
    loop = build_loop(as_role, make_user, login, worker)
    _pay(loop, worker)
    offer_id = loop.offer_ids[0]

    partner = visitors("zh")
    partner.page.set_viewport_size({"width": 375, "height": 800})
    partner.sign_in(loop.partner, PASSWORD)
    partner.goto(f"/partner/offers/{offer_id}")
    section = partner.page.get_by_role("region", name="更正录错的发放（红冲）")
    section.get_by_label("录错的内容").fill("银行退回：收款账号有误，家庭未收到")
    partner.shoot("reversal-propose")
    section.get_by_role("button", name="提出红冲").click()
    partner.page.get_by_text("已提出红冲").wait_for()
    assert partner.page.get_by_text("红冲: 待审批").count() == 1
    partner.shoot("reversal-proposed")

    auditor = visitors("zh")
    auditor.page.set_viewport_size({"width": 375, "height": 800})
    auditor.sign_in(loop.auditor, PASSWORD)
    auditor.goto("/auditor/")
    assert auditor.page.get_by_text("银行退回：收款账号有误，家庭未收到").count() == 1
    auditor.page.get_by_role("link", name="去审批").click()
    auditor.page.wait_for_url(lambda url: url.endswith("/auditor/reversals"))
    auditor.shoot("reversal-queue")
    auditor.page.get_by_label("备注（可选）").fill("已核对银行退票通知")
    auditor.page.get_by_role("button", name="批准红冲").click()
    auditor.page.get_by_text("红冲已批准").wait_for()
    assert auditor.page.get_by_text("没有需要审批的红冲。").count() == 1
    auditor.shoot("reversal-decided")

    db.session.remove()
    s = db.session()
    rev = s.scalar(select(Reversal))
    assert rev.status == "approved"
    assert rev.decision_note == "已核对银行退票通知"
    kinds = sorted(s.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.offer_id == offer_id)))
    assert kinds.count("reversal") == 1
    assert s.get(Disbursement, rev.disbursement_id).amount_fen == 123450
