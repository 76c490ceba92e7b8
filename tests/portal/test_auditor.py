"""The auditor's pages: the dashboard's charts (inline SVG with text kept as text, a title
and description, and the same numbers in a table), the ledger with filters, the audit
chain, and the exports — read-only for the auditor."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from broker.people import users
from broker.platform import db
from broker.referral import offers, payments
from models import User
from tests.money.test_reports import T0, _approved, pay
from tests.support import money
from tests.support.money import YUAN


def _pay(loop, worker) -> None:
    """The partner accepts the medical offer and pays it out in full (through the domain)."""
    session = db.session()
    partner = users.principal_of(session.query(User).filter_by(username=loop.partner).one())
    offers.accept(session, partner, loop.offer_ids[0])
    db.commit()
    payments.record_disbursement(
        session, partner, loop.offer_ids[0], amount_fen=123450, kind="cash", reference="YH-001"
    )
    db.commit()
    worker()
    db.session.remove()


@pytest.fixture
def paid(portal, loop, worker) -> None:
    """The medical offer paid out in full, and the auditor signed in to look at it."""
    _pay(loop, worker)
    portal.login(loop.auditor)


def test_dashboard_charts_are_accessible_svg_with_tables(portal, paid):
    """The dashboard draws each chart as inline SVG (role img, title, desc, labels as
    <text>) and repeats the numbers in a table; the disbursed amount is on the page."""
    html = portal.text("/auditor/")
    # Four on the money, one on balances per restriction, one on the families' voice, two
    # on how the loop closes (answer times, needs met at follow-up), two by region (per
    # district, then the streets of the one district).
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 10
    assert '<title id="by-region-title">各区县发放情况</title>' in html
    assert 'role="img"' in html
    assert 'aria-labelledby="by-category-title by-category-desc"' in html
    assert '<title id="by-partner-title">按合作方统计的发放</title>' in html
    assert re.search(r'<text class="chart-label"[^>]*>医疗援助</text>', html)
    assert re.search(r'<text class="chart-value"[^>]*>¥1,234\.50</text>', html)
    assert '<th scope="row">医疗援助</th><td class="num">¥1,234.50</td>' in html
    assert "<script" not in html


def test_each_possible_duplicate_shows_why_and_its_evidence(portal, make_user):
    """A charity's medical payment a week after medical assistance was approved is on the
    dashboard: why (in Chinese), the payment and the approved application it rests on."""
    s = db.session()
    federation = money.partner(s, "慈善总会", fund_fen=100_000 * YUAN)
    ill = money.household(s, money.grid(s))
    application_id = _approved(s, ill, "medical_aid", T0.date())
    pay(s, federation, ill, "medical", 20_000 * YUAN, [(20_000 * YUAN, 7)])
    db.commit()
    portal.login(make_user("auditor"))
    html = portal.text("/auditor/")
    assert "多方重复救助" in html
    assert "慈善总会 · ¥20,000.00" in html
    assert f'/caseworker/applications/{application_id}">医疗救助</a>' in html


def test_dashboard_with_no_money_says_so(portal, make_user):
    """With nothing disbursed yet the charts say there is nothing to show (no empty axes, no error)."""
    portal.login(make_user("auditor"))
    html = portal.text("/auditor/")
    assert "本时段没有数据" in html


def _section(html: str, section_id: str) -> str:
    found = re.search(rf'<section [^>]*id="{section_id}".*?</section>', html, flags=re.S)
    assert found, section_id
    return found.group(0)


def test_dashboard_period_filter(portal, paid):
    """Choosing a period in the past leaves this disbursement out (balances per
    restriction are as they stand today, whatever the period)."""
    assert "¥1,234.50" in portal.text("/auditor/")
    past = portal.text("/auditor/?since=2001-01-01&until=2001-12-31")
    assert "¥1,234.50" in _section(past, "restrictions")
    assert "¥1,234.50" not in past.replace(_section(past, "restrictions"), "")


def test_ledger_lists_and_filters_transactions(portal, paid):
    """The ledger shows the deposit, pledge and disbursement; filtering by kind keeps one kind."""
    html = portal.text("/auditor/ledger")
    assert "入账" in html
    assert "承诺" in html
    assert "发放" in html
    assert "¥20,000.00" in html
    assert "YH-001" in html
    only = portal.text("/auditor/ledger?kind=deposit")
    assert "¥20,000.00" in only
    assert "YH-001" not in only
    bad = portal.get("/auditor/ledger?since=not-a-date")
    assert bad.status_code == 200
    assert "请使用 YYYY-MM-DD 格式" in bad.get_data(as_text=True)


def test_audit_chain_status(portal, loop):
    """The audit chain page verifies the whole chain and the trial balance."""
    portal.login(loop.auditor)
    html = portal.text("/auditor/audit")
    assert "完整：已核验" in html
    assert "账目平衡" in html


def test_audit_chain_status_counts_erased_details(portal, loop):
    """Details masked by an erasure are counted on the chain page, the chain still intact."""
    from sqlalchemy import update

    from models import AuditDetail
    from models.base import utcnow

    db.session().execute(update(AuditDetail).where(AuditDetail.id == 1).values(after=None, erased_at=utcnow()))
    db.commit()
    portal.login(loop.auditor)
    html = portal.text("/auditor/audit")
    assert "完整：已核验" in html
    assert "1 条记录的明细已删除" in html


def test_exports_download_csv_and_xlsx(portal, paid):
    """The exports linked from the dashboard download as CSV (with BOM, for Excel) and XLSX."""
    html = portal.text("/auditor/")
    assert "/auditor/exports/ledger.csv" in html
    assert "/auditor/exports/disbursements-by-month.xlsx" in html
    csv = portal.get("/auditor/exports/ledger.csv")
    assert csv.status_code == 200
    assert csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert "YH-001" in csv.get_data(as_text=True)
    xlsx = portal.get("/auditor/exports/disbursements-by-category.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "医疗援助" in values
    assert portal.get("/auditor/exports/ledger.pdf").status_code == 404


def test_auditor_cannot_answer_offers(portal, loop):
    """Auditors read everything and change nothing: answering an offer is refused."""
    portal.login(loop.auditor)
    resp = portal.post(f"/partner/offers/{loop.offer_ids[0]}/accept", {"amount": ""})
    assert resp.status_code == 403


def test_partner_and_caseworker_cannot_open_the_dashboard(new_portal, loop):
    """The auditor's pages are refused to partners and caseworkers."""
    for username in (loop.partner, loop.caseworker):
        reader = new_portal()
        reader.login(username)
        assert reader.get("/auditor/").status_code == 403
        assert reader.get("/auditor/exports/ledger.csv").status_code == 403
