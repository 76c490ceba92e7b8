"""The community figures page: points earned and redeemed per community move when a
family earns and redeems; the page draws them as charts, in Chinese, and the XLSX
carries the same numbers with a total row; partners are refused."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from broker.community import figures, points, points_shop
from broker.platform import db
from tests.support import money
from tests.support import points as enrolled


def test_figures_move_with_earning_and_redeeming(make_user, new_portal):
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    item = enrolled.item(s, price=10, stock=5)
    before = figures.community_figures(s).total
    points.earn(s, h.id, activity="escort", minutes=90, source_ref="f:1")
    points_shop.redeem(s, h.id, item.id)
    db.commit()
    after = figures.community_figures(db.session())
    row = next(r for r in after.rows if r.community == enrolled.COMMUNITY)
    assert (before.earned, before.redeemed) == (0, 0)
    assert (row.households, row.minutes, row.earned, row.redeemed, row.redemptions) == (1, 90, 15, 10, 1)

    auditor = new_portal()
    auditor.login(make_user("auditor"))
    page = auditor.text("/community/figures")
    assert "各社区获得积分" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="points-earned"' in page
    assert "1 户家庭参加志愿服务 1.5 小时，获得 15 积分" in page
    sheet = auditor.get("/community/figures.xlsx")
    cells = [c for r in load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True) for c in r]
    assert enrolled.COMMUNITY in cells
    assert "合计" in cells or "总计" in cells
    ledger = auditor.text("/auditor/ledger")
    assert "获得积分" in ledger
    assert "15 积分" in ledger
    partner = new_portal()
    partner.login(make_user("partner", partner_id=money.partner(db.session()).id))
    assert partner.get("/community/figures").status_code == 403
