"""The family's points page in the portal, as a caseworker's phone sends it: hours
entered earn points by the rule; a redemption tapped twice with one form key is done
once; more than the family has is refused in Chinese; the statement shows the month and
downloads as an XLSX; an auditor reads, a partner is refused."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from broker.platform import db
from models import Grid, PointsRule, Redemption
from tests.support import money
from tests.support import points as enrolled

_ONCE = re.compile(r'name="once_key"[^>]*value="([0-9a-f]+)"|value="([0-9a-f]+)"[^>]*name="once_key"')


def test_hours_earn_and_a_double_tap_redeems_once(make_user, new_portal):
    s = db.session()
    h = enrolled.family(s)
    enrolled.rules(s)
    item = enrolled.item(s, price=15, stock=5)
    code, hid, item_id = s.get(Grid, h.grid_id).code, h.id, item.id
    db.commit()
    cw = new_portal()
    cw.login(make_user("caseworker", grids=(code,)))
    page = cw.text(f"/caseworker/households/{hid}/points")
    assert "积分超市" in page
    assert "大米 5 公斤" in page
    resp = cw.submit(
        f"/caseworker/households/{hid}/points/earn",
        {"activity": "escort", "minutes": "120", "reference": "签到表-7"},
        page=f"/caseworker/households/{hid}/points",
    )
    assert resp.status_code in (302, 303)
    page = cw.text(f"/caseworker/households/{hid}/points")
    assert "20 积分" in page
    key = next(m.group(1) or m.group(2) for m in _ONCE.finditer(page.split('id="points-shop"')[1]))
    for _ in range(2):
        resp = cw.post(
            f"/caseworker/households/{hid}/points/redeem", {"item_id": str(item_id), "quantity": "1", "once_key": key}
        )
        assert resp.status_code in (302, 303)
    db.session.remove()
    assert db.session().execute(select(func.count()).select_from(Redemption)).scalar_one() == 1
    db.session.remove()
    resp = cw.post(f"/caseworker/households/{hid}/points/redeem", {"item_id": str(item_id), "quantity": "1"})
    assert resp.status_code == 409
    assert "积分不足：该家庭有 5 积分，兑换需要 15 积分。" in resp.get_data(as_text=True)

    statement = cw.text(f"/caseworker/households/{hid}/points/statement")
    assert "月末余额：5" in statement
    sheet = cw.get(f"/caseworker/households/{hid}/points/statement?format=xlsx")
    ws = load_workbook(io.BytesIO(sheet.data)).active
    assert "兑换 大米 5 公斤 × 1" in [c for row in ws.iter_rows(values_only=True) for c in row]

    auditor = new_portal()
    auditor.login(make_user("auditor"))
    assert auditor.get(f"/caseworker/households/{hid}/points").status_code == 200
    partner = new_portal()
    partner.login(make_user("partner", partner_id=money.partner(db.session()).id))
    assert partner.get(f"/caseworker/households/{hid}/points").status_code == 403


def test_an_admin_sets_the_rules_and_stocks_the_shop(make_user, new_portal):
    """In Chinese, on the admin's page: a rule saved (on the chain), an item added; a
    rule of 0 points an hour is refused and changes nothing."""
    admin = new_portal()
    admin.login(make_user("admin"))
    page = admin.text("/admin/points")
    assert "社区积分规则" in page
    rule = {"community": "张家湾社区", "activity": "visit", "points_per_hour": "5", "monthly_cap": "60"}
    resp = admin.submit("/admin/points/rules", rule, page="/admin/points")
    assert resp.status_code == 303
    item = {"community": "张家湾社区", "name": "理发一次", "kind": "service", "price_points": "20", "stock": "4"}
    assert admin.submit("/admin/points/items", item, page="/admin/points").status_code == 303
    page = admin.text("/admin/points")
    assert "张家湾社区 · 邻里探访 · 每小时 5 积分 · 每月最多 60 积分" in page
    assert "理发一次" in page
    bad = admin.submit("/admin/points/rules", {**rule, "points_per_hour": "0"}, page="/admin/points")
    assert bad.status_code == 422
    db.session.remove()
    assert db.session().execute(select(PointsRule.points_per_hour)).scalars().all() == [5]
    db.session.remove()
